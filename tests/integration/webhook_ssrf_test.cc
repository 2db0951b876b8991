// Where webhooks may not go (issue 15, acceptance 7): without --webhook-allow-private a webhook
// URL to a loopback, private, link-local or metadata address, or to a name resolving to one
// (`localhost`), is refused with a 4xx when it is made; a public address is accepted. And a
// receiver that redirects is not followed: the one it points to never hears a request, and the
// delivery records the 302.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "harness.h"
#include "webhook_receiver.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

TEST(WebhookSsrfTest, LocalAndPrivateTargetsAreRefusedWithoutTheFlag) {
  WebhookReceiver receiver;  // a real listener on 127.0.0.1: refused all the same
  auto server = ServerProcess::Start();
  ASSERT_GT(server->port(), 0);
  const std::string admin = server->Login("admin", kAdminPassword);
  const std::string port = std::to_string(receiver.port());
  for (const std::string& url :
       {receiver.Url(), std::string("http://10.0.0.1/hook"),
        std::string("http://169.254.169.254/latest/meta-data/"), "http://[::1]:" + port + "/hook",
        "http://localhost:" + port + "/hook", std::string("http://127.1/hook"),
        std::string("http://192.168.1.1/hook"), std::string("http://[::ffff:127.0.0.1]/hook")}) {
    HttpResult r = server->As(admin, "POST", "/api/v1/webhooks", {{"url", url}});
    EXPECT_GE(r.status, 400) << url << ": " << r.body;
    EXPECT_LT(r.status, 500) << url << ": " << r.body;
  }
  // A public address literal (no lookup needed) is accepted: the refusals above are the rule,
  // not a broken route. Deleted at once, before any key event could be sent to it.
  HttpResult ok = server->As(admin, "POST", "/api/v1/webhooks",
                             {{"url", "http://93.184.216.34/hook"}, {"events", {"key.expired"}}});
  ASSERT_EQ(ok.status, 201) << ok.body;
  RememberSecret(Str(ok.Json(), "secret"));
  EXPECT_EQ(server->As(admin, "DELETE", "/api/v1/webhooks/" + Str(ok.Json(), "id")).status, 204);
  HttpResult listed = server->As(admin, "GET", "/api/v1/webhooks");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_TRUE(listed.Json().as_array().empty()) << listed.body;
  EXPECT_EQ(receiver.Count(), 0u);
}

TEST(WebhookSsrfTest, ARedirectIsNotFollowed) {
  WebhookReceiver target;  // where the redirect points
  WebhookReceiver redirecting([&](const ReceivedHook&, int) {
    return HookAnswer{302, {{"Location", target.Url("/elsewhere")}}};
  });
  auto server = ServerProcess::Start(
      {"--webhook-allow-private", "--webhook-retry-min", "1s", "--webhook-timeout", "2s"});
  ASSERT_GT(server->port(), 0);
  const std::string admin = server->Login("admin", kAdminPassword);
  HttpResult hook = server->As(admin, "POST", "/api/v1/webhooks",
                               {{"url", redirecting.Url()}, {"events", {"key.created"}}});
  ASSERT_EQ(hook.status, 201) << hook.body;
  RememberSecret(Str(hook.Json(), "secret"));
  const std::string id = Str(hook.Json(), "id");
  ASSERT_FALSE(server->NewKey(admin, "admin", "redirected").empty());

  EXPECT_TRUE(
      redirecting.WaitFor([](const auto& got) { return !got.empty(); }, std::chrono::seconds(10)));
  json::value delivery;
  EXPECT_TRUE(Eventually(
      [&] {
        HttpResult d = server->As(admin, "GET", "/api/v1/webhooks/" + id + "/deliveries");
        if (d.status != 200 || d.Json().as_array().empty()) return false;
        delivery = d.Json().as_array().at(0);
        const auto* status = delivery.as_object().if_contains("last_status");
        return status != nullptr && status->is_int64() && status->as_int64() == 302;
      },
      std::chrono::seconds(5)))
      << delivery;
  EXPECT_EQ(Str(delivery, "event_type"), "key.created") << delivery;
  EXPECT_EQ(Str(delivery, "state"), "pending") << "a 302 is a failed attempt, retried";
  // A follower would have asked the target right away; give it the time of a retry too.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(target.Count(), 0u) << "the redirect was followed";
}

}  // namespace
}  // namespace keyward::testing
