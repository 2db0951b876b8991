// Issue 15 through the real ApiHandler (api_test_world.h): rotation, edits, the expiring_within
// filter, the key JSON's lifecycle fields, reuse of a retired secret, and the webhook routes —
// each route's success and its main refusals (hostile input: 4xx, never 5xx).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <string>

#include "app/api_call_test_util.h"
#include "app/api_test_world.h"
#include "core/webhook.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using api_call::Call;
using api_call::Sent;

const std::string kKeys = "/api/v1/users/alice/apikeys";

class LifecycleApiTest : public ::testing::Test {
 protected:
  // Makes alice's key `name` with `extra` JSON members; returns the create answer.
  Sent Make(const std::string& name, const std::string& extra = "") {
    Sent made = Call(world_, bh::verb::post, kKeys, alice(),
                     R"({"name":")" + name + "\"" + (extra.empty() ? "" : "," + extra) + "}");
    EXPECT_EQ(made.status, 201) << json::serialize(made.body);
    return made;
  }
  // Whether `token` opens GET /users/me.
  int Me(const std::string& token) {
    return Call(world_, bh::verb::get, "/api/v1/users/me", token).status;
  }
  std::string alice() { return world_.tokens["alice"]; }
  std::string admin() { return world_.tokens["admin"]; }

  ApiWorld world_;
};

TEST_F(LifecycleApiTest, CreatedKeyShowsItsLifecycle) {
  Sent made =
      Make("ci", R"("description":"the CI runner","idle_timeout":"1h","on_reuse":"revoke")");
  EXPECT_EQ(made.Str("description"), "the CI runner");
  EXPECT_EQ(made.body.at("disabled"), false);
  EXPECT_EQ(made.Str("idle_timeout"), "1h");
  EXPECT_EQ(made.Str("on_reuse"), "revoke");
  EXPECT_TRUE(made.body.at("rotated").is_null());
  EXPECT_EQ(made.Str("status"), "active");
  EXPECT_TRUE(made.body.at("old_secrets").as_array().empty());
  Sent plain = Make("plain");
  EXPECT_TRUE(plain.body.at("idle_timeout").is_null());
  EXPECT_EQ(plain.Str("on_reuse"), "keep");
  EXPECT_EQ(plain.Str("description"), "");
}

TEST_F(LifecycleApiTest, RotateGivesANewSecretAndTheOldOneKeepsWorkingInItsGrace) {
  const std::string old_token = Make("ci").Str("token");
  Sent rotated = Call(world_, bh::verb::post, kKeys + "/ci/rotate", alice(), R"({"grace":"1h"})");
  ASSERT_EQ(rotated.status, 201) << json::serialize(rotated.body);
  const std::string new_token = rotated.Str("token");
  EXPECT_THAT(new_token, StartsWith("kw_"));
  EXPECT_NE(new_token, old_token);
  EXPECT_EQ(rotated.Str("name"), "ci");
  EXPECT_EQ(rotated.Str("status"), "rotating");
  EXPECT_FALSE(rotated.body.at("rotated").is_null());
  ASSERT_EQ(rotated.body.at("old_secrets").as_array().size(), 1u);
  const json::value& old = rotated.body.at("old_secrets").as_array()[0];
  EXPECT_NE(std::string(old.at("token").as_string()), old_token);  // masked
  EXPECT_FALSE(old.at("accepted_until").is_null());
  EXPECT_EQ(Me(new_token), 200);
  EXPECT_EQ(Me(old_token), 200);
  // The list shows it masked, rotating.
  Sent listed = Call(world_, bh::verb::get, kKeys, alice());
  ASSERT_EQ(listed.status, 200);
  bool seen = false;
  for (const json::value& key : listed.body.as_array()) {
    if (key.at("name") != "ci") continue;
    seen = true;
    EXPECT_EQ(key.at("status"), "rotating");
    EXPECT_NE(std::string(key.at("token").as_string()), new_token);
  }
  EXPECT_TRUE(seen);
}

