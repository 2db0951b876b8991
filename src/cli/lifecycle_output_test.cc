// The CLI's pure parts of issue 15: a key's status after its name, the note after a rotation,
// the bodies of `apikey create|update`, duration flags, and how webhooks and their deliveries
// are printed.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

#include "cli/key_output.h"
#include "cli/output.h"
#include "cli/webhook_output.h"
#include "common/status_matchers.h"

namespace keyward {
namespace {

namespace json = boost::json;

// Four keys as the server lists them: active, disabled, expired and rotating (two old secrets,
// newest first).
json::value FourKeys() {
  return json::parse(
      R"([{"name":"a","type":"apikey","expiration":"2026-12-13T10:00:00Z","token":"kw_a",)"
      R"("status":"active","old_secrets":[]},)"
      R"({"name":"ci","type":"apikey","expiration":"2026-12-13T10:00:00Z","token":"kw_b",)"
      R"("status":"disabled","old_secrets":[]},)"
      R"({"name":"old","type":"apikey","expiration":"2026-12-01T10:00:00Z","token":"kw_c",)"
      R"("status":"expired","old_secrets":[]},)"
      R"({"name":"r","type":"apikey","expiration":"2027-01-06T10:00:00Z","token":"kw_d",)"
      R"("status":"rotating","rotated":"2026-12-07T09:00:00Z","old_secrets":[)"
      R"({"token":"kw_…new","rotated":"2026-12-07T09:00:00Z",)"
      R"("accepted_until":"2026-12-07T10:00:00Z","last_used":null},)"
      R"({"token":"kw_…old","rotated":"2026-12-07T08:00:00Z",)"
      R"("accepted_until":"2026-12-07T11:30:00Z","last_used":"2026-12-07T08:30:00Z"}]}])");
}

TEST(KeyStatusTest, NotActiveKeysShowTheirStatusAfterTheName) {
  EXPECT_EQ(RenderKeys(FourKeys(), OutputFormat::kTable),
            RenderTable({"TOKEN", "TYPE", "EXPIRATION", "NAME"},
                        {{"kw_a", "apikey", "2026-12-13T10:00:00Z", "a"},
                         {"kw_b", "apikey", "2026-12-13T10:00:00Z", "ci (disabled)"},
                         {"kw_c", "apikey", "2026-12-01T10:00:00Z", "old (expired)"},
                         {"kw_d", "apikey", "2027-01-06T10:00:00Z",
                          "r (rotating until 2026-12-07T11:30:00Z)"}}));
  EXPECT_NE(RenderKeys(FourKeys(), OutputFormat::kWide).find("| ci (disabled) "),
            std::string::npos);
  // JSON stays the server's objects.
  EXPECT_EQ(json::parse(RenderKeys(FourKeys(), OutputFormat::kJson)), FourKeys());
}

TEST(KeyStatusTest, NoStatusOrNoOldSecretsListed) {
  json::value key = FourKeys().at(3);
  key.as_object()["old_secrets"] = json::array();
  EXPECT_EQ(KeyStatusSuffix(key), " (rotating)");
  key.as_object().erase("status");
  EXPECT_EQ(KeyStatusSuffix(key), "") << "a server before issue 15";
}

// Issue 17: a canary key's TYPE says so; "canary": false (or none, an older server) keeps the
// server's type.
TEST(KeyStatusTest, ACanaryKeysTypeIsCanary) {
  json::value keys = json::parse(
      R"([{"name":"bait","type":"apikey","expiration":"2026-12-13T10:00:00Z","token":"kw_e",)"
      R"("status":"active","old_secrets":[],"canary":true},)"
      R"({"name":"a","type":"apikey","expiration":"2026-12-13T10:00:00Z","token":"kw_a",)"
      R"("status":"active","old_secrets":[],"canary":false}])");
  EXPECT_EQ(RenderKeys(keys, OutputFormat::kTable),
            RenderTable({"TOKEN", "TYPE", "EXPIRATION", "NAME"},
                        {{"kw_e", "canary", "2026-12-13T10:00:00Z", "bait"},
                         {"kw_a", "apikey", "2026-12-13T10:00:00Z", "a"}}));
  EXPECT_EQ(json::parse(RenderKeys(keys, OutputFormat::kJson)), keys);
}

TEST(RotationNoteTest, NamesTheReplacedSecretAndItsEnd) {
  EXPECT_EQ(RotationNote(FourKeys().at(3)),
            "INFO[0000] the old secret kw_…new is accepted until 2026-12-07T10:00:00Z\n");
  EXPECT_EQ(RotationNote(FourKeys().at(0)), "INFO[0000] the old secret is no longer accepted\n");
  // Rotated again with grace 0: the secret just replaced is not listed, an older one still is.
  json::value again = FourKeys().at(3);
  again.as_object()["rotated"] = "2026-12-07T09:30:00Z";
  EXPECT_EQ(RotationNote(again), "INFO[0000] the old secret is no longer accepted\n");
  // Rotated again within the same second with grace 0: "rotated" is the same, the grace says.
  EXPECT_EQ(RotationNote(FourKeys().at(3), /*zero_grace=*/true),
            "INFO[0000] the old secret is no longer accepted\n");
}

TEST(KeyBodyTest, CreateSendsLifecycleFieldsOnlyWhenGiven) {
  EXPECT_EQ(KeyCreateBody("ci", "30d", {}), (json::object{{"name", "ci"}, {"duration", "30d"}}));
  KeyLifecycleFlags lifecycle;
  lifecycle.description = "";
  lifecycle.idle_timeout = "14d";
  lifecycle.on_reuse = "revoke";
  EXPECT_EQ(
      KeyCreateBody("ci", "", {}, lifecycle),
      (json::object{
          {"name", "ci"}, {"description", ""}, {"idle_timeout", "14d"}, {"on_reuse", "revoke"}}));
}

TEST(KeyBodyTest, UpdateSendsWhatWasGivenAndRefusesNothing) {
  EXPECT_THAT(KeyUpdateBody({}).status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("nothing to change")));
  KeyEditFlags edit;
  edit.rename = "ci-gitlab";
  edit.expires = "2026-12-31T00:00:00Z";
  edit.lifecycle.description = "deploys";
  Result<json::object> body = KeyUpdateBody(edit);
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(*body, (json::object{{"name", "ci-gitlab"},
                                 {"expiration", "2026-12-31T00:00:00Z"},
                                 {"description", "deploys"}}));
  KeyEditFlags only_reuse;
  only_reuse.lifecycle.on_reuse = "keep";
  body = KeyUpdateBody(only_reuse);
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(*body, (json::object{{"on_reuse", "keep"}}));
}

TEST(DurationFlagTest, ZeroDurations) {
  for (const char* zero : {"0", "00", "0s", "0m", "0h", "0d"}) EXPECT_TRUE(IsZeroDuration(zero));
  for (const char* other : {"", "s", "1s", "10s", "0x", "0ss", "0s0"}) {
    EXPECT_FALSE(IsZeroDuration(other)) << other;
  }
}

TEST(DurationFlagTest, ZeroOnlyWhereAllowedAndTheFlagIsNamed) {
  EXPECT_THAT(CheckDurationFlag("--grace", "0s", true), IsOk());
  EXPECT_THAT(CheckDurationFlag("--grace", "0", true), IsOk());
  EXPECT_THAT(CheckDurationFlag("--grace", "15m", true), IsOk());
  EXPECT_THAT(CheckDurationFlag("--expiring-within", "7d", false), IsOk());
  EXPECT_THAT(CheckDurationFlag("--retire-when-idle", "0s", false),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("--retire-when-idle")));
  for (const char* bad : {"", "s", "0x", "soon", "-1h"}) {
    EXPECT_THAT(CheckDurationFlag("--grace", bad, true),
                StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("--grace")))
        << bad;
  }
}

