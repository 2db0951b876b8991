#include "service/webhook_dispatcher.h"

#include <curl/curl.h>
#include <sodium.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "common/libcurl_loader.h"
#include "common/log.h"
#include "common/random.h"
#include "common/shared_library.h"
#include "common/thread_annotations.h"
#include "service/key_events.h"
#include "service/webhook_target.h"

namespace keyward {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::int64_t kMaxBackoffSeconds = 3600;
// Deliveries a worker claims at a time: one, so that the others take the next ones meanwhile
// and no claimed delivery waits behind another attempt while its lease runs.
constexpr int kClaimBatch = 1;

// What one POST came to.
struct PostResult {
  int status = 0;     // HTTP status; 0 when there was no answer
  std::string error;  // "" after a 2xx; short, no URL, no secret
};

// The state the socket callback sees.
struct SocketGuard {
  bool check = true;
  bool refused = false;
};

// CURLOPT_OPENSOCKETFUNCTION: every address libcurl is about to connect to, after resolution.
curl_socket_t OpenCheckedSocket(void* data, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* guard = static_cast<SocketGuard*>(data);
  if (guard->check && IsForbiddenAddress(&address->addr, address->addrlen)) {
    guard->refused = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

std::size_t DiscardBody(char* /*data*/, std::size_t size, std::size_t count, void* /*user*/) {
  return size * count;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

std::string ErrorOfStatus(long status) {
  std::string error = "HTTP " + std::to_string(status);
  if (status >= 300 && status < 400) error += " (redirects are not followed)";
  return error;
}

// POSTs `body` with `headers` to `url` as the header of webhook_dispatcher.h says.
PostResult Post(const std::string& url, const std::vector<std::string>& headers,
                const std::string& body, const WebhookOptions& options) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return {0, "cannot start an HTTP client"};
  std::unique_ptr<curl_slist, HeaderListDeleter> list;
  for (const std::string& h : headers) {
    curl_slist* grown = curl_slist_append(list.get(), h.c_str());
    if (grown == nullptr) return {0, "out of memory"};
    (void)list.release();
    list.reset(grown);
  }
  SocketGuard guard{.check = !options.allow_private};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, DiscardBody);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // no proxy, whatever *_proxy says
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  // A URL stored before --webhook-require-https was turned on is refused now.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, options.require_https ? "https" : "http,https");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout_ms));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, OpenCheckedSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &guard);
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_off_t connect_us = 0;
  curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connect_us);
  // A host with a forbidden and a public address: libcurl skips the refused socket and tries
  // the next address. Only when no connection was made is the attempt "refused"; otherwise its
  // own outcome stands (a delivery to the public address is a success, not a retry).
  const bool connected = rc == CURLE_OK || status != 0 || connect_us > 0;
  if (guard.refused && !connected) {
    return {0, "refused: the host is or resolves to a non-public address"};
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) return {static_cast<int>(status), "timed out"};
  if (rc == CURLE_UNSUPPORTED_PROTOCOL) return {0, "refused: the URL is not https"};
  if (rc != CURLE_OK) return {static_cast<int>(status), curl_easy_strerror(rc)};
  if (status >= 200 && status < 300) return {static_cast<int>(status), ""};
  return {static_cast<int>(status), ErrorOfStatus(status)};
}

// retry_min · 2^(attempt−1) seconds, ±20 %, at least 1 s and at most an hour.
std::int64_t Backoff(std::int64_t retry_min, int attempt) {
  const double base = static_cast<double>(std::max<std::int64_t>(retry_min, 1)) *
                      std::pow(2.0, std::min(attempt - 1, 30));
  const double jitter = 0.8 + 0.4 * (randombytes_uniform(1001) / 1000.0);
  const double seconds = std::min(base * jitter, static_cast<double>(kMaxBackoffSeconds));
  return std::max<std::int64_t>(1, std::llround(seconds));
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Without libcurl no delivery can be made: a configuration error at start, not an abort later.
    if (Status loaded = LoadLibcurl(); !loaded.ok()) LibraryMissing(loaded);
    curl_global_init(CURL_GLOBAL_DEFAULT);
  });
}

}  // namespace