// Grace 0s: the old secret is refused at once, and presenting it is reuse: with on_reuse
// revoke the key is deleted (the authenticator tells the key service, wired by the graph).
TEST_F(LifecycleApiTest, RetiredSecretIsRefusedAndItsReuseRevokes) {
  const std::string old_token = Make("ci", R"("on_reuse":"revoke")").Str("token");
  Sent rotated = Call(world_, bh::verb::post, kKeys + "/ci/rotate", alice(), R"({"grace":"0s"})");
  ASSERT_EQ(rotated.status, 201) << json::serialize(rotated.body);
  EXPECT_EQ(Me(rotated.Str("token")), 200);
  auto reused = world_.Send(MakeRequest(bh::verb::get, "/auth", "", old_token));
  ASSERT_TRUE(reused.has_value());
  EXPECT_EQ(reused->status(), 401);
  EXPECT_EQ(Me(rotated.Str("token")), 401);  // the key is gone
  EXPECT_EQ(Call(world_, bh::verb::get, kKeys + "/ci/token", alice()).status, 404);
}

// The client a reuse is reported with: /auth's client and User-Agent; POST /authorize's
// "address" (the gateway's client), else the caller's; /oauth/introspect's caller.
TEST_F(LifecycleApiTest, ReuseNamesTheClientThatPresentedTheSecret) {
  const std::string webhook = world_.AddWebhook();
  std::map<std::string, std::string> retired;  // key name → its retired old secret
  for (const char* name : {"via-auth", "via-authorize", "via-introspect"}) {
    retired[name] = Make(name).Str("token");
    ASSERT_EQ(
        Call(world_, bh::verb::post, kKeys + "/" + name + "/rotate", alice(), R"({"grace":"0s"})")
            .status,
        201);
  }
  http::Request auth = MakeRequest(bh::verb::get, "/auth", "", retired["via-auth"]);
  auth.set(bh::field::user_agent, "reuse-test/1.0");
  auto refused = world_.Send(std::move(auth));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status(), 401);
  Sent authorized = Call(world_, bh::verb::post, "/api/v1/authorize", admin(),
                         R"({"token":")" + retired["via-authorize"] + R"(","address":"10.1.2.3"})");
  ASSERT_EQ(authorized.status, 200);
  EXPECT_EQ(authorized.body.at("valid"), false);
  http::Request introspect = MakeRequest(bh::verb::post, "/oauth/introspect",
                                         "token=" + retired["via-introspect"], admin());
  introspect.set(bh::field::content_type, "application/x-www-form-urlencoded");
  introspect.set(bh::field::user_agent, "introspector/2.0");
  auto inactive = world_.Send(std::move(introspect));
  ASSERT_TRUE(inactive.has_value());
  EXPECT_EQ(json::parse(inactive->response.body()).at("active"), false);

  auto deliveries = world_.store().ListDeliveries(webhook, 100);
  ASSERT_THAT(deliveries, IsOk());
  std::map<std::string, json::object> reuses;  // key name → the event's data
  for (const Delivery& delivery : *deliveries) {
    if (delivery.event.type != event::kKeyReuseDetected) continue;
    json::object data = json::parse(delivery.event.data).as_object();
    reuses[std::string(data.at("key").as_string())] = data;
  }
  ASSERT_EQ(reuses.size(), 3u);
  EXPECT_EQ(reuses["via-auth"].at("address"), "127.0.0.1");
  EXPECT_EQ(reuses["via-auth"].at("user_agent"), "reuse-test/1.0");
  EXPECT_EQ(reuses["via-authorize"].at("address"), "10.1.2.3");
  EXPECT_EQ(reuses["via-authorize"].at("revoked"), false);
  EXPECT_EQ(reuses["via-introspect"].at("address"), "127.0.0.1");
  EXPECT_EQ(reuses["via-introspect"].at("user_agent"), "introspector/2.0");
}

