// Usage counting on one node (issue 16, acceptance 1 and 2), on SQLite: a known mix of allowed and
// denied requests at /auth and POST /api/v1/authorize, and what GET …/apikeys/{name}/usage says
// of it after a flush; then what kill -9 loses.
//
// The server runs with --last-used-interval 1s (the shortest the flag takes), so counts reach the
// store within a second or so; the tests poll the API for them instead of sleeping a fixed time,
// and once they are there check again after another flush that nothing was counted twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <set>
#include <thread>

#include "harness.h"
#include "load_client.h"
#include "usage_expect.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
using std::chrono::milliseconds;

constexpr const char* kInterval = "1s";

// The ```json example of docs/usage-and-limits.md.
json::value DocumentedUsage() {
  const std::string page = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/usage-and-limits.md");
  const auto start = page.find("```json\n");
  const auto end = page.find("```", start + 8);
  if (start == std::string::npos || end == std::string::npos) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(page.substr(start + 8, end - start - 8), ec);
  EXPECT_FALSE(ec) << "docs/usage-and-limits.md: the example is not JSON";
  return v;
}

// Fails the test where `real` differs in shape from `doc`: other members, another kind of value.
void ExpectSameShape(const json::value& doc, const json::value& real, const std::string& path) {
  ASSERT_EQ(doc.kind(), real.kind()) << path;
  if (doc.is_object()) {
    std::set<std::string> a, b;
    for (const auto& [k, v] : doc.as_object()) a.insert(k);
    for (const auto& [k, v] : real.as_object()) b.insert(k);
    ASSERT_EQ(a, b) << path;
    for (const auto& [k, v] : doc.as_object())
      ExpectSameShape(v, real.at(k), path + "." + std::string(k));
  } else if (doc.is_array() && !doc.as_array().empty() && !real.as_array().empty()) {
    ExpectSameShape(doc.as_array()[0], real.as_array()[0], path + "[0]");
  }
}

class UsageTest : public ::testing::Test {
 protected:
  void Start(const std::string& data_dir = "") {
    server_ = ServerProcess::Start({"--last-used-interval", kInterval}, data_dir);
    ASSERT_GT(server_->port(), 0);
    admin_ = server_->Login("admin", kAdminPassword);
    ASSERT_FALSE(admin_.empty());
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      ExpectNoSecretsIn({server_->log_path()});
    }
  }

  // A key of the admin's ("me") made through the API with `extra` members; "" unless 201.
  std::string MakeKey(const std::string& name, json::object extra = {}) {
    extra["name"] = name;
    HttpResult r = server_->As(admin_, "POST", "/api/v1/users/me/apikeys", extra);
    EXPECT_EQ(r.status, 201) << name << ": " << r.body;
    if (r.status != 201) return "";
    std::string token(r.Json().at("token").as_string());
    RememberSecret(token);
    if (extra.contains("duration"))
      expiration_ = std::string(r.Json().at("expiration").as_string());
    return token;
  }

  // GET /auth`query` with `key` as a client at `from` with `user_agent`.
  int Auth(const std::string& key, const std::string& query = "",
           const std::string& from = "127.0.0.1", const std::string& user_agent = "usage-test/1") {
    return CallFrom(from, server_->port(), "GET", "/auth" + query, "",
                    {{"Authorization", "Bearer " + key}, {"User-Agent", user_agent}})
        .status;
  }

  // POST /api/v1/authorize as the admin's session for `key` with `requirements`.
  HttpResult Authorize(const std::string& key, json::object requirements = {}) {
    requirements["token"] = key;
    return server_->As(admin_, "POST", "/api/v1/authorize", requirements);
  }
  // The outcome an authorize answer reports: "allowed", its reason, or "invalid".
  static std::string OutcomeOf(const HttpResult& r) {
    if (r.status == 429) return "rate_limited";
    if (r.status != 200) return "http " + std::to_string(r.status);
    json::value v = r.Json();
    if (v.at("allow").as_bool()) return "allowed";
    if (!v.at("valid").as_bool()) return "invalid";
    return std::string(v.at("reason").as_string());
  }

  // Waits until the usage of every key of `want` has as many requests in all as it expects
  // (flushed), then waits for one more flush, so that what is counted twice or late shows.
  void AwaitFlushed(const std::map<std::string, UsageTally>& want) {
    for (const auto& entry : want) {
      // Named, not bound: clang's C++20 captures no structured binding in a lambda.
      const std::string& name = entry.first;
      const UsageTally& expected = entry.second;
      json::value usage;
      const bool arrived = Eventually(
          [&] {
            usage = TryGetUsage(server_->port(), admin_, "me", name);
            return usage.is_object() && TallyOf(usage.at("totals")).Total() >= expected.Total();
          },
          std::chrono::seconds(10));
      EXPECT_TRUE(arrived) << name << ": " << expected.Total()
                           << " requests not all counted: " << usage;
    }
    std::this_thread::sleep_for(milliseconds(1300));
  }

  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
  std::string expiration_;  // of the last key made with a duration
};