TEST(WebhookOutputTest, CreateBodyChecksEventTypes) {
  Result<json::object> body = WebhookCreateBody("https://h.example/k", {}, {});
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(*body, (json::object{{"url", "https://h.example/k"}}));
  body = WebhookCreateBody("https://h.example/k", {"key.expiring", "key.reuse_detected"}, {"bob"});
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(*body,
            json::parse(R"({"url":"https://h.example/k",)"
                        R"("events":["key.expiring","key.reuse_detected"],"users":["bob"]})"));
  EXPECT_THAT(WebhookCreateBody("https://h.example/k", {"key.exploded"}, {}).status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("key.exploded")));
}

json::value TwoWebhooks() {
  return json::parse(
      R"([{"id":"wh_a1","url":"https://h.example/k","events":[],"users":[],)"
      R"("created":"2026-12-07T09:00:00Z","created_by":"admin"},)"
      R"({"id":"wh_b2","url":"https://i.example/k","events":["key.expiring","key.expired"],)"
      R"("users":["bob"],"created":"2026-12-07T09:05:00Z","created_by":"admin"}])");
}

TEST(WebhookOutputTest, TableSaysAllForNoFilter) {
  EXPECT_EQ(RenderWebhooks(TwoWebhooks(), OutputFormat::kTable),
            RenderTable({"ID", "URL", "EVENTS", "USERS", "CREATED"},
                        {{"wh_a1", "https://h.example/k", "all", "all", "2026-12-07T09:00:00Z"},
                         {"wh_b2", "https://i.example/k", "key.expiring, key.expired", "bob",
                          "2026-12-07T09:05:00Z"}}));
  EXPECT_EQ(json::parse(RenderWebhooks(TwoWebhooks(), OutputFormat::kJson)), TwoWebhooks());
  EXPECT_EQ(YAML::Load(RenderWebhooks(TwoWebhooks(), OutputFormat::kYaml))[1]["users"][0]
                .as<std::string>(),
            "bob");
}