TEST_F(LifecycleApiTest, RotateRefusesBadRequests) {
  Make("ci");
  auto rotate = [&](const std::string& name, const std::string& body) {
    return Call(world_, bh::verb::post, kKeys + "/" + name + "/rotate", alice(), body);
  };
  EXPECT_EQ(rotate("ci", R"({"grace":"soon"})").status, 400);
  EXPECT_EQ(rotate("ci", R"({"grace":"-1h"})").status, 400);
  EXPECT_EQ(rotate("ci", R"({"grace":"99999d"})").status, 400);
  EXPECT_EQ(rotate("ci", R"({"grace":"1m","retire_when_idle":"1h"})").status, 400);
  EXPECT_EQ(rotate("ci", R"({"grace":"0s","retire_when_idle":"1s"})").status, 400);
  EXPECT_EQ(rotate("ci", R"({"grace":60})").status, 400);
  Sent unknown = rotate("ci", R"({"grace":"1h","now":true})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(unknown.Message(), HasSubstr("\"now\""));
  EXPECT_EQ(rotate("nope", "").status, 404);
  EXPECT_EQ(
      Call(world_, bh::verb::post, "/api/v1/users/bob/apikeys/bob-key/rotate", alice()).status,
      404);
  // Nothing above rotated it.
  EXPECT_EQ(Call(world_, bh::verb::get, kKeys + "/ci/token", alice()).body.at("status"), "active");
}

TEST_F(LifecycleApiTest, PatchEditsDisablesAndEnables) {
  const std::string token = Make("ci").Str("token");
  Sent edited = Call(world_, bh::verb::patch, kKeys + "/ci", alice(),
                     R"({"name":"runner","description":"builds","idle_timeout":"2h"})");
  ASSERT_EQ(edited.status, 200) << json::serialize(edited.body);
  EXPECT_EQ(edited.Str("name"), "runner");
  EXPECT_EQ(edited.Str("description"), "builds");
  EXPECT_EQ(edited.Str("idle_timeout"), "2h");
  EXPECT_NE(edited.Str("token"), token);  // masked
  EXPECT_EQ(Me(token), 200);

  Sent disabled = Call(world_, bh::verb::patch, kKeys + "/runner", alice(), R"({"disabled":true})");
  ASSERT_EQ(disabled.status, 200) << json::serialize(disabled.body);
  EXPECT_EQ(disabled.Str("status"), "disabled");
  EXPECT_EQ(Me(token), 401);
  auto auth = world_.Send(MakeRequest(bh::verb::get, "/auth", "", token));
  ASSERT_TRUE(auth.has_value());
  EXPECT_EQ(auth->status(), 401);

  Sent enabled = Call(world_, bh::verb::patch, kKeys + "/runner", alice(), R"({"disabled":false})");
  ASSERT_EQ(enabled.status, 200);
  EXPECT_EQ(enabled.Str("status"), "active");
  EXPECT_EQ(Me(token), 200);
}

TEST_F(LifecycleApiTest, PatchRefusesBadRequests) {
  Make("ci");
  Make("other");
  auto patch = [&](const std::string& body) {
    return Call(world_, bh::verb::patch, kKeys + "/ci", alice(), body);
  };
  Sent nothing = patch("{}");
  EXPECT_EQ(nothing.status, 400);
  EXPECT_THAT(nothing.Message(), HasSubstr("nothing to change"));
  EXPECT_EQ(patch("").status, 400);
  EXPECT_EQ(patch(R"({"disabled":"yes"})").status, 400);
  EXPECT_EQ(patch(R"({"description":7})").status, 400);
  EXPECT_EQ(patch(R"({"scopes":"keys:read"})").status, 400);
  EXPECT_EQ(patch(R"({"description":")" + std::string(1025, 'd') + "\"}").status, 400);
  EXPECT_EQ(patch(R"({"description":")" + std::string(70 * 1024, 'd') + "\"}").status, 400);
  EXPECT_EQ(patch(R"({"expiration":"yesterday"})").status, 400);
  EXPECT_EQ(patch(R"({"expiration":"2001-01-01T00:00:00Z"})").status, 400);
  EXPECT_EQ(patch(R"({"idle_timeout":"forever"})").status, 400);
  EXPECT_EQ(patch(R"({"on_reuse":"explode"})").status, 400);
  EXPECT_EQ(patch(R"({"name":"a/b"})").status, 400);
  EXPECT_EQ(patch(R"({"colour":"red"})").status, 400);
  EXPECT_EQ(patch(R"({"name":"other"})").status, 409);
  // A grant may only narrow: alice's keys have none beyond full access here, so a scope the
  // key does not hold is refused.
  Sent scoped = Call(world_, bh::verb::post, kKeys, alice(), R"({"name":"narrow","scopes":[]})");
  ASSERT_EQ(scoped.status, 201);
  EXPECT_EQ(Call(world_, bh::verb::patch, kKeys + "/narrow", alice(), R"({"scopes":["keys:read"]})")
                .status,
            403);
  EXPECT_EQ(
      Call(world_, bh::verb::patch, kKeys + "/nope", alice(), R"({"description":"x"})").status,
      404);
  EXPECT_EQ(Call(world_, bh::verb::get, kKeys + "/ci/token", alice()).body.at("description"), "");
}