Result<std::string> SignWebhook(std::string_view secret, std::string_view message_id,
                                std::int64_t timestamp, std::string_view body) {
  if (secret.substr(0, kSecretPrefix.size()) != kSecretPrefix) {
    return Status::InvalidArgument("a webhook secret starts with whsec_");
  }
  const std::string_view encoded = secret.substr(kSecretPrefix.size());
  std::string key(encoded.size(), '\0');
  std::size_t key_size = 0;
  auto decode = [&](int variant) {
    return sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                             encoded.data(), encoded.size(), nullptr, &key_size, nullptr,
                             variant) == 0;
  };
  // Padded as this server writes them; unpadded as some other senders do.
  if (encoded.empty() || (!decode(sodium_base64_VARIANT_ORIGINAL) &&
                          !decode(sodium_base64_VARIANT_ORIGINAL_NO_PADDING))) {
    return Status::InvalidArgument("a webhook secret is whsec_ and base64");
  }
  key.resize(key_size);
  const std::string signed_text =
      std::string(message_id) + "." + std::to_string(timestamp) + "." + std::string(body);
  crypto_auth_hmacsha256_state state;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signed_text.data()),
                                signed_text.size());
  crypto_auth_hmacsha256_final(&state, mac);
  sodium_memzero(&state, sizeof state);
  SecureWipe(key);
  std::string out(sodium_base64_ENCODED_LEN(sizeof mac, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return "v1," + out;
}

std::string NewWebhookSecret() {
  std::string bytes = RandomBytes(32);
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  SecureWipe(bytes);
  return std::string(kSecretPrefix) + out;
}

struct WebhookDispatcher::Impl {
  Impl(Store& s, const MasterKey* key, const WebhookOptions& o, const Clock& c)
      : store(s), master_key(key), options(o), clock(c) {}

  std::size_t Drain();
  bool Stopping() {
    MutexLock lock(mu);
    return stopping;
  }
  void Attempt(const Delivery& delivery);
  DeliveryOutcome Outcome(const Delivery& delivery, const PostResult& result) const;
  void Work();

  Store& store;
  const MasterKey* const master_key;
  const WebhookOptions options;
  const Clock& clock;
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> retried{0};
  std::atomic<std::uint64_t> failed{0};
  Mutex mu;
  CondVar wake;
  std::uint64_t nudges GUARDED_BY(mu) = 0;
  bool stopping GUARDED_BY(mu) = false;
  std::vector<std::thread> workers;  // started last, joined by Stop
};

// Claims and attempts deliveries until none is due; returns how many were attempted.
std::size_t WebhookDispatcher::Impl::Drain() {
  if (master_key == nullptr) return 0;
  const std::int64_t timeout_s = (options.timeout_ms + 999) / 1000;
  std::size_t attempted = 0;
  while (!Stopping()) {
    const UnixSeconds now = clock.Now();
    auto claimed = store.ClaimDeliveries(now, now + 2 * timeout_s + 5, kClaimBatch);
    if (!claimed.ok()) {
      log::Warn("webhooks: cannot claim deliveries: {}", claimed.status().ToString());
      return attempted;
    }
    if (claimed->empty()) return attempted;
    for (const Delivery& delivery : *claimed) {
      Attempt(delivery);
      ++attempted;
    }
  }
  return attempted;
}

void WebhookDispatcher::Impl::Attempt(const Delivery& delivery) {
  PostResult result;
  auto secret = master_key->Open(delivery.sealed_secret, delivery.webhook_id);
  if (!secret.ok()) {
    result.error = "the webhook's secret does not open with this server's master key";
  } else {
    const std::string body = EventPayload(delivery.event);
    const std::string message_id = MessageId(delivery.event.id);
    const UnixSeconds timestamp = clock.Now();
    auto signature = SignWebhook(*secret, message_id, timestamp, body);
    SecureWipe(*secret);
    if (!signature.ok()) {
      result.error = "the webhook's secret is malformed";
    } else {
      const std::vector<std::string> headers = {
          "Content-Type: application/json",   "User-Agent: keyward-webhooks",
          "webhook-id: " + message_id,        "webhook-timestamp: " + std::to_string(timestamp),
          "webhook-signature: " + *signature, "Expect:"};
      result = Post(delivery.url, headers, body, options);
    }
  }
  const DeliveryOutcome outcome = Outcome(delivery, result);
  switch (outcome.state) {
    case DeliveryState::kDelivered:
      ++delivered;
      break;
    case DeliveryState::kPending:
      ++retried;
      break;
    case DeliveryState::kFailed:
      ++failed;
      log::Warn("webhooks: gave up delivering {} to {} after {} attempts: {}",
                MessageId(delivery.event.id), delivery.webhook_id, delivery.attempts + 1,
                outcome.error);
      break;
  }
  Status finished = store.FinishDelivery(delivery.id, outcome);
  if (!finished.ok() && finished.code() != StatusCode::kNotFound) {  // NotFound: webhook deleted
    log::Warn("webhooks: cannot record delivery {}: {}", delivery.id, finished.ToString());
  }
}

DeliveryOutcome WebhookDispatcher::Impl::Outcome(const Delivery& delivery,
                                                 const PostResult& result) const {
  DeliveryOutcome outcome;
  const UnixSeconds now = clock.Now();
  outcome.attempted_at = now;
  outcome.status = result.status;
  outcome.error = result.error;
  if (result.error.empty()) {
    outcome.state = DeliveryState::kDelivered;
    return outcome;
  }
  const UnixSeconds deadline = delivery.event.time + options.retry_for;
  if (now >= deadline) {
    outcome.state = DeliveryState::kFailed;
    return outcome;
  }
  outcome.state = DeliveryState::kPending;
  const UnixSeconds next = now + Backoff(options.retry_min, delivery.attempts + 1);
  outcome.next_attempt_at = std::max(now + 1, std::min(next, deadline));
  return outcome;
}

void WebhookDispatcher::Impl::Work() {
  std::uint64_t seen = 0;
  for (;;) {
    {
      MutexLock lock(mu);
      if (stopping) return;
      seen = nudges;
    }
    Drain();
    MutexLock lock(mu);
    wake.WaitFor(mu, std::chrono::seconds(1), [&] {
      mu.AssertHeld();
      return stopping || nudges != seen;
    });
  }
}

WebhookDispatcher::WebhookDispatcher(Store& store, const MasterKey* master_key,
                                     const WebhookOptions& options, const Clock& clock)
    : impl_(std::make_unique<Impl>(store, master_key, options, clock)) {
  InitCurlOnce();
  if (master_key == nullptr) return;
  for (int i = 0; i < options.workers; ++i) impl_->workers.emplace_back([this] { impl_->Work(); });
}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

void WebhookDispatcher::Nudge() {
  MutexLock lock(impl_->mu);
  ++impl_->nudges;
  impl_->wake.NotifyAll();
}

std::size_t WebhookDispatcher::RunOnce() { return impl_->Drain(); }

void WebhookDispatcher::Stop() {
  {
    MutexLock lock(impl_->mu);
    impl_->stopping = true;
    impl_->wake.NotifyAll();
  }
  for (std::thread& t : impl_->workers) {
    if (t.joinable()) t.join();
  }
  impl_->workers.clear();
}

WebhookCounters WebhookDispatcher::Counters() const {
  return {impl_->delivered.load(), impl_->retried.load(), impl_->failed.load()};
}

}  // namespace keyward
