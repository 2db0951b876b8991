// Webhooks end to end below HTTP: WebhookService registers endpoints in a real SQLite store,
// WebhookDispatcher delivers to a real HTTP receiver on 127.0.0.1 (webhook_test_receiver.h),
// and the receiver's side checks each signature the Standard Webhooks way with OpenSSL.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <chrono>

#include "common/random.h"
#include "common/status_matchers.h"
#include "core/user.h"
#include "service/audit_log.h"
#include "service/webhook_dispatcher.h"
#include "service/webhook_service.h"
#include "service/webhook_test_receiver.h"
#include "service/webhook_test_world.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// The signature a receiver computes, independently of the sender's code (OpenSSL, not
// libsodium): "v1," + base64(HMAC-SHA256(base64-decoded secret, "<id>.<timestamp>.<body>")).
std::string ReceiverSignature(const std::string& secret, const std::string& id,
                              const std::string& timestamp, const std::string& body) {
  const std::string encoded = secret.substr(std::string("whsec_").size());
  std::string key(encoded.size(), '\0');
  int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(key.data()),
                               reinterpret_cast<const unsigned char*>(encoded.data()),
                               static_cast<int>(encoded.size()));
  length -= static_cast<int>(std::count(encoded.end() - 2, encoded.end(), '='));
  key.resize(static_cast<std::size_t>(std::max(length, 0)));
  const std::string text = id + "." + timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &mac_length);
  std::string out(4 * ((mac_length + 2) / 3) + 1, '\0');
  const int out_length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac,
                                         static_cast<int>(mac_length));
  out.resize(static_cast<std::size_t>(out_length));
  return "v1," + out;
}