// Every outcome a client can cause, at both entry points, counted exactly and in the right hour.
TEST_F(UsageTest, KnownMixGivesExactCountsPerHour) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::int64_t from = WallNow();
  std::map<std::string, UsageTally> want;
  // Short-lived first, so that it has expired by the time the rest is done.
  const std::string brief = MakeKey("brief", {{"duration", "2s"}});
  const std::string mixed = MakeKey("mixed");
  const std::string fenced = MakeKey("fenced", {{"allowed_addresses", json::array{"127.0.0.2"}}});
  const std::string off = MakeKey("off");
  const std::string limited =
      MakeKey("limited", {{"rate_limit", json::object{{"requests", 3}, {"per", "1h"}}}});
  const std::string rotated = MakeKey("rotated");
  ASSERT_FALSE(brief.empty() || mixed.empty() || fenced.empty() || off.empty() || limited.empty() ||
               rotated.empty());
  EXPECT_EQ(Auth(brief), 200);
  want["brief"].Add("allowed");

  // mixed: allowed, and refused for a scope or a tag it lacks.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Auth(mixed), 200);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Auth(mixed, "?scope=x"), 403);
  EXPECT_EQ(OutcomeOf(Authorize(mixed)), "allowed");
  EXPECT_EQ(OutcomeOf(Authorize(mixed)), "allowed");
  EXPECT_EQ(OutcomeOf(Authorize(mixed, {{"scopes", json::array{"x"}}})), "scope");
  EXPECT_EQ(OutcomeOf(Authorize(mixed, {{"scopes", json::array{"x"}}})), "scope");
  EXPECT_EQ(OutcomeOf(Authorize(mixed, {{"tags", json::array{"team:nope"}}})), "tag");
  want["mixed"].Add("allowed", 7);
  want["mixed"].Add("scope", 5);
  want["mixed"].Add("tag", 1);

  // fenced: usable from 127.0.0.2 only; authorize checks the address the gateway names.
  EXPECT_EQ(Auth(fenced, "", "127.0.0.2"), 200);
  EXPECT_EQ(Auth(fenced, "", "127.0.0.2"), 200);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Auth(fenced, "", "127.0.0.3"), 403);
  EXPECT_EQ(OutcomeOf(Authorize(fenced, {{"address", "10.9.8.7"}})), "address");
  EXPECT_EQ(OutcomeOf(Authorize(fenced, {{"address", "10.9.8.7"}})), "address");
  EXPECT_EQ(OutcomeOf(Authorize(fenced, {{"address", "127.0.0.2"}})), "allowed");
  want["fenced"].Add("allowed", 3);
  want["fenced"].Add("address", 5);

  // off: used once, then disabled; a disabled key is refused like an unknown one (401,
  // "invalid" to authorize) but counted as disabled.
  EXPECT_EQ(Auth(off), 200);
  ASSERT_EQ(
      server_->As(admin_, "PATCH", "/api/v1/users/me/apikeys/off", {{"disabled", true}}).status,
      200);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Auth(off), 401);
  EXPECT_EQ(OutcomeOf(Authorize(off)), "invalid");
  want["off"].Add("allowed");
  want["off"].Add("disabled", 4);

  // limited: 3 per hour, shared by /auth and authorize; the refused take no token.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Auth(limited), 200);
  EXPECT_EQ(Auth(limited), 429);
  EXPECT_EQ(Auth(limited, "?scope=x"), 403);  // requirements first: a scope refusal, no token
  EXPECT_EQ(OutcomeOf(Authorize(limited)), "rate_limited");
  EXPECT_EQ(OutcomeOf(Authorize(limited)), "rate_limited");
  want["limited"].Add("allowed", 3);
  want["limited"].Add("rate_limited", 3);
  want["limited"].Add("scope", 1);

  // rotated: its old secret is accepted for a grace of 1 s (plus one writer interval), then
  // refused as a retired secret: "revoked". Both count on the key.
  EXPECT_EQ(Auth(rotated), 200);
  HttpResult rotation =
      server_->As(admin_, "POST", "/api/v1/users/me/apikeys/rotated/rotate", {{"grace", "1s"}});
  ASSERT_EQ(rotation.status, 201) << rotation.body;
  RememberSecret(std::string(rotation.Json().at("token").as_string()));
  want["rotated"].Add("allowed");

  // brief, once expired: every answer told apart by its status (200 before, 401 after).
  std::tm tm{};
  ASSERT_NE(::strptime(expiration_.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << expiration_;
  const auto expires = std::chrono::system_clock::from_time_t(::timegm(&tm));
  std::this_thread::sleep_until(expires + milliseconds(1100));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Auth(brief), 401);
  EXPECT_EQ(OutcomeOf(Authorize(brief)), "invalid");
  want["brief"].Add("expired", 4);

  // rotated's old secret until it is refused, and twice more.
  EXPECT_TRUE(Eventually(
      [&] {
        const int status = Auth(rotated);
        want["rotated"].Add(status == 200 ? "allowed" : status == 401 ? "revoked" : "other");
        return status != 200;
      },
      std::chrono::seconds(5)));
  for (int i = 0; i < 2; ++i) EXPECT_EQ(Auth(rotated), 401);
  want["rotated"].Add("revoked", 2);
  EXPECT_EQ(want["rotated"].Of("other"), 0);

  // The last client of mixed: over a second after its earlier uses (the client is recorded at
  // most once a second per key).
  EXPECT_EQ(Auth(mixed, "", "127.0.0.6", "usage-test/final"), 200);
  want["mixed"].Add("allowed");
  const std::int64_t to = WallNow();

  AwaitFlushed(want);
  for (const auto& [name, expected] : want) {
    json::value usage = GetUsage(server_->port(), admin_, "me", name);
    ExpectUsage(usage, expected, from, to, name);
    if (!usage.is_object()) continue;
    EXPECT_TRUE(usage.at("first_used").is_string()) << name << ": " << usage;
    // A rotation starts the key's last use afresh (its new secret was never used).
    if (name != "rotated") {
      EXPECT_TRUE(usage.at("last_used").is_string()) << name << ": " << usage;
    }
  }
  json::value mixed_usage = GetUsage(server_->port(), admin_, "me", "mixed");
  ASSERT_TRUE(mixed_usage.is_object());
  EXPECT_EQ(mixed_usage.at("last_address"), "127.0.0.6") << mixed_usage;
  EXPECT_EQ(mixed_usage.at("last_user_agent"), "usage-test/final") << mixed_usage;
  // The same, as the key list shows it.
  HttpResult list = server_->As(admin_, "GET", "/api/v1/users/me/apikeys");
  ASSERT_EQ(list.status, 200) << list.body;
  int listed = 0;
  const json::value keys = list.Json();
  ASSERT_TRUE(keys.is_array()) << list.body;
  for (const auto& k : keys.as_array()) {
    if (k.at("name") != "mixed") continue;
    ++listed;
    EXPECT_EQ(k.at("last_address"), "127.0.0.6") << k;
  }
  EXPECT_EQ(listed, 1) << list.body;
  // The documented example has the shape of this real answer.
  ExpectSameShape(DocumentedUsage(), mixed_usage, "usage");
  // A key never presented has no first use and no client.
  ASSERT_FALSE(MakeKey("unused").empty());
  json::value unused = GetUsage(server_->port(), admin_, "me", "unused");
  ASSERT_TRUE(unused.is_object());
  EXPECT_EQ(TallyOf(unused.at("totals")).Total(), 0);
  EXPECT_TRUE(unused.at("first_used").is_null()) << unused;
  EXPECT_TRUE(unused.at("last_address").is_null()) << unused;
  EXPECT_TRUE(unused.at("last_user_agent").is_null()) << unused;
}

