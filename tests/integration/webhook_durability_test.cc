// Webhook durability under SIGKILL (issue 15, acceptance 5): 20 rounds in which clients create
// and delete keys on a SQLite server until it is killed at a random moment, then restarted on
// the same data dir. The events go to an outbox in the change's own transaction, so every
// change the server acknowledged (201 to a create, 204 to a delete) must have its key.created /
// key.deleted delivered at least once after the final restart: 0 lost. Duplicates are allowed
// (a delivery cut off by the kill is sent again once its lease ends) and counted.
//
// The receiver lives in the test for all rounds; the server delivers to it on 127.0.0.1
// (--webhook-allow-private) with a short timeout, so leases of cut-off deliveries (2 × timeout
// + 5 s) end within seconds. KEYWARD_WEBHOOK_CRASH_SEED repeats the kill delays of a run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "webhook_receiver.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr int kRounds = 20;
constexpr int kClients = 8;
constexpr int kMinKillMs = 80;
constexpr int kMaxKillMs = 400;
constexpr char kUser[] = "hooked";

double MillisSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// What the clients of all rounds saw.
struct Changes {
  std::mutex mu;
  std::set<std::string> acknowledged;  // "key.created NAME" / "key.deleted NAME"
  std::vector<std::string> failures;   // a wrong status (not a broken connection)
};

// Records an answer: `wanted` acknowledges the change ("create NAME" → "key.created NAME"),
// another status is a failure. Returns whether it was `wanted`.
bool Note(Changes& changes, const std::string& change, const HttpResult& answer, int wanted) {
  std::lock_guard lock(changes.mu);
  if (answer.status != wanted) {
    changes.failures.push_back(change + ": " + std::to_string(answer.status) + " " + answer.body);
    return false;
  }
  const bool create = change.rfind("create ", 0) == 0;
  changes.acknowledged.insert((create ? "key.created " : "key.deleted ") +
                              change.substr(change.find(' ') + 1));
  return true;
}

// One client of a round: creates a key, deletes it, and again, until its connection breaks.
void Churn(const ServerProcess& server, const std::string& admin, int round, int client,
           Changes& changes) {
  const std::string keys = std::string("/api/v1/users/") + kUser + "/apikeys";
  const std::string keys_slash = keys + "/";
  for (int i = 0; i < 10'000; ++i) {
    const std::string name =
        "r" + std::to_string(round) + "-c" + std::to_string(client) + "-" + std::to_string(i);
    HttpResult made, gone;
    try {
      made = server.As(admin, "POST", keys, {{"name", name}, {"duration", "1h"}});
    } catch (const std::exception&) {
      return;  // the kill
    }
    if (!Note(changes, "create " + name, made, 201)) return;
    RememberSecret(std::string(made.Json().at("token").as_string()));
    try {
      gone = server.As(admin, "DELETE", keys_slash + name);
    } catch (const std::exception&) {
      return;
    }
    if (!Note(changes, "delete " + name, gone, 204)) return;
  }
}

class WebhookDurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = MakeTempDir(); }
  void TearDown() override {
    server_.reset();
    RemoveTree(root_);
  }

  void Start() {
    server_ = ServerProcess::Start({"--webhook-allow-private", "--webhook-timeout", "1s",
                                    "--webhook-retry-min", "1s", "--webhook-workers", "4"},
                                   root_ + "/data");
    ASSERT_GT(server_->port(), 0);
    if (admin_.empty()) admin_ = server_->Login("admin", kAdminPassword);
    ASSERT_FALSE(admin_.empty());
  }

  std::string root_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(WebhookDurabilityTest, EveryAcknowledgedChangeIsDeliveredAfterSigkill) {
  const char* seed_text = std::getenv("KEYWARD_WEBHOOK_CRASH_SEED");
  const std::uint32_t seed = seed_text != nullptr && *seed_text != '\0'
                                 ? static_cast<std::uint32_t>(std::strtoul(seed_text, nullptr, 10))
                                 : std::random_device{}();
  std::printf("webhook durability: %d rounds, seed %u (KEYWARD_WEBHOOK_CRASH_SEED)\n", kRounds,
              seed);
  std::mt19937 random(seed);
  WebhookReceiver receiver;
  const auto started = Clock::now();
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_EQ(server_
                ->As(admin_, "POST", "/api/v1/users",
                     {{"id", kUser}, {"name", kUser}, {"type", "application"}})
                .status,
            201);
  HttpResult hook = server_->As(
      admin_, "POST", "/api/v1/webhooks",
      {{"url", receiver.Url()}, {"events", {"key.created", "key.deleted"}}, {"users", {kUser}}});
  ASSERT_EQ(hook.status, 201) << hook.body;
  RememberSecret(std::string(hook.Json().at("secret").as_string()));

  Changes changes;
  for (int round = 1; round <= kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + ", seed " + std::to_string(seed));
    if (server_ == nullptr) {
      ASSERT_NO_FATAL_FAILURE(Start());
    }
    std::vector<std::thread> clients;
    clients.reserve(kClients);
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] { Churn(*server_, admin_, round, c, changes); });
    }
    const int delay = std::uniform_int_distribution<int>(kMinKillMs, kMaxKillMs)(random);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    server_->Kill();
    for (auto& client : clients) client.join();
    server_.reset();
  }
  for (const std::string& f : changes.failures) ADD_FAILURE() << f;
  ASSERT_NO_FATAL_FAILURE(Start());  // the final restart
  const auto restarted = Clock::now();

  auto missing = [&](const std::vector<ReceivedHook>& got) {
    std::set<std::string> seen;
    for (const ReceivedHook& h : got) seen.insert(h.Type() + " " + h.Data("key"));
    std::vector<std::string> lost;
    for (const std::string& change : changes.acknowledged) {
      if (seen.count(change) == 0) lost.push_back(change);
    }
    return lost;
  };
  // Cut-off deliveries wait for their lease (2 × 1 s + 5 s), then a retry.
  const bool all =
      receiver.WaitFor([&](const std::vector<ReceivedHook>& got) { return missing(got).empty(); },
                       std::chrono::seconds(25));
  const double wait_ms = MillisSince(restarted);
  const std::vector<ReceivedHook> got = receiver.Received();
  std::map<std::string, int> per_id;
  for (const ReceivedHook& h : got) ++per_id[h.MessageId()];
  int duplicates = 0;
  for (const auto& [id, n] : per_id) duplicates += n - 1;
  const std::vector<std::string> lost = missing(got);
  std::printf(
      "webhook durability: %zu changes acknowledged in %d rounds; %zu deliveries of %zu "
      "events (%d duplicates); %zu lost; all there %.1f ms after the final restart; "
      "%.1f s in all\n",
      changes.acknowledged.size(), kRounds, got.size(), per_id.size(), duplicates, lost.size(),
      wait_ms, MillisSince(started) / 1000.0);
  EXPECT_TRUE(all);
  for (std::size_t i = 0; i < lost.size() && i < 20; ++i) {
    ADD_FAILURE() << "acknowledged, never delivered: " << lost[i];
  }
  EXPECT_GT(changes.acknowledged.size(), static_cast<std::size_t>(kRounds))
      << "too few changes before the kills to prove anything";
  for (const ReceivedHook& h : got) {
    EXPECT_EQ(h.Data("user"), kUser) << h.body;
    EXPECT_FALSE(h.MessageId().empty());
  }
}

}  // namespace
}  // namespace keyward::testing
