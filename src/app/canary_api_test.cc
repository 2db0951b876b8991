// Canary keys at /auth through ApiHandler (issue 17): the forwarded request a canary's report
// names (X-Forwarded-Method/-Uri) is read only from a trusted proxy, exactly as the client address
// is (api/client_address.h), on a store read and on a cached refusal alike; and a key in that path
// is masked.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "api/client_address.h"
#include "app/api_test_world.h"
#include "core/webhook.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
namespace json = boost::json;

// The data of the key.canary_used events delivered to `webhook`, oldest first.
std::vector<json::object> CanaryEvents(ApiWorld& world, const std::string& webhook) {
  world.graph().canary_alerts().Flush();
  std::vector<json::object> out;
  auto deliveries = world.store().ListDeliveries(webhook, 100);
  EXPECT_THAT(deliveries, IsOk());
  if (!deliveries.ok()) return out;
  for (const Delivery& delivery : *deliveries) {
    if (delivery.event.type != event::kKeyCanaryUsed) continue;
    out.push_back(json::parse(delivery.event.data).as_object());
  }
  std::reverse(out.begin(), out.end());  // listed newest first
  return out;
}

// Presents `token` at /auth from `peer` as a gateway forwarding "DELETE /orders/<token>" would.
void Present(ApiWorld& world, const std::string& token, const std::string& peer) {
  http::Request request = MakeRequest(bh::verb::get, "/auth", "", token);
  request.set("X-Forwarded-Method", "DELETE");
  request.set("X-Forwarded-Uri", "/orders/" + token + "?x=1");
  request.set("X-Forwarded-For", "203.0.113.5");
  auto answer = world.Send(std::move(request), peer);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status(), 401);
}

std::string NewCanary(ApiWorld& world) {
  NewKey in;
  in.name = "decoy";
  in.canary = true;
  auto made = world.CreateKey("alice", in);
  EXPECT_THAT(made, IsOk());
  return made.ok() ? made->token : std::string();
}

TEST(CanaryApi, TheForwardedRequestIsReadOnlyFromATrustedProxy) {
  ApiWorld world(true,
                 [](Config& c) { c.trusted_proxies = ParseTrustedProxies("10.0.0.0/8").value(); });
  const std::string webhook = world.AddWebhook();
  const std::string token = NewCanary(world);
  ASSERT_FALSE(token.empty());
  Present(world, token, "10.1.2.3");   // read from the store
  Present(world, token, "127.0.0.1");  // a cached refusal from here on
  Present(world, token, "10.1.2.3");
  const std::vector<json::object> events = CanaryEvents(world, webhook);
  ASSERT_EQ(events.size(), 3u);
  const std::string forwarded = "/orders/" + MaskKey(token);
  for (int i : {0, 2}) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i].at("address"), "203.0.113.5");
    EXPECT_EQ(events[i].at("method"), "DELETE");
    EXPECT_EQ(events[i].at("path").as_string(), forwarded);
  }
  // Not a trusted proxy: its forwarding headers are the client's own words.
  EXPECT_EQ(events[1].at("address"), "127.0.0.1");
  EXPECT_EQ(events[1].at("method"), "GET");
  EXPECT_EQ(events[1].at("path"), "/auth");
}

TEST(CanaryApi, WithoutTrustedProxiesTheForwardedRequestIsNeverRead) {
  ApiWorld world;
  const std::string webhook = world.AddWebhook();
  const std::string token = NewCanary(world);
  ASSERT_FALSE(token.empty());
  Present(world, token, "127.0.0.1");
  Present(world, token, "10.1.2.3");
  const std::vector<json::object> events = CanaryEvents(world, webhook);
  ASSERT_EQ(events.size(), 2u);
  for (const json::object& data : events) {
    EXPECT_EQ(data.at("method"), "GET");
    EXPECT_EQ(data.at("path"), "/auth");
  }
  EXPECT_EQ(events[0].at("address"), "127.0.0.1");
  EXPECT_EQ(events[1].at("address"), "10.1.2.3");
}

}  // namespace
}  // namespace keyward
