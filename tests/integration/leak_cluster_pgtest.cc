// The leak report endpoint on two keyward nodes sharing one PostgreSQL (issue 17, acceptance 5):
// a live key, used on both nodes (so cached on both), reported at node A's POST /api/v1/leaks is
// refused at once by A and, through the store's NOTIFY, by B; the key.leaked delivery reaches a
// webhook receiver with the URL masked. A flood from one address is throttled (429 with
// Retry-After), each node counting its own; garbage and oversized bodies get 400 and 413, and
// nothing a reporter sends gets a 5xx.
//
// "At once" on B is measured from A's answer to the first 401 B gives, polling B's /auth without
// pause, and bounded by 1 s.
//
// Needs the server `scripts/with-postgres` starts; without KEYWARD_TEST_PG_URL it is skipped.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "backend_fixture.h"
#include "harness.h"
#include "webhook_receiver.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

const std::vector<std::pair<std::string, std::string>> kJson = {
    {"Content-Type", "application/json"}};

// {"tokens": [{"token": token, "url": url}]}
std::string Report(const std::string& token, const std::string& url) {
  return json::serialize(
      json::object{{"tokens", json::array{json::object{{"token", token}, {"url", url}}}}});
}

int Auth(std::uint16_t port, const std::string& key) {
  return Call(port, "GET", "/auth", "", {{"Authorization", "Bearer " + key}}).status;
}

// "kw_AbCd…wXyZ": what the server shows of a key (core/api_key.h MaskKey).
std::string Masked(const std::string& key) {
  return key.substr(0, 7) + "\xE2\x80\xA6" + key.substr(key.size() - 4);
}

class LeakClusterTest : public PostgresClusterTest {
 protected:
  LeakClusterTest() : PostgresClusterTest("kw_leaks_") {}
};

TEST_F(LeakClusterTest, ReportedKeyIsRefusedAtOnceOnBothNodesAndAnnounced) {
  WebhookReceiver receiver;
  ASSERT_NO_FATAL_FAILURE(StartBoth(
      {"--webhook-allow-private", "--webhook-retry-min", "1s", "--webhook-timeout", "2s"}));
  HttpResult hook = a_->As(admin_a_, "POST", "/api/v1/webhooks",
                           {{"url", receiver.Url()}, {"events", json::array{"key.leaked"}}});
  ASSERT_EQ(hook.status, 201) << hook.body;
  RememberSecret(std::string(hook.Json().at("secret").as_string()));
  const std::string key = a_->NewKey(admin_a_, "admin", "leaky", "1h");
  ASSERT_FALSE(key.empty());
  for (int i = 0; i < 2; ++i) {  // the second use is a cache hit on each node
    ASSERT_EQ(Auth(a_->port(), key), 200);
    ASSERT_EQ(Auth(b_->port(), key), 200);
  }

  const std::string url = "https://git.example/o/r/blob/main/app.js?token=" + key;
  HttpResult reported =
      CallFrom("127.0.0.5", a_->port(), "POST", "/api/v1/leaks", Report(key, url), kJson);
  const auto answered = SteadyClock::now();
  ASSERT_EQ(reported.status, 200) << reported.body;
  EXPECT_EQ(reported.Json(), json::parse(R"({"received":1,"live":1})"));
  EXPECT_EQ(Auth(a_->port(), key), 401) << "node A refuses it as soon as it answered";
  int polls = 0;
  bool refused = false;
  while (SteadyClock::now() - answered < std::chrono::seconds(1)) {
    ++polls;
    if (Auth(b_->port(), key) == 401) {
      refused = true;
      break;
    }
  }
  const double on_b_ms =
      std::chrono::duration<double, std::milli>(SteadyClock::now() - answered).count();
  std::printf("node B refused the reported key %.1f ms after node A answered (%d polls)\n", on_b_ms,
              polls);
  EXPECT_TRUE(refused) << "node B still accepts the key 1 s after the report";

  ASSERT_TRUE(receiver.WaitFor([](const std::vector<ReceivedHook>& got) { return !got.empty(); },
                               std::chrono::seconds(10)))
      << "no key.leaked delivery";
  const ReceivedHook delivery = receiver.Received().front();
  EXPECT_EQ(delivery.Type(), "key.leaked");
  EXPECT_EQ(delivery.Data("user"), "admin");
  EXPECT_EQ(delivery.Data("name"), "leaky");
  EXPECT_EQ(delivery.Data("action"), "revoked");
  EXPECT_EQ(delivery.Data("reporter_address"), "127.0.0.5");
  EXPECT_EQ(delivery.Data("url"), "https://git.example/o/r/blob/main/app.js?token=" + Masked(key));
  EXPECT_EQ(delivery.body.find(key), std::string::npos) << "the key itself in a delivery";

  // Either node's audit log shows it, with the URL masked.
  HttpResult audit = b_->As(admin_b_, "GET", "/api/v1/audit?user=admin");
  ASSERT_EQ(audit.status, 200);
  EXPECT_NE(audit.body.find("\"key.leaked\""), std::string::npos) << audit.body;
  EXPECT_NE(
      audit.body.find("revoked url=https://git.example/o/r/blob/main/app.js?token=" + Masked(key)),
      std::string::npos)
      << audit.body;
  EXPECT_EQ(audit.body.find(key), std::string::npos);
}

