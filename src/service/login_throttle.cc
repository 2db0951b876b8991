#include "service/login_throttle.h"

#include <sodium.h>

#include <algorithm>
#include <utility>

namespace keyward {
namespace {

// A counter that expired counts as none, pruned or not.
void ForgetIfExpired(SignInCounter& c, UnixSeconds now) {
  if (c.expires_at <= now) c = {};
}

// One more failure. The failure that uses up the free ones locks for 1 s, the next for 2 s, then
// 4 s, ... at most `max_backoff`.
void Fail(SignInCounter& c, int free_failures, std::int64_t max_backoff, UnixSeconds now) {
  ++c.failures;
  const std::int64_t over = c.failures - free_failures;
  if (over >= 0) {
    std::int64_t backoff =
        over >= 30 ? max_backoff : std::min<std::int64_t>(max_backoff, std::int64_t{1} << over);
    // `now` is whole seconds: one more second makes sure a lock never ends sooner than its
    // backoff, however late in its second the failure came.
    c.locked_until = now + backoff + 1;
  }
  c.expires_at = std::max(now, c.locked_until) + LoginThrottle::kForgetAfter;
}

// One failure fewer (a counter at none is deleted by the store).
void TakeBack(SignInCounter& c, int free_failures) {
  if (--c.failures < free_failures) c.locked_until = 0;
}

}  // namespace

LoginThrottle::LoginThrottle(Store& store, int free_failures_per_name,
                             int free_failures_per_address, std::int64_t max_backoff,
                             std::string digest_key)
    : store_(store),
      free_per_name_(free_failures_per_name),
      free_per_address_(free_failures_per_address),
      max_backoff_(max_backoff),
      digest_key_(std::move(digest_key)) {}

LoginThrottle::~LoginThrottle() { sodium_memzero(digest_key_.data(), digest_key_.size()); }

std::string LoginThrottle::Digest(char kind, std::string_view text) const {
  // The kind byte keeps a user named "10.0.0.1" apart from the address 10.0.0.1.
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  auto* digest = reinterpret_cast<unsigned char*>(out.data());
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const auto* kind_byte = reinterpret_cast<const unsigned char*>(&kind);
  if (digest_key_.empty()) {
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    crypto_hash_sha256_update(&state, kind_byte, 1);
    crypto_hash_sha256_update(&state, bytes, text.size());
    crypto_hash_sha256_final(&state, digest);
    return out;
  }
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(digest_key_.data()),
                              digest_key_.size());
  crypto_auth_hmacsha256_update(&state, kind_byte, 1);
  crypto_auth_hmacsha256_update(&state, bytes, text.size());
  crypto_auth_hmacsha256_final(&state, digest);
  sodium_memzero(&state, sizeof state);
  return out;
}

std::vector<std::string> LoginThrottle::Subjects(std::string_view name,
                                                 std::string_view address) const {
  return {Digest('n', name), Digest('a', address)};
}

Result<std::int64_t> LoginThrottle::Admit(std::string_view name, std::string_view address,
                                          UnixSeconds now) {
  std::int64_t wait = 0;
  KW_RETURN_IF_ERROR(
      store_.UpdateSignInCounters(Subjects(name, address), [&](std::vector<SignInCounter>& c) {
        for (SignInCounter& one : c) ForgetIfExpired(one, now);
        const UnixSeconds until = std::max(c[0].locked_until, c[1].locked_until);
        // Refused attempts change nothing: they neither count nor extend a lock.
        wait = until > now ? until - now : 0;
        if (wait > 0) return false;
        Fail(c[0], free_per_name_, max_backoff_, now);
        Fail(c[1], free_per_address_, max_backoff_, now);
        return true;
      }));
  return wait;
}

Status LoginThrottle::RecordSuccess(std::string_view name, std::string_view address,
                                    UnixSeconds now) {
  return store_.UpdateSignInCounters(Subjects(name, address), [&](std::vector<SignInCounter>& c) {
    for (SignInCounter& one : c) ForgetIfExpired(one, now);
    c[0] = {};  // the name starts over
    TakeBack(c[1], free_per_address_);
    return true;
  });
}

Status LoginThrottle::Release(std::string_view name, std::string_view address, UnixSeconds now) {
  return store_.UpdateSignInCounters(Subjects(name, address), [&](std::vector<SignInCounter>& c) {
    for (SignInCounter& one : c) ForgetIfExpired(one, now);
    TakeBack(c[0], free_per_name_);
    TakeBack(c[1], free_per_address_);
    return true;
  });
}

}  // namespace keyward
