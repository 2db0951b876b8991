// ApiHandler without sockets: real services on a temporary SQLite store (api_test_world.h),
// requests handed to Handle() and responses caught by a capturing Responder.
#include "api/api_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "api/client_address.h"
#include "app/api_test_world.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
namespace json = boost::json;
using ::testing::StartsWith;

json::value Body(const Answer& answer) { return json::parse(answer.response.body()); }

std::string ErrorCode(const Answer& answer) {
  return std::string(Body(answer).at("error").at("code").as_string());
}

class ApiHandlerTest : public ::testing::Test {
 protected:
  ApiWorld world_;
};

TEST_F(ApiHandlerTest, CreateKeyIs201Json) {
  auto answer =
      world_.Send(MakeRequest(bh::verb::post, "/api/v1/users/alice/apikeys",
                              R"({"name":"laptop","duration":"2h"})", world_.tokens["alice"]));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status(), 201) << answer->response.body();
  EXPECT_EQ(answer->header(bh::field::content_type), "application/json");
  EXPECT_EQ(answer->header(bh::field::cache_control), "no-store");
  EXPECT_NE(answer->response.find("X-Request-Id"), answer->response.end());
  json::value body = Body(*answer);
  EXPECT_EQ(body.at("name").as_string(), "laptop");
  EXPECT_THAT(std::string(body.at("token").as_string()), StartsWith("kw_"));
  // The new key works.
  auto me = world_.Send(MakeRequest(bh::verb::get, "/api/v1/users/me", "",
                                    std::string(body.at("token").as_string())));
  ASSERT_TRUE(me.has_value());
  EXPECT_EQ(me->status(), 200);
  EXPECT_EQ(Body(*me).at("id").as_string(), "alice");
}

// A cache miss is verified on a blocking thread (the store is read); the same key again is answered
// on the calling (network) thread, before Handle() returns.
TEST_F(ApiHandlerTest, ForwardAuthHitOnTheNetworkThreadMissOnTheBlockingPool) {
  auto auth = [&] { return MakeRequest(bh::verb::get, "/auth", "", world_.tokens["alice"]); };
  auto miss = world_.Send(auth());
  ASSERT_TRUE(miss.has_value());
  EXPECT_EQ(miss->status(), 200);
  EXPECT_EQ(miss->response["X-Keyward-User"], "alice");
  EXPECT_NE(miss->sent_on, std::this_thread::get_id());

  auto hit = world_.Send(auth());
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->status(), 200);
  EXPECT_EQ(hit->response["X-Keyward-User"], "alice");
  EXPECT_EQ(hit->sent_on, std::this_thread::get_id());
  EXPECT_TRUE(hit->before_handle_returned);

  // Clearing the cache sends the next one to the blocking pool again.
  world_.cache().Clear();
  auto again = world_.Send(auth());
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->sent_on, std::this_thread::get_id());
}

