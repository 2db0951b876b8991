// A test world for ApiHandler without sockets: the real services on a SQLite store in a
// temporary folder (in memory where possible), wired by the composition root (app/service_graph.h)
// as the server wires them, and a way to send one request and wait for its response.
//
// The token issuer is on unless asked otherwise (issuer http://keyward.test, audiences "pulsar"
// (the default), "trino;typ=JWT" and "gateway", the last for /auth), its first signing key made at
// start. Webhooks may point at loopback (--webhook-allow-private) and an attempt gives up after
// 1 s, so that a delivery to http://127.0.0.1:1/ (refused at once) never holds up a test.
//
// Users: "admin" (operator), "alice" and "bob" (plain users; alice has the tag "team:x"), each
// with an API key named "<id>-key" whose token is in `tokens`. Those keys are full access, as
// keys made before scopes are: each has its user's whole power, as a session has. Keys with a
// grant come from CreateKey or the API. Not thread safe: one test thread.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/config.h"
#include "app/service_graph.h"
#include "common/random.h"
#include "common/status_matchers.h"
#include "common/thread_annotations.h"
#include "core/api_key.h"
#include "core/master_key.h"
#include "store/sqlite/sqlite_store.h"

namespace keyward {

// One response, and on which thread it was sent.
// NOLINTNEXTLINE(bugprone-exception-escape): a test value; copying its Response may throw.
struct Answer {
  http::Response response;
  std::thread::id sent_on;
  bool before_handle_returned =
      false;  // sent before Handle() returned (a blocking thread may be as quick)

  int status() const { return static_cast<int>(response.result_int()); }
  std::string header(http::beast_http::field f) const {
    auto it = response.find(f);
    return it == response.end() ? "" : std::string(it->value());
  }
};

// Receives the one response of one request, from whichever thread the handler answers on.
class CapturingSink final : public http::detail::ResponseSink {
 public:
  void Send(http::Response&& response) override {
    MutexLock lock(mu_);
    answer_ = Answer{std::move(response), std::this_thread::get_id(), !handle_returned_};
    done_.NotifyAll();
  }
  void HandleReturned() {
    MutexLock lock(mu_);
    handle_returned_ = true;
  }
  std::optional<Answer> Wait(std::chrono::seconds timeout) {
    MutexLock lock(mu_);
    done_.WaitFor(mu_, timeout, [this] {
      mu_.AssertHeld();
      return answer_.has_value();
    });
    return std::move(answer_);
  }