// With --leak-action disable the key stays, disabled, and node B refuses it at once as well.
TEST_F(LeakClusterTest, DisabledKeyIsRefusedAtOnceOnTheOtherNode) {
  ASSERT_NO_FATAL_FAILURE(StartBoth({"--leak-action", "disable"}));
  const std::string key = a_->NewKey(admin_a_, "admin", "leaky", "1h");
  ASSERT_FALSE(key.empty());
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Auth(b_->port(), key), 200);
  HttpResult reported = CallFrom("127.0.0.8", a_->port(), "POST", "/api/v1/leaks",
                                 Report(key, "https://paste.example/x"), kJson);
  ASSERT_EQ(reported.status, 200) << reported.body;
  EXPECT_EQ(reported.Json(), json::parse(R"({"received":1,"live":1})"));
  EXPECT_TRUE(Eventually([&] { return Auth(b_->port(), key) == 401; }, std::chrono::seconds(1)))
      << "node B still accepts the disabled key 1 s after the report";
  HttpResult listed = b_->As(admin_b_, "GET", "/api/v1/users/me/apikeys");
  ASSERT_EQ(listed.status, 200);
  bool disabled = false;
  const json::value keys = listed.Json();
  for (const json::value& k : keys.as_array()) {
    if (k.at("name") == "leaky") disabled = k.at("disabled").as_bool();
  }
  EXPECT_TRUE(disabled);
}

// 5 reports a minute per address: the sixth from one address is 429 on that node; another
// address, and the other node (each counts its own), still get through. Garbage counts too, and
// nothing is a 5xx.
TEST_F(LeakClusterTest, FloodIsThrottledAndGarbageNeverGetsAFiveHundred) {
  ASSERT_NO_FATAL_FAILURE(StartBoth({"--leak-reports-per-minute", "5"}));
  const std::vector<std::string> bodies = {
      R"({"tokens":[{"token":"kw_nope"}]})",
      "{",
      R"({"tokens":[]})",
      R"({"tokens":[{"token":"x","url":")" + std::string(3000, 'u') + R"("}]})",
      std::string(100, '['),
  };
  std::vector<int> statuses;
  for (int i = 0; i < 20; ++i) {
    HttpResult r = CallFrom("127.0.0.6", a_->port(), "POST", "/api/v1/leaks",
                            bodies[i % bodies.size()], kJson);
    statuses.push_back(r.status);
    EXPECT_LT(r.status, 500) << r.body;
    if (i < 5) {
      EXPECT_EQ(r.status, i % bodies.size() == 0 ? 200 : 400) << "report " << i << ": " << r.body;
    } else {
      EXPECT_EQ(r.status, 429) << "report " << i;
      const std::string retry_after = r.Header("retry-after");
      ASSERT_FALSE(retry_after.empty()) << "report " << i;
      EXPECT_GE(std::stoi(retry_after), 1);
      EXPECT_LE(std::stoi(retry_after), 60);
    }
  }
  EXPECT_EQ(CallFrom("127.0.0.7", a_->port(), "POST", "/api/v1/leaks", bodies[0], kJson).status,
            200);
  EXPECT_EQ(CallFrom("127.0.0.6", b_->port(), "POST", "/api/v1/leaks", bodies[0], kJson).status,
            200);

  // Hostile bodies, each from an address of its own: 400, 413 or 415, never a 5xx.
  const std::vector<std::pair<std::string, int>> hostile = {
      {"", 400},
      {"null", 400},
      {R"({"tokens":"kw_x"})", 400},
      {R"({"tokens":[{"token":"x","extra":1}]})", 400},
      {R"({"tokens":[{"token":"x","url":"\u0000"}]})", 400},
      {R"({"tokens":[{"token":"x","url":"\ud800"}]})", 400},
      {"{\"tokens\":[{\"token\":\"\xff\xfe\"}]}", 400},
      {R"({"tokens":[{"token":")" + std::string(70 * 1024, 'k') + R"("}]})", 413},
  };
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    const std::string from = "127.0.2." + std::to_string(i + 1);
    HttpResult r = CallFrom(from, a_->port(), "POST", "/api/v1/leaks", hostile[i].first, kJson);
    EXPECT_EQ(r.status, hostile[i].second) << hostile[i].first.substr(0, 60) << ": " << r.body;
  }
  HttpResult text = CallFrom("127.0.3.1", a_->port(), "POST", "/api/v1/leaks", bodies[0],
                             {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 415);
}

}  // namespace
}  // namespace keyward::testing