TEST_F(ApiHandlerTest, NoCredentialIs401WithWwwAuthenticate) {
  auto answer = world_.Send(MakeRequest(bh::verb::get, "/api/v1/users/me"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status(), 401);
  EXPECT_EQ(answer->header(bh::field::www_authenticate), "Bearer");
  EXPECT_EQ(ErrorCode(*answer), "unauthenticated");

  auto forward = world_.Send(MakeRequest(bh::verb::get, "/auth"));
  ASSERT_TRUE(forward.has_value());
  EXPECT_EQ(forward->status(), 401);
  EXPECT_EQ(forward->header(bh::field::www_authenticate), "Bearer");
}

// A known member of the wrong type and a member the route does not know are each a 400 with the
// error shape (DESIGN.md: unknown fields are refused, never silently accepted), and nothing is
// created.
TEST_F(ApiHandlerTest, BodyMembersAreChecked) {
  const std::string alice = world_.tokens["alice"];
  auto typed = world_.Send(
      MakeRequest(bh::verb::post, "/api/v1/users/alice/apikeys", R"({"name":5})", alice));
  ASSERT_TRUE(typed.has_value());
  EXPECT_EQ(typed->status(), 400);
  EXPECT_EQ(ErrorCode(*typed), "invalid_argument");
  EXPECT_THAT(std::string(Body(*typed).at("error").at("message").as_string()),
              ::testing::HasSubstr("\"name\""));

  auto extra = world_.Send(MakeRequest(bh::verb::post, "/api/v1/users/alice/apikeys",
                                       R"({"name":"extra","colour":"red"})", alice));
  ASSERT_TRUE(extra.has_value());
  EXPECT_EQ(extra->status(), 400) << extra->response.body();
  EXPECT_EQ(std::string(Body(*extra).at("error").at("message").as_string()),
            "unknown field \"colour\": this request takes only \"name\", \"duration\", \"scopes\", "
            "\"tags\", \"allowed_addresses\", \"description\", \"idle_timeout\", \"on_reuse\", "
            "\"rate_limit\", \"canary\"");
  // A name of another shape is not echoed, nor is a key pasted as a name.
  auto pasted = world_.Send(MakeRequest(bh::verb::post, "/api/v1/users/alice/apikeys",
                                        R"({"name":"pasted",")" + alice + R"(":1})", alice));
  ASSERT_TRUE(pasted.has_value());
  EXPECT_EQ(pasted->status(), 400);
  EXPECT_EQ(pasted->response.body().find(alice), std::string::npos) << pasted->response.body();
  auto odd = world_.Send(MakeRequest(bh::verb::post, "/api/v1/users/alice/apikeys",
                                     R"({"name":"odd","kw_not a field!":1})", alice));
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ(odd->status(), 400);
  EXPECT_EQ(
      std::string(Body(*odd).at("error").at("message").as_string()),
      "unknown field: this request takes only \"name\", \"duration\", \"scopes\", \"tags\", "
      "\"allowed_addresses\", \"description\", \"idle_timeout\", \"on_reuse\", \"rate_limit\", "
      "\"canary\"");

  auto listed = world_.Send(MakeRequest(bh::verb::get, "/api/v1/users/alice/apikeys", "", alice));
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(Body(*listed).as_array().size(), 1u) << listed->response.body();  // alice-key only
}

TEST_F(ApiHandlerTest, UnknownRouteIs404WithTheErrorShape) {
  auto answer =
      world_.Send(MakeRequest(bh::verb::get, "/api/v1/no-such-thing", "", world_.tokens["admin"]));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status(), 404);
  EXPECT_EQ(answer->header(bh::field::content_type), "application/json");
  EXPECT_EQ(answer->header(bh::field::cache_control), "no-store");
  EXPECT_EQ(Body(*answer),
            json::parse(R"({"error":{"code":"not_found","message":"no such route"}})"));

  auto wrong_method = world_.Send(MakeRequest(bh::verb::put, "/api/v1/users/me"));
  ASSERT_TRUE(wrong_method.has_value());
  EXPECT_EQ(wrong_method->status(), 405);
  // "/users/me" and "/users/{id}" both match; each method is listed once.
  EXPECT_EQ(wrong_method->header(bh::field::allow), "GET, HEAD, DELETE");
}

// Issue 17: /metrics tells whoever reads it that a canary was tried; --metrics-allow keeps it to
// the monitoring network.
TEST(MetricsAllow, OnlyTheNamedClientsReadMetrics) {
  ApiWorld world(true, [](Config& c) {
    c.metrics_allow = ParseCidrList("10.0.0.0/8", "--metrics-allow").value();
  });
  auto refused = world.Send(MakeRequest(bh::verb::get, "/metrics"), "127.0.0.1");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status(), 403);
  EXPECT_EQ(ErrorCode(*refused), "permission_denied");
  EXPECT_EQ(refused->response.body().find("keyward_"), std::string::npos);
  auto allowed = world.Send(MakeRequest(bh::verb::get, "/metrics"), "10.1.2.3");
  ASSERT_TRUE(allowed.has_value());
  EXPECT_EQ(allowed->status(), 200);
  EXPECT_NE(allowed->response.body().find("keyward_canary_uses_total"), std::string::npos);
  // /healthz stays open.
  auto health = world.Send(MakeRequest(bh::verb::get, "/healthz"), "127.0.0.1");
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status(), 200);
}

}  // namespace
}  // namespace keyward
