// Issue 17 through the real ApiHandler (api_test_world.h): POST /api/v1/leaks, the public report
// endpoint for code hosts and scanners. A live key reported is refused at once (the cache too),
// deleted or, with --leak-action disable, disabled; audited and announced as key.leaked with the
// URL masked; the answer only counts. Bad reports are 400, floods 429, nothing 5xx. (The 64 KiB
// body limit is the transport's: tests/integration sends that.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "app/api_call_test_util.h"
#include "app/api_test_world.h"
#include "core/api_key.h"
#include "core/webhook.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
namespace json = boost::json;
using ::testing::HasSubstr;

constexpr char kLeaks[] = "/api/v1/leaks";
constexpr char kReporter[] = "198.51.100.7";

// A report of `tokens`, each with `url` when it is not empty.
std::string Report(const std::vector<std::string>& tokens, const std::string& url = "") {
  json::array list;
  for (const std::string& token : tokens) {
    json::object entry{{"token", token}};
    if (!url.empty()) entry["url"] = url;
    list.push_back(std::move(entry));
  }
  return json::serialize(json::object{{"tokens", std::move(list)}});
}

// The data of each delivery of `type` to `webhook`.
std::vector<json::object> EventData(ApiWorld& world, const std::string& webhook,
                                    std::string_view type) {
  std::vector<json::object> out;
  auto deliveries = world.store().ListDeliveries(webhook, 100);
  EXPECT_THAT(deliveries, IsOk());
  if (!deliveries.ok()) return out;
  for (const Delivery& delivery : *deliveries) {
    if (delivery.event.type == type) out.push_back(json::parse(delivery.event.data).as_object());
  }
  return out;
}

// The audit records of `action` about `user`'s keys.
std::vector<AuditEvent> Audited(ApiWorld& world, const std::string& user, AuditAction action) {
  std::vector<AuditEvent> out;
  auto events = world.store().ListAudit(AuditFilter{.user = user});
  EXPECT_THAT(events, IsOk());
  if (!events.ok()) return out;
  for (const AuditEvent& event : *events) {
    if (event.action == action) out.push_back(event);
  }
  return out;
}

class LeakApiTest : public ::testing::Test {
 protected:
  // A world whose reporters are not throttled unless a test says otherwise.
  explicit LeakApiTest(LeakAction action = LeakAction::kRevoke, std::int64_t per_minute = 1000)
      : world_(true, [&](Config& config) {
          config.service.leak_action = action;
          config.service.leak_reports_per_minute = per_minute;
        }) {}

  api_call::Sent Post(const std::string& body, const std::string& peer = kReporter) {
    auto answer = world_.Send(MakeRequest(bh::verb::post, kLeaks, body), peer);
    EXPECT_TRUE(answer.has_value());
    if (!answer) return {};
    return {answer->status(), json::parse(answer->response.body())};
  }
  // /auth's status for `token`.
  int Auth(const std::string& token) {
    auto answer = world_.Send(MakeRequest(bh::verb::get, "/auth", "", token));
    EXPECT_TRUE(answer.has_value());
    return answer ? answer->status() : 0;
  }

  ApiWorld world_;
};

TEST_F(LeakApiTest, RevokesALiveKeyAtOnceEvenWhenCached) {
  const std::string leaked = world_.AddFullAccessKey("alice", "leaked");
  ASSERT_EQ(Auth(leaked), 200);
  ASSERT_EQ(Auth(leaked), 200);  // now in the cache
  api_call::Sent sent = Post(Report({leaked}, "https://example.com/a"));
  EXPECT_EQ(sent.status, 200);
  EXPECT_EQ(sent.body, json::parse(R"({"received":1,"live":1})"));
  EXPECT_EQ(Auth(leaked), 401);
  EXPECT_THAT(world_.store().GetKey("alice", "leaked"), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(Auth(world_.tokens["alice"]), 200) << "her other key is untouched";
}

TEST_F(LeakApiTest, AuditsAndAnnouncesWithTheUrlMasked) {
  const std::string webhook = world_.AddWebhook();
  const std::string leaked = world_.AddFullAccessKey("alice", "leaked");
  const std::string other = GenerateKey("kw");  // not stored: masked all the same
  std::string encoded = other;
  encoded.replace(2, 1, "%5F");
  const std::string url = "https://git.example/o/r/blob/main/.env?k=" + leaked + "&x=" + encoded;
  const std::string masked_url =
      "https://git.example/o/r/blob/main/.env?k=" + MaskKey(leaked) + "&x=" + MaskKey(other);
  ASSERT_EQ(Post(Report({leaked}, url)).status, 200);

  std::vector<AuditEvent> audited = Audited(world_, "alice", AuditAction::kKeyLeaked);
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0].actor, "system");
  EXPECT_EQ(audited[0].user, "alice");
  EXPECT_EQ(audited[0].target, "leaked");
  EXPECT_EQ(audited[0].address, kReporter);
  EXPECT_EQ(audited[0].detail, "revoked url=" + masked_url);
  EXPECT_TRUE(audited[0].success);

  std::vector<json::object> leaks = EventData(world_, webhook, event::kKeyLeaked);
  ASSERT_EQ(leaks.size(), 1u);
  EXPECT_EQ(leaks[0].at("user"), "alice");
  EXPECT_EQ(leaks[0].at("name"), "leaked");
  EXPECT_EQ(leaks[0].at("key"), "leaked");  // as every key.* event names it
  EXPECT_EQ(leaks[0].at("action"), "revoked");
  EXPECT_EQ(leaks[0].at("url").as_string(), masked_url);
  EXPECT_EQ(leaks[0].at("reporter_address"), kReporter);
  EXPECT_EQ(EventData(world_, webhook, event::kKeyDeleted).size(), 1u);
  for (const json::object& data : leaks) {
    EXPECT_EQ(json::serialize(data).find(leaked), std::string::npos) << "no key in an event";
  }
}