TEST(WebhookSignatureTest, MatchesTheStandardWebhooksTestVector) {
  // From the standard-webhooks repository (libraries/javascript/src/webhook.test.ts,
  // "sign function works").
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const std::string body = R"({"test": 2432232314})";
  KW_ASSERT_OK_AND_ASSIGN(std::string signature, SignWebhook(secret, id, 1614265330, body));
  EXPECT_EQ(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_EQ(ReceiverSignature(secret, id, "1614265330", body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_NE(SignWebhook(secret, id, 1614265331, body).value(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  for (const char* bad : {"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not*base64"}) {
    EXPECT_THAT(SignWebhook(bad, id, 1614265330, body), StatusIs(StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(WebhookSignatureTest, NewSecretsAreThirtyTwoRandomBytes) {
  ASSERT_TRUE(InitCrypto());
  const std::string a = NewWebhookSecret();
  const std::string b = NewWebhookSecret();
  EXPECT_THAT(a, StartsWith("whsec_"));
  EXPECT_EQ(a.size(), std::string("whsec_").size() + 44);  // base64 of 32 bytes
  EXPECT_NE(a, b);
  auto signature = SignWebhook(a, "msg_1", 1700000000, "{}");
  ASSERT_THAT(signature, IsOk());
  EXPECT_EQ(*signature, ReceiverSignature(a, "msg_1", "1700000000", "{}"));
}

class WebhookTest : public WebhookWorld {
 protected:
  void SetUp() override {
    options_.allow_private = true;  // the receiver is on 127.0.0.1
    options_.timeout_ms = 2000;
    options_.retry_min = 1;
    options_.workers = 0;  // RunOnce only: each test decides when an attempt happens
    OpenWorld();
  }

  CreatedWebhook Register(const std::string& url) {
    NewWebhook in;
    in.url = url;
    auto created = service_->Create(admin_, in);
    EXPECT_THAT(created, IsOk());
    return created.ok() ? *created : CreatedWebhook{};
  }
  std::unique_ptr<WebhookDispatcher> Dispatcher(const WebhookOptions& options) {
    return std::make_unique<WebhookDispatcher>(*store_, master_.get(), options, clock_);
  }
  // A key.created event for alice's key "ci", now.
  void AnnounceKey() {
    WebhookEvent event;
    event.type = "key.created";
    event.time = clock_.Now();
    event.user_id = "alice";
    event.data = R"({"user":"alice","key":"ci","expiration":"2030-01-01T00:00:00Z"})";
    KW_EXPECT_OK(store_->AppendEvents({event}));
  }
  Delivery OnlyDelivery(const std::string& webhook_id) {
    auto deliveries = store_->ListDeliveries(webhook_id, 10);
    EXPECT_THAT(deliveries, IsOk());
    if (!deliveries.ok() || deliveries->size() != 1) {
      ADD_FAILURE() << "expected one delivery";
      return {};
    }
    return deliveries->front();
  }

  TestReceiver receiver_;
};

TEST_F(WebhookTest, ADeliveryIsSignedAndCarriesThePayload) {
  const CreatedWebhook hook = Register(receiver_.Url());
  KW_ASSERT_OK_AND_ASSIGN(WebhookEvent event, service_->Test(admin_, hook.webhook.id));
  EXPECT_GT(event.id, 0);
  EXPECT_EQ(Dispatcher(options_)->RunOnce(), 1u);

  ASSERT_EQ(receiver_.requests().size(), 1u);
  const TestReceiver::Request request = receiver_.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/hooks/keyward?tenant=t1");
  EXPECT_EQ(request.headers.at("content-type"), "application/json");
  EXPECT_EQ(request.headers.at("webhook-id"), MessageId(event.id));
  EXPECT_EQ(request.headers.at("webhook-timestamp"), std::to_string(clock_.Now()));
  EXPECT_EQ(request.headers.at("webhook-signature"),
            ReceiverSignature(hook.secret, request.headers.at("webhook-id"),
                              request.headers.at("webhook-timestamp"), request.body));
  const boost::json::value body = boost::json::parse(request.body);
  EXPECT_EQ(body.at("type").as_string(), "webhook.test");
  EXPECT_EQ(body.at("timestamp").as_string(), FormatRfc3339(event.time));
  EXPECT_EQ(body.at("data").at("webhook").as_string(), hook.webhook.id);

  const Delivery delivery = OnlyDelivery(hook.webhook.id);
  EXPECT_EQ(delivery.state, DeliveryState::kDelivered);
  EXPECT_EQ(delivery.attempts, 1);
  EXPECT_EQ(delivery.last_status, 200);
  EXPECT_EQ(delivery.last_error, "");
}

TEST_F(WebhookTest, WorkersDeliverAtOnceWhenNudged) {
  WebhookOptions options = options_;
  options.workers = 2;
  auto dispatcher = Dispatcher(options);
  WebhookService service(*store_, master_.get(), options_, clock_, nullptr, dispatcher.get());
  NewWebhook in;
  in.url = receiver_.Url();
  KW_ASSERT_OK_AND_ASSIGN(CreatedWebhook hook, service.Create(admin_, in));
  KW_ASSERT_OK_AND_ASSIGN(WebhookEvent event, service.Test(admin_, hook.webhook.id));
  ASSERT_TRUE(receiver_.WaitForRequests(1, std::chrono::seconds(10)));
  dispatcher->Stop();  // finishes the attempt under way
  EXPECT_EQ(receiver_.requests()[0].headers.at("webhook-id"), MessageId(event.id));
  EXPECT_EQ(OnlyDelivery(hook.webhook.id).state, DeliveryState::kDelivered);
  EXPECT_EQ(dispatcher->Counters().delivered, 1u);
}

TEST_F(WebhookTest, AServerErrorIsRetriedWithTheSameMessageId) {
  const CreatedWebhook hook = Register(receiver_.Url());
  receiver_.Script({{.status = 500}, {.status = 200}});
  AnnounceKey();
  auto dispatcher = Dispatcher(options_);
  EXPECT_EQ(dispatcher->RunOnce(), 1u);
  Delivery delivery = OnlyDelivery(hook.webhook.id);
  EXPECT_EQ(delivery.state, DeliveryState::kPending);
  EXPECT_EQ(delivery.attempts, 1);
  EXPECT_EQ(delivery.last_status, 500);
  EXPECT_EQ(delivery.last_error, "HTTP 500");
  EXPECT_EQ(delivery.last_attempt_at, clock_.Now());
  EXPECT_EQ(delivery.next_attempt_at, clock_.Now() + 1);  // retry_min 1 s ± 20 %, in seconds

  EXPECT_EQ(dispatcher->RunOnce(), 0u);  // not due yet
  clock_.Advance(1);
  EXPECT_EQ(dispatcher->RunOnce(), 1u);
  delivery = OnlyDelivery(hook.webhook.id);
  EXPECT_EQ(delivery.state, DeliveryState::kDelivered);
  EXPECT_EQ(delivery.attempts, 2);
  EXPECT_EQ(delivery.last_status, 200);
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].headers.at("webhook-id"), requests[1].headers.at("webhook-id"));
  EXPECT_EQ(requests[0].body, requests[1].body);
  EXPECT_EQ(dispatcher->Counters().retried, 1u);
  EXPECT_EQ(dispatcher->Counters().delivered, 1u);
}

TEST_F(WebhookTest, ARedirectIsNotFollowed) {
  const CreatedWebhook hook = Register(receiver_.Url());
  receiver_.Script({{.status = 302, .location = receiver_.Url() + "&moved=1"}});
  AnnounceKey();
  EXPECT_EQ(Dispatcher(options_)->RunOnce(), 1u);
  EXPECT_EQ(receiver_.requests().size(), 1u);
  EXPECT_EQ(receiver_.connections(), 1);
  const Delivery delivery = OnlyDelivery(hook.webhook.id);
  EXPECT_EQ(delivery.state, DeliveryState::kPending);
  EXPECT_EQ(delivery.attempts, 1);
  EXPECT_EQ(delivery.last_status, 302);
  EXPECT_THAT(delivery.last_error, HasSubstr("HTTP 302"));
}

TEST_F(WebhookTest, AReceiverThatNeverAnswersTimesOut) {
  const CreatedWebhook hook = Register(receiver_.Url());
  receiver_.Script({{.silent = true}});
  AnnounceKey();
  WebhookOptions quick = options_;
  quick.timeout_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Dispatcher(quick)->RunOnce(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  const Delivery delivery = OnlyDelivery(hook.webhook.id);
  EXPECT_EQ(delivery.state, DeliveryState::kPending);
  EXPECT_EQ(delivery.last_status, 0);
  EXPECT_EQ(delivery.last_error, "timed out");
}

// Review finding 6: the dead receiver's deliveries come first, yet with two workers the other
// webhook's delivery does not wait for the dead one's timeout (10 s): one delivery in flight per
// webhook leaves the second worker free.
TEST_F(WebhookTest, AReceiverThatNeverAnswersDoesNotDelayAnotherWebhook) {
  auto dead = std::make_unique<TestReceiver>();
  dead->Script({{.silent = true}, {.silent = true}, {.silent = true}, {.silent = true}});
  const CreatedWebhook stuck = Register(dead->Url());
  for (int i = 0; i < 3; ++i) AnnounceKey();  // older than anything for the live webhook
  const CreatedWebhook live = Register(receiver_.Url());
  AnnounceKey();
  WebhookOptions options = options_;
  options.workers = 2;
  options.timeout_ms = 10'000;
  auto dispatcher = Dispatcher(options);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(receiver_.WaitForRequests(1, std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_TRUE(dead->WaitForRequests(1, std::chrono::seconds(5)));
  EXPECT_EQ(dead->requests().size(), 1u);  // its other deliveries wait for the one in flight
  dead.reset();                            // closes the held connection: the attempt ends
  dispatcher->Stop();
  EXPECT_EQ(OnlyDelivery(live.webhook.id).state, DeliveryState::kDelivered);
  EXPECT_EQ(dispatcher->Counters().delivered, 1u);
  auto deliveries = store_->ListDeliveries(stuck.webhook.id, 10);
  ASSERT_THAT(deliveries, IsOk());
  for (const Delivery& d : *deliveries) EXPECT_NE(d.state, DeliveryState::kDelivered);
}

TEST_F(WebhookTest, ADeliveryFailsOnceRetryForHasPassed) {
  const CreatedWebhook hook = Register(receiver_.Url());
  receiver_.Script({{.status = 503}, {.status = 503}, {.status = 503}});
  AnnounceKey();
  WebhookOptions brief = options_;
  brief.retry_for = 10;
  auto dispatcher = Dispatcher(brief);
  EXPECT_EQ(dispatcher->RunOnce(), 1u);
  EXPECT_EQ(OnlyDelivery(hook.webhook.id).state, DeliveryState::kPending);
  clock_.Advance(3);  // retry_min 1 s: the second attempt waits 2 s ± 20 %
  EXPECT_EQ(dispatcher->RunOnce(), 1u);
  Delivery delivery = OnlyDelivery(hook.webhook.id);
  EXPECT_EQ(delivery.state, DeliveryState::kPending);
  EXPECT_LE(delivery.next_attempt_at, clock_.Now() + 5);
  clock_.Advance(7);  // event time + 10 s
  EXPECT_EQ(dispatcher->RunOnce(), 1u);
  delivery = OnlyDelivery(hook.webhook.id);
  EXPECT_EQ(delivery.state, DeliveryState::kFailed);
  EXPECT_EQ(delivery.attempts, 3);
  EXPECT_EQ(delivery.last_error, "HTTP 503");
  clock_.Advance(3600);
  EXPECT_EQ(dispatcher->RunOnce(), 0u);
  EXPECT_EQ(dispatcher->Counters().failed, 1u);
  EXPECT_EQ(receiver_.requests().size(), 3u);
}

TEST_F(WebhookTest, PrivateAddressesAreRefusedAtDeliveryWithoutConnecting) {
  // Stored while private addresses were allowed; delivered by a server that refuses them.
  const CreatedWebhook by_address = Register(receiver_.Url());
  const CreatedWebhook by_name = Register(receiver_.Url("localhost"));
  AnnounceKey();
  WebhookOptions strict = options_;
  strict.allow_private = false;
  EXPECT_EQ(Dispatcher(strict)->RunOnce(), 2u);
  EXPECT_EQ(receiver_.connections(), 0);
  for (const CreatedWebhook* hook : {&by_address, &by_name}) {
    const Delivery delivery = OnlyDelivery(hook->webhook.id);
    EXPECT_EQ(delivery.state, DeliveryState::kPending);
    EXPECT_EQ(delivery.last_status, 0);
    EXPECT_THAT(delivery.last_error, HasSubstr("non-public address"));
    EXPECT_THAT(delivery.last_error, ::testing::Not(HasSubstr("tenant")));
  }
}

TEST_F(WebhookTest, NoDeliveryWithoutItsOwnSecretOrOverHttpWhenHttpsIsRequired) {
  // A sealed secret copied from another webhook does not open: nothing is sent unsigned.
  Webhook copied;
  copied.id = "wh_copied";
  copied.url = receiver_.Url();
  copied.sealed_secret = master_->Seal(NewWebhookSecret(), "wh_original");
  copied.created_by = "admin";
  KW_ASSERT_OK(store_->CreateWebhook(copied));
  // Stored as http:// before https was required.
  const CreatedWebhook plain = Register(receiver_.Url());
  AnnounceKey();
  WebhookOptions https_only = options_;
  https_only.require_https = true;
  EXPECT_EQ(Dispatcher(https_only)->RunOnce(), 2u);
  EXPECT_EQ(receiver_.connections(), 0);
  Delivery delivery = OnlyDelivery("wh_copied");
  EXPECT_EQ(delivery.state, DeliveryState::kPending);
  EXPECT_THAT(delivery.last_error, HasSubstr("secret does not open"));
  delivery = OnlyDelivery(plain.webhook.id);
  EXPECT_EQ(delivery.state, DeliveryState::kPending);
  EXPECT_EQ(delivery.last_status, 0);
  EXPECT_EQ(delivery.last_error, "refused: the URL is not https");
}

TEST_F(WebhookTest, CreateRefusesPrivateUrlsUnlessAllowed) {
  WebhookOptions strict = options_;
  strict.allow_private = false;
  WebhookService service(*store_, master_.get(), strict, clock_, nullptr, nullptr);
  for (const std::string& url :
       {receiver_.Url(), receiver_.Url("localhost"), std::string("http://10.0.0.1/h"),
        std::string("http://[::1]/h"), std::string("http://169.254.169.254/latest/meta-data")}) {
    NewWebhook in;
    in.url = url;
    EXPECT_THAT(service.Create(admin_, in), StatusIs(StatusCode::kInvalidArgument)) << url;
  }
  KW_ASSERT_OK_AND_ASSIGN(auto hooks, service.List(admin_));
  EXPECT_THAT(hooks, IsEmpty());
}

}  // namespace
}  // namespace keyward