TEST(WebhookOutputTest, AddShowsTheSecretOnceAndWarnsWithoutIt) {
  json::value added = TwoWebhooks().at(0);
  added.as_object()["secret"] = "whsec_c2VjcmV0";
  EXPECT_EQ(RenderWebhooks(added, OutputFormat::kTable),
            RenderTable({"ID", "URL", "EVENTS", "USERS", "CREATED", "SECRET"},
                        {{"wh_a1", "https://h.example/k", "all", "all", "2026-12-07T09:00:00Z",
                          "whsec_c2VjcmV0"}}));
  EXPECT_EQ(WebhookSecretWarning().rfind("WARN[0000] store the webhook's secret now", 0), 0u);
  EXPECT_EQ(WebhookSecretWarning().find("whsec_"), std::string::npos);
}

TEST(WebhookOutputTest, DeliveriesWithNullsAsDashes) {
  json::value deliveries =
      json::parse(R"([{"id":2,"message_id":"msg_7","event_type":"webhook.test",)"
                  R"("event_time":"2026-12-07T09:10:00Z","state":"delivered","attempts":1,)"
                  R"("next_attempt":null,"last_attempt":"2026-12-07T09:10:01Z","last_status":200,)"
                  R"("last_error":""},)"
                  R"({"id":1,"message_id":"msg_5","event_type":"key.created",)"
                  R"("event_time":"2026-12-07T09:09:00Z","state":"pending","attempts":2,)"
                  R"("next_attempt":"2026-12-07T09:09:20Z","last_attempt":"2026-12-07T09:09:10Z",)"
                  R"("last_status":null,"last_error":"connection refused"}])");
  EXPECT_EQ(RenderDeliveries(deliveries, OutputFormat::kTable),
            RenderTable({"MESSAGE", "EVENT", "EVENT TIME", "STATE", "ATTEMPTS", "LAST STATUS",
                         "LAST ERROR", "NEXT ATTEMPT"},
                        {{"msg_7", "webhook.test", "2026-12-07T09:10:00Z", "delivered", "1", "200",
                          "-", "-"},
                         {"msg_5", "key.created", "2026-12-07T09:09:00Z", "pending", "2", "-",
                          "connection refused", "2026-12-07T09:09:20Z"}}));
  EXPECT_EQ(json::parse(RenderDeliveries(deliveries, OutputFormat::kJson)), deliveries);
}

}  // namespace
}  // namespace keyward