// A rotated key's old secret, still in its grace, is the key: reporting it revokes the key, so
// the new secret is refused at once too, though both were in the cache.
TEST_F(LeakApiTest, ARotatedKeysOldSecretRevokesTheKey) {
  const std::string old_secret = world_.AddFullAccessKey("alice", "rotated");
  ASSERT_EQ(Auth(old_secret), 200);
  const api_call::Sent rotated =
      api_call::Call(world_, bh::verb::post, "/api/v1/users/alice/apikeys/rotated/rotate",
                     world_.NewSession("alice"), R"({"grace":"1h"})");
  ASSERT_EQ(rotated.status, 201) << json::serialize(rotated.body);
  const std::string new_secret(rotated.body.at("token").as_string());
  ASSERT_EQ(Auth(old_secret), 200) << "in its grace";
  ASSERT_EQ(Auth(new_secret), 200);
  ASSERT_EQ(Auth(new_secret), 200);  // both in the cache now
  EXPECT_EQ(Post(Report({old_secret})).body, json::parse(R"({"received":1,"live":1})"));
  EXPECT_EQ(Auth(old_secret), 401);
  EXPECT_EQ(Auth(new_secret), 401);
  EXPECT_THAT(world_.store().GetKey("alice", "rotated"), StatusIs(StatusCode::kNotFound));
}

// Only live keys count: unknown, malformed, expired, disabled and repeated ones do not.
TEST_F(LeakApiTest, CountsOnlyLiveKeysAndSaysNotWhose) {
  const std::string live = world_.AddFullAccessKey("bob", "live");
  const std::string disabled = world_.AddFullAccessKey("alice", "off");
  ASSERT_EQ(api_call::Call(world_, bh::verb::patch, "/api/v1/users/alice/apikeys/off",
                           world_.NewSession("alice"), R"({"disabled":true})")
                .status,
            200);
  std::string bad_checksum = GenerateKey("kw");
  bad_checksum.back() = bad_checksum.back() == 'a' ? 'b' : 'a';
  api_call::Sent sent = Post(Report(
      {GenerateKey("kw"), "garbage", bad_checksum, GenerateKey("zz"), disabled, live, live, ""}));
  EXPECT_EQ(sent.status, 200);
  EXPECT_EQ(sent.body, json::parse(R"({"received":8,"live":1})"));
  EXPECT_EQ(Auth(live), 401);
  EXPECT_EQ(Post(Report({live})).body, json::parse(R"({"received":1,"live":0})"));
  EXPECT_EQ(Audited(world_, "alice", AuditAction::kKeyLeaked).size(), 0u);
}

// A token as found in a URL, its '_' percent-encoded ("kw%5F…"), is the key it spells; a token
// holding more than the key is not a key.
TEST_F(LeakApiTest, TakesAPercentEncodedKeyAsTheKey) {
  const std::string encoded = world_.AddFullAccessKey("alice", "encoded");
  const std::string padded = world_.AddFullAccessKey("alice", "padded");
  std::string token = encoded;
  token.replace(2, 1, "%5f");
  EXPECT_EQ(Post(Report({token, "apikey=" + padded, padded + " "})).body,
            json::parse(R"({"received":3,"live":1})"));
  EXPECT_EQ(Auth(encoded), 401);
  EXPECT_EQ(Auth(padded), 200);
}

// A canary reported is not live: nothing is revoked, audited or announced, and the count says 0.
TEST_F(LeakApiTest, ACanaryReportedIsNotLive) {
  const std::string webhook = world_.AddWebhook();
  const api_call::Sent created =
      api_call::Call(world_, bh::verb::post, "/api/v1/users/alice/apikeys",
                     world_.NewSession("alice"), R"({"name":"trap","canary":true})");
  ASSERT_EQ(created.status, 201) << json::serialize(created.body);
  const std::string canary(created.body.at("token").as_string());
  api_call::Sent sent = Post(Report({canary}, "https://example.com/trap"));
  EXPECT_EQ(sent.status, 200);
  EXPECT_EQ(sent.body, json::parse(R"({"received":1,"live":0})"));
  EXPECT_THAT(world_.store().GetKey("alice", "trap"), IsOk());
  EXPECT_TRUE(Audited(world_, "alice", AuditAction::kKeyLeaked).empty());
  EXPECT_TRUE(EventData(world_, webhook, event::kKeyLeaked).empty());
}