 private:
  Mutex mu_;
  CondVar done_;
  bool handle_returned_ GUARDED_BY(mu_) = false;
  std::optional<Answer> answer_ GUARDED_BY(mu_);
};

// A fresh folder in memory (/dev/shm) when there is one, else under $TMPDIR; removed with its
// contents when destroyed. SQLite commits with synchronous=FULL: on a disk, the fsyncs of
// setting up a world would take most of these tests' time, and they are not what is tested.
class MemoryTempDir {
 public:
  MemoryTempDir() {
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec)
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    std::string pattern = (base / "kw_api_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  MemoryTempDir(const MemoryTempDir&) = delete;
  MemoryTempDir& operator=(const MemoryTempDir&) = delete;
  ~MemoryTempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline constexpr std::string_view kTestIssuer = "http://keyward.test";

class ApiWorld {
 public:
  // `issuer`: false runs the world with the token issuer off (its routes answer 404).
  // `configure` may change the Config before the graph is built.
  explicit ApiWorld(bool issuer = true, const std::function<void(Config&)>& configure = {})
      : graph_(SmallConfig(issuer, configure), Open(dir_), MasterKey::FromBytes(master_bytes_),
               Clock::System()) {
    root_.id = "test-root";
    root_.tags = {std::string(kOperatorTag)};
    for (const char* id : {"admin", "alice", "bob"}) {
      EXPECT_THAT(
          graph_.users().Create(
              root_, NewUser{.id = id, .name = id, .type = "person", .password = std::nullopt}),
          IsOk());
      tokens[id] = AddFullAccessKey(id, std::string(id) + "-key");
    }
    EXPECT_THAT(graph_.users().AddTag(root_, "admin", kOperatorTag), IsOk());
    EXPECT_THAT(graph_.users().AddTag(root_, "alice", "team:x"), IsOk());
    EXPECT_THAT(graph_.Start(), IsOk());
    graph_.cache().Clear();  // every world starts with the cache cold
  }

  // A user `id` (a person, no password) with `tags`, made outside any request.
  void AddUser(const std::string& id, const std::vector<std::string>& tags = {}) {
    EXPECT_THAT(
        graph_.users().Create(
            root_, NewUser{.id = id, .name = id, .type = "person", .password = std::nullopt}),
        IsOk());
    for (const std::string& tag : tags) EXPECT_THAT(graph_.users().AddTag(root_, id, tag), IsOk());
  }

  // Stores a key as keys made before scopes are (full access, valid for the default validity)
  // and returns it.
  std::string AddFullAccessKey(const std::string& user_id, const std::string& name) {
    return AddKey(user_id, name, FullAccess());
  }

  // Stores a key with `grant` (and `rate_limit`) as it is, valid for the default validity, and
  // returns it: a key the service would not make now can still exist (its owner lost the
  // operator tag since).
  std::string AddKey(const std::string& user_id, const std::string& name, const Grant& grant,
                     const RateLimit& rate_limit = {}) {
    std::string token = GenerateKey(graph_.options().key_prefix);
    KeyRecord record;
    record.user_id = user_id;
    record.name = name;
    record.hash = HashKey(token);
    record.sealed = MasterKey::FromBytes(master_bytes_).Seal(token, record.hash);
    record.masked = MaskKey(token);
    record.created_at = Clock::System().Now();
    record.expires_at = record.created_at + graph_.options().default_validity;
    record.grant = grant;
    record.rate_limit = rate_limit;
    EXPECT_THAT(graph_.store().CreateKey(record), IsOk());
    return token;
  }

  // A signed-in session of `user_id` (full power), stored as POST /login stores it.
  std::string NewSession(const std::string& user_id) {
    std::string token = GenerateKey(graph_.options().key_prefix);
    const UnixSeconds now = Clock::System().Now();
    EXPECT_THAT(graph_.store().CreateSession(SessionRecord{.user_id = user_id,
                                                           .hash = HashKey(token),
                                                           .created_at = now,
                                                           .expires_at = now + 3600}),
                IsOk());
    return token;
  }

  // A key for `user_id` made by KeyService::Create, by a caller with full power.
  Result<KeyView> CreateKey(const std::string& user_id, const NewKey& in) {
    return graph_.keys().Create(root_, user_id, in);
  }

  // A webhook made by an operator outside any request; returns its id ("" on failure).
  std::string AddWebhook(const std::string& url = "http://127.0.0.1:1/hook") {
    auto created =
        graph_.webhooks().Create(root_, NewWebhook{.url = url, .events = {}, .users = {}});
    EXPECT_THAT(created, IsOk());
    return created.ok() ? created->webhook.id : std::string();
  }

  // Sends `request` from `peer` (an IP address) and waits (5 s at most) for the response.
  std::optional<Answer> Send(http::Request request, const std::string& peer = "127.0.0.1") {
    auto sink = std::make_shared<CapturingSink>();
    request.prepare_payload();
    graph_.api().Handle(std::move(request), http::Peer{.address = peer, .port = 40000},
                        http::Responder(sink));
    sink->HandleReturned();
    return sink->Wait(std::chrono::seconds(5));
  }

  const Router& router() { return graph_.api().router(); }
  ServiceGraph& graph() { return graph_; }
  KeyCache& cache() { return graph_.cache(); }
  Store& store() { return graph_.store(); }

  std::map<std::string, std::string> tokens;  // user id → API key

 private:
  // The server's defaults, with a small blocking pool.
  static Config SmallConfig(bool issuer, const std::function<void(Config&)>& configure) {
    Config config;
    config.blocking_threads = 2;
    config.blocking_queue = 64;
    config.webhooks.allow_private = true;
    config.webhooks.timeout_ms = 1000;
    config.webhooks.workers = 1;
    if (issuer) {
      config.token.issuer = std::string(kTestIssuer);
      config.token.issuer_allow_http = true;
      config.token.audiences = {
          {.name = "pulsar"}, {.name = "trino", .typ = "JWT"}, {.name = "gateway"}};
      config.token.gateway_audiences = {"gateway"};
    }
    if (configure) configure(config);
    return config;
  }
  static std::unique_ptr<Store> Open(const MemoryTempDir& dir) {
    auto store = OpenSqliteStore(dir.File("keyward.db"));
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(store).value() : nullptr;
  }

  MemoryTempDir dir_;  // first in, last out
  const std::string master_bytes_ = RandomBytes(MasterKey::kBytes);
  User root_;  // a caller with full power, outside any request
  ServiceGraph graph_;
};

// A request as a client would send it; `token`, when not empty, as "Authorization: Bearer".
inline http::Request MakeRequest(http::beast_http::verb method, const std::string& target,
                                 std::string body = "", const std::string& token = "") {
  http::Request req{method, target, 11};
  req.set(http::beast_http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::beast_http::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    req.set(http::beast_http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  return req;
}

}  // namespace keyward