// kill -9 loses at most what was counted since the last flush, and nothing else. The test does
// not guess when flushes happen (the writer runs at low priority and a busy machine delays it):
// it watches the usage API while requests flow and kills the server just after it sees a flush
// land. The flush before that one landed after the start of the last poll that did not see it
// (P), and the writer takes a flush's counts only after the previous flush landed: so every
// request answered before P was in a flush that landed before the kill, and must survive. What
// is lost is at most the requests since P: about one flush period, printed.
TEST_F(UsageTest, KillNineLosesAtMostOneFlushInterval) {
  const std::string data_dir = MakeTempDir();
  ASSERT_NO_FATAL_FAILURE(Start(data_dir));
  const std::string key = MakeKey("steady");
  ASSERT_FALSE(key.empty());
  KeepAliveClient client(server_->port());
  const Headers bearer = {{"Authorization", "Bearer " + key}};
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.Send("GET", "/auth", bearer).status, 200);
  UsageTally flushed;
  flushed.Add("allowed", 20);
  AwaitFlushed({{"steady", flushed}});
  ExpectUsage(GetUsage(server_->port(), admin_, "me", "steady"), flushed, WallNow() - 60, WallNow(),
              "flushed");

  // Requests every 10 ms (at most 1,000), each noted with the time its answer came, until the
  // server is gone.
  constexpr int kMaxRequests = 1000;
  std::vector<LoadClock::time_point> answered(kMaxRequests);
  std::atomic<int> answered_count{0};
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    const auto start = LoadClock::now();
    for (int i = 0; i < kMaxRequests && !stop.load(); ++i) {
      std::this_thread::sleep_until(start + milliseconds(10 * i));
      if (client.Send("GET", "/auth", bearer).status != 200) break;
      answered[static_cast<std::size_t>(i)] = LoadClock::now();
      answered_count.store(i + 1);
    }
  });
  // Polls the count; after 100 requests, waits for two flushes to land, and kills at the second.
  std::int64_t seen = 20;
  LoadClock::time_point old_poll_start{};  // P: the last poll that did not see the first flush
  LoadClock::time_point poll_start = LoadClock::now();
  int landed = 0;
  const auto deadline = LoadClock::now() + std::chrono::seconds(20);
  while (landed < 2 && LoadClock::now() < deadline) {
    const auto this_poll = LoadClock::now();
    const json::value usage = TryGetUsage(server_->port(), admin_, "me", "steady", "since=2h");
    if (usage.is_object()) {
      const std::int64_t now_seen = TallyOf(usage.at("totals")).Of("allowed");
      if (now_seen != seen && answered_count.load() >= 100) {
        if (++landed == 1) old_poll_start = poll_start;
      }
      seen = now_seen;
      poll_start = this_poll;
    }
    if (landed < 2) std::this_thread::sleep_for(milliseconds(25));
  }
  server_->Kill();
  const auto killed = LoadClock::now();
  stop.store(true);
  sender.join();
  server_.reset();
  ASSERT_EQ(landed, 2) << "no two flushes in 20 s";
  const int sent = answered_count.load();
  const auto safe = static_cast<std::int64_t>(std::count_if(
      answered.begin(), answered.begin() + sent, [&](auto t) { return t < old_poll_start; }));
  const double window =
      std::chrono::duration<double>(killed - old_poll_start).count();  // ~one flush period

  ASSERT_NO_FATAL_FAILURE(Start(data_dir));
  json::value usage = GetUsage(server_->port(), admin_, "me", "steady", "since=2h");
  ASSERT_TRUE(usage.is_object());
  const std::int64_t counted = TallyOf(usage.at("totals")).Of("allowed");
  std::printf(
      "kill -9: %lld of %d counted (at least %lld required: all but the last %.2f s, the flush "
      "interval being 1 s); %lld seen by the API before the kill\n",
      static_cast<long long>(counted), 20 + sent, static_cast<long long>(safe) + 20, window,
      static_cast<long long>(seen));
  EXPECT_GE(counted, seen) << "lost counts that had been written";
  EXPECT_GE(counted, 20 + safe) << "lost more than the counts since the last flush";
  // The one request that may have been in flight: counted and written, its answer never sent.
  EXPECT_LE(counted, 20 + sent + 1) << "counted requests never sent";
  EXPECT_EQ(TallyOf(usage.at("totals")).Total(), counted) << "only allowed requests were sent";

  // A clean stop (SIGTERM) writes what is pending: nothing is lost.
  KeepAliveClient again(server_->port());
  for (int i = 0; i < 15; ++i) ASSERT_EQ(again.Send("GET", "/auth", bearer).status, 200);
  server_->Stop();
  ExpectNoSecretsIn({server_->log_path()});
  server_.reset();
  ASSERT_NO_FATAL_FAILURE(Start(data_dir));
  usage = GetUsage(server_->port(), admin_, "me", "steady", "since=2h");
  ASSERT_TRUE(usage.is_object());
  EXPECT_EQ(TallyOf(usage.at("totals")).Of("allowed"), counted + 15) << "lost at a clean stop";
  server_->Stop();
  ExpectNoSecretsIn({server_->log_path()});
  server_.reset();
  RemoveTree(data_dir);
}

}  // namespace
}  // namespace keyward::testing