class LeakDisableTest : public LeakApiTest {
 protected:
  LeakDisableTest() : LeakApiTest(LeakAction::kDisable) {}
};

TEST_F(LeakDisableTest, DisablesInsteadOfDeleting) {
  const std::string webhook = world_.AddWebhook();
  const std::string leaked = world_.AddFullAccessKey("alice", "leaked");
  ASSERT_EQ(Auth(leaked), 200);
  EXPECT_EQ(Post(Report({leaked})).body, json::parse(R"({"received":1,"live":1})"));
  EXPECT_EQ(Auth(leaked), 401);
  auto key = world_.store().GetKey("alice", "leaked");
  ASSERT_THAT(key, IsOk());
  EXPECT_TRUE(key->disabled);
  std::vector<AuditEvent> audited = Audited(world_, "alice", AuditAction::kKeyLeaked);
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0].detail, "disabled");
  std::vector<json::object> leaks = EventData(world_, webhook, event::kKeyLeaked);
  ASSERT_EQ(leaks.size(), 1u);
  EXPECT_EQ(leaks[0].at("action"), "disabled");
  EXPECT_FALSE(leaks[0].contains("url"));
  EXPECT_EQ(EventData(world_, webhook, event::kKeyDisabled).size(), 1u);
  EXPECT_EQ(Post(Report({leaked})).body, json::parse(R"({"received":1,"live":0})"))
      << "a disabled key is not live";
}

TEST_F(LeakApiTest, TakesOneToAHundredTokens) {
  std::vector<std::string> tokens(100, "not-a-key");
  EXPECT_EQ(Post(Report(tokens)).status, 200);
  tokens.emplace_back("not-a-key");
  api_call::Sent refused = Post(Report(tokens));
  EXPECT_EQ(refused.status, 400);
  EXPECT_THAT(refused.Message(), HasSubstr("100"));
  EXPECT_EQ(Post(R"({"tokens":[]})").status, 400);
}

// Whatever a reporter sends: 400 for what is malformed, never a 5xx.
TEST_F(LeakApiTest, RefusesGarbageWithFourHundred) {
  const std::string key = GenerateKey("kw");
  const std::vector<std::string> bodies = {
      "",
      "{}",
      "[]",
      "null",
      "not json",
      R"({"tokens":"kw_x"})",
      R"({"tokens":[1]})",
      R"({"tokens":[{}]})",
      R"({"tokens":[{"token":1}]})",
      R"({"tokens":[{"token":null}]})",
      R"({"tokens":[{"token":"a","url":7}]})",
      R"({"tokens":[{"token":"a","source":"x"}]})",
      R"({"tokens":[{"token":"a"}],"reporter":"x"})",
      R"({"tokens":[{"token":"a","url":"http://x/)" + std::string(2048, 'a') + R"("}]})",
      R"({"tokens":[{"token":"a","url":"http://x/\u0000"}]})",
      R"({"tokens":[{"token":"a","url":"http://x/\n"}]})",
      R"({"tokens":[{"token":"a","token":"b"}]})",
      std::string(100, '['),
  };
  for (const std::string& body : bodies) {
    api_call::Sent sent = Post(body);
    EXPECT_EQ(sent.status, 400) << body.substr(0, 80);
    EXPECT_EQ(sent.Code(), "invalid_argument") << body.substr(0, 80);
  }
  // Odd but well-formed tokens are simply not live.
  for (const std::string& token :
       {std::string(5000, 'k'), std::string("kw_") + std::string(49, '\xff'), key + key,
        std::string("\0", 1), key.substr(0, key.size() - 1)}) {
    EXPECT_EQ(
        Post(json::serialize(json::object{{"tokens", json::array{json::object{{"token", token}}}}}))
            .status,
        token.find('\xff') != std::string::npos ? 400 : 200);
  }
}

class LeakThrottleTest : public LeakApiTest {
 protected:
  LeakThrottleTest() : LeakApiTest(LeakAction::kRevoke, 3) {}
};

// Three reports a minute per address here: the fourth is 429 with Retry-After, garbage counts
// too, and another address is not held up.
TEST_F(LeakThrottleTest, ThrottlesEachAddress) {
  EXPECT_EQ(Post(Report({"a"})).status, 200);
  EXPECT_EQ(Post("garbage").status, 400);
  EXPECT_EQ(Post(Report({"a"})).status, 200);
  auto answer = world_.Send(MakeRequest(bh::verb::post, kLeaks, Report({"a"})), kReporter);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status(), 429);
  const std::string retry_after = answer->header(bh::field::retry_after);
  ASSERT_FALSE(retry_after.empty());
  EXPECT_GE(std::stoi(retry_after), 1);
  EXPECT_LE(std::stoi(retry_after), 20);
  EXPECT_EQ(Post(Report({"a"}), "198.51.100.8").status, 200);
}

}  // namespace
}  // namespace keyward