TEST_F(LifecycleApiTest, ListExpiringWithin) {
  Make("soon", R"("duration":"2h")");
  Make("later", R"("duration":"30d")");
  Sent soon = Call(world_, bh::verb::get, kKeys + "?expiring_within=12h", alice());
  ASSERT_EQ(soon.status, 200) << json::serialize(soon.body);
  std::vector<std::string> names;
  for (const json::value& key : soon.body.as_array())
    names.emplace_back(key.at("name").as_string());
  EXPECT_EQ(names, std::vector<std::string>{"soon"});  // alice-key lives the default 24h
  Sent revealed = Call(world_, bh::verb::get, kKeys + "?expiring_within=3h&reveal=true", alice());
  ASSERT_EQ(revealed.status, 200);
  ASSERT_EQ(revealed.body.as_array().size(), 1u);
  EXPECT_EQ(revealed.body.as_array()[0].at("name"), "soon");
  for (const char* bad : {"soon", "-1d", "1d&expiring_within=2d", ""}) {
    EXPECT_EQ(Call(world_, bh::verb::get, kKeys + "?expiring_within=" + bad, alice()).status, 400)
        << bad;
  }
}

TEST_F(LifecycleApiTest, WebhookLifecycle) {
  Sent created =
      Call(world_, bh::verb::post, "/api/v1/webhooks", admin(),
           R"({"url":"http://127.0.0.1:1/hook","events":["key.created","key.rotated"]})");
  ASSERT_EQ(created.status, 201) << json::serialize(created.body);
  const std::string id = created.Str("id");
  EXPECT_THAT(id, StartsWith("wh_"));
  EXPECT_THAT(created.Str("secret"), StartsWith("whsec_"));
  EXPECT_EQ(created.Str("created_by"), "admin");
  EXPECT_EQ(created.body.at("events"), json::parse(R"(["key.created","key.rotated"])"));
  EXPECT_EQ(created.body.at("users"), json::array());

  Sent listed = Call(world_, bh::verb::get, "/api/v1/webhooks", admin());
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.body.as_array().size(), 1u);
  EXPECT_EQ(listed.body.as_array()[0].at("id"), json::value(id));
  EXPECT_EQ(listed.body.as_array()[0].as_object().if_contains("secret"), nullptr);
  Sent got = Call(world_, bh::verb::get, "/api/v1/webhooks/" + id, admin());
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.Str("url"), "http://127.0.0.1:1/hook");

  Sent tested = Call(world_, bh::verb::post, "/api/v1/webhooks/" + id + "/test", admin());
  ASSERT_EQ(tested.status, 202) << json::serialize(tested.body);
  EXPECT_THAT(tested.Str("message_id"), StartsWith("msg_"));
  EXPECT_EQ(tested.Str("event_type"), "webhook.test");
  Sent deliveries =
      Call(world_, bh::verb::get, "/api/v1/webhooks/" + id + "/deliveries?limit=10", admin());
  ASSERT_EQ(deliveries.status, 200) << json::serialize(deliveries.body);
  ASSERT_FALSE(deliveries.body.as_array().empty());
  const json::value& first = deliveries.body.as_array()[0];
  EXPECT_EQ(first.at("message_id"), tested.body.at("message_id"));
  EXPECT_EQ(first.at("event_type"), "webhook.test");
  EXPECT_TRUE(first.at("state").is_string());

  auto metrics = world_.Send(MakeRequest(bh::verb::get, "/metrics"));
  ASSERT_TRUE(metrics.has_value());
  EXPECT_THAT(metrics->response.body(),
              HasSubstr("keyward_webhook_deliveries_total{outcome=\"failed\"} 0\n"));
  EXPECT_THAT(metrics->response.body(),
              HasSubstr("keyward_http_requests_total{route=\"api\",code=\"202\"} 1\n"));

  EXPECT_EQ(Call(world_, bh::verb::delete_, "/api/v1/webhooks/" + id, admin()).status, 204);
  EXPECT_EQ(Call(world_, bh::verb::get, "/api/v1/webhooks/" + id, admin()).status, 404);
  EXPECT_EQ(Call(world_, bh::verb::delete_, "/api/v1/webhooks/" + id, admin()).status, 404);
}

