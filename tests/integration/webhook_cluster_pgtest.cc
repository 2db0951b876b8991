// Webhooks on two keyward nodes sharing one PostgreSQL, no faults (issue 15, acceptance 6):
// while clients create and delete keys on both nodes at once, both nodes' dispatchers deliver
// from the one outbox, and every event reaches the one webhook exactly once: one request per
// webhook-id, one event per acknowledged change. Each node's /metrics shows it delivered some
// (so exactly once is not one node doing it all), and their counts add up to the events.
//
// Needs the server `scripts/with-postgres` starts; without KEYWARD_TEST_PG_URL it is skipped.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backend_fixture.h"
#include "harness.h"
#include "webhook_receiver.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr int kClientsPerNode = 3;
constexpr int kKeysPerClient = 20;  // each created, then deleted: 240 changes in all

// keyward_webhook_deliveries_total{outcome="delivered"} as the node on `port` shows it now; -1
// when /metrics does not hold it.
long Delivered(std::uint16_t port) {
  HttpResult m = Call(port, "GET", "/metrics");
  const std::string line = "keyward_webhook_deliveries_total{outcome=\"delivered\"} ";
  const auto at = m.body.find(line);
  if (m.status != 200 || at == std::string::npos) return -1;
  return std::stol(m.body.substr(at + line.size()));
}

class WebhookClusterTest : public PostgresClusterTest {
 protected:
  WebhookClusterTest() : PostgresClusterTest("kw_webhooks_") {}
};

TEST_F(WebhookClusterTest, EveryEventIsDeliveredExactlyOnce) {
  WebhookReceiver receiver;
  ASSERT_NO_FATAL_FAILURE(StartBoth({"--webhook-allow-private", "--webhook-retry-min", "1s",
                                     "--webhook-timeout", "2s", "--webhook-workers", "4"}));
  HttpResult hook = a_->As(admin_a_, "POST", "/api/v1/webhooks", {{"url", receiver.Url()}});
  ASSERT_EQ(hook.status, 201) << hook.body;
  RememberSecret(std::string(hook.Json().at("secret").as_string()));
  for (const auto& [node, session] : {std::pair{a_.get(), admin_a_}, {b_.get(), admin_b_}}) {
    ASSERT_EQ(node->As(session, "POST", "/api/v1/users",
                       {{"id", "u" + std::to_string(node->port())},
                        {"name", "node user"},
                        {"type", "application"}})
                  .status,
              201);
  }

  // The changes each node acknowledged, as "type user key".
  std::mutex mu;
  std::multiset<std::string> acknowledged;
  std::vector<std::string> failures;
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  clients.reserve(2 * kClientsPerNode);
  for (int c = 0; c < 2 * kClientsPerNode; ++c) {
    clients.emplace_back([&, c] {
      const ServerProcess& node = c % 2 == 0 ? *a_ : *b_;
      const std::string& session = c % 2 == 0 ? admin_a_ : admin_b_;
      const std::string user = "u" + std::to_string(node.port());
      const std::string keys = "/api/v1/users/" + user + "/apikeys";
      const std::string keys_slash = keys + "/";
      const std::string user_space = user + " ";
      for (int i = 0; i < kKeysPerClient; ++i) {
        const std::string name = "c" + std::to_string(c) + "-" + std::to_string(i);
        const std::string user_and_key = user_space + name;
        HttpResult made = node.As(session, "POST", keys, {{"name", name}, {"duration", "1h"}});
        std::lock_guard lock(mu);
        if (made.status != 201) {
          failures.push_back("create " + name + ": " + std::to_string(made.status));
          return;
        }
        RememberSecret(std::string(made.Json().at("token").as_string()));
        acknowledged.insert("key.created " + user_and_key);
        HttpResult gone = node.As(session, "DELETE", keys_slash + name);
        if (gone.status != 204) {
          failures.push_back("delete " + name + ": " + std::to_string(gone.status));
          return;
        }
        acknowledged.insert("key.deleted " + user_and_key);
      }
    });
  }
  for (auto& client : clients) client.join();
  for (const std::string& f : failures) ADD_FAILURE() << f;
  const double changes_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();

  const std::size_t wanted = acknowledged.size();
  const auto waited_from = Clock::now();
  const bool all =
      receiver.WaitFor([&](const std::vector<ReceivedHook>& got) { return got.size() >= wanted; },
                       std::chrono::seconds(30));
  const double wait_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - waited_from).count();
  // A duplicate would come from a second node or a lost lease: give one a chance to show.
  std::this_thread::sleep_for(std::chrono::seconds(1));

  std::map<std::string, int> per_id;
  std::multiset<std::string> delivered;
  for (const ReceivedHook& h : receiver.Received()) {
    ++per_id[h.MessageId()];
    delivered.insert(h.Type() + " " + h.Data("user") + " " + h.Data("key"));
  }
  int duplicates = 0;
  for (const auto& [id, n] : per_id) {
    EXPECT_FALSE(id.empty()) << "a delivery without webhook-id";
    if (n > 1) {
      duplicates += n - 1;
      ADD_FAILURE() << id << " delivered " << n << " times";
    }
  }
  std::printf(
      "two nodes: %zu changes acknowledged in %.1f ms; %zu requests, %zu webhook-ids, "
      "%d duplicates; all in %.1f ms after the last change\n",
      wanted, changes_ms, receiver.Count(), per_id.size(), duplicates, wait_ms);
  EXPECT_TRUE(all) << receiver.Count() << " of " << wanted << " events arrived";
  EXPECT_EQ(wanted, static_cast<std::size_t>(4 * kClientsPerNode * kKeysPerClient));
  EXPECT_EQ(delivered, acknowledged) << "every change's event, and no other";
  const long by_a = Delivered(a_->port());
  const long by_b = Delivered(b_->port());
  std::printf("delivered by node A: %ld, by node B: %ld\n", by_a, by_b);
  EXPECT_GT(by_a, 0) << "node A delivered nothing";
  EXPECT_GT(by_b, 0) << "node B delivered nothing";
  EXPECT_EQ(by_a + by_b, static_cast<long>(wanted));
}

}  // namespace
}  // namespace keyward::testing