TEST_F(LifecycleApiTest, WebhookRoutesRefuseBadRequests) {
  auto create = [&](const std::string& body) {
    return Call(world_, bh::verb::post, "/api/v1/webhooks", admin(), body);
  };
  EXPECT_EQ(create("{}").status, 400);
  EXPECT_EQ(create(R"({"url":7})").status, 400);
  EXPECT_EQ(create(R"({"url":"ftp://127.0.0.1/hook"})").status, 400);
  EXPECT_EQ(create(R"({"url":"not a url"})").status, 400);
  EXPECT_EQ(create(R"({"url":"http://127.0.0.1:1/h","events":["key.exploded"]})").status, 400);
  EXPECT_EQ(create(R"({"url":"http://127.0.0.1:1/h","events":"key.created"})").status, 400);
  EXPECT_EQ(create(R"({"url":"http://127.0.0.1:1/h","events":["webhook.test"]})").status, 400);
  EXPECT_EQ(create(R"({"url":"http://127.0.0.1:1/h","users":["no such/user"]})").status, 400);
  EXPECT_EQ(create(R"({"url":"http://127.0.0.1:1/h","secret":"mine"})").status, 400);
  EXPECT_EQ(create(R"({"url":"http://127.0.0.1:1/)" + std::string(3000, 'p') + "\"}").status, 400);
  EXPECT_EQ(Call(world_, bh::verb::get, "/api/v1/webhooks", admin()).body.as_array().size(), 0u);
  for (const char* id : {"nope", "wh_UPPER", "wh_", "wh_a%2Fb", "wh_x/deliveries"}) {
    EXPECT_EQ(Call(world_, bh::verb::get, std::string("/api/v1/webhooks/") + id, admin()).status,
              404)
        << id;
  }
  EXPECT_EQ(Call(world_, bh::verb::post, "/api/v1/webhooks/wh_abc/test", admin()).status, 404);
  const std::string id = world_.AddWebhook();
  for (const char* limit : {"0", "1001", "ten", "5&limit=6"}) {
    EXPECT_EQ(Call(world_, bh::verb::get,
                   "/api/v1/webhooks/" + id + "/deliveries?limit=" + std::string(limit), admin())
                  .status,
              400)
        << limit;
  }
  EXPECT_EQ(Call(world_, bh::verb::post, "/api/v1/webhooks/" + id + "/test", admin(), R"({"x":1})")
                .status,
            400);
  // Not an operator: 403 on the collection, 404 for an id.
  EXPECT_EQ(Call(world_, bh::verb::get, "/api/v1/webhooks", alice()).status, 403);
  EXPECT_EQ(Call(world_, bh::verb::get, "/api/v1/webhooks/" + id, alice()).status, 404);
}

TEST(WebhookRequireHttpsTest, PlainHttpUrlsAreRefused) {
  ApiWorld world(/*issuer=*/false, [](Config& c) { c.webhooks.require_https = true; });
  Sent refused = Call(world, bh::verb::post, "/api/v1/webhooks", world.tokens["admin"],
                      R"({"url":"http://127.0.0.1:1/hook"})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_THAT(refused.Message(), HasSubstr("https"));
}

// Old secrets retiring when idle wait for the last-used writer: its interval, in whole seconds.
TEST(WriterLagTest, TheServiceKnowsTheLastUsedIntervalRoundedUp) {
  ApiWorld slow(/*issuer=*/false,
                [](Config& c) { c.last_used_interval = std::chrono::milliseconds(4200); });
  EXPECT_EQ(slow.graph().options().last_used_lag_seconds, 5);
  ApiWorld fast(/*issuer=*/false,
                [](Config& c) { c.last_used_interval = std::chrono::milliseconds(200); });
  EXPECT_EQ(fast.graph().options().last_used_lag_seconds, 1);
}

}  // namespace
}  // namespace keyward
