// Password guessing against the real server (issue 7): 1,000 wrong passwords against one
// account check at most a handful of them (the rest are refused with 429 before Argon2id
// runs), the owner gets in once the backoff ends, and a known and an unknown user get the
// same answers.
//
// Each party connects from its own loopback address (any of 127.0.0.0/8 reaches a server on
// 127.0.0.1), as the throttle also counts failures per client address.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace keyward::testing {
namespace {

std::string LoginBody(const std::string& user, const std::string& password) {
  return boost::json::serialize(boost::json::value{{"username", user}, {"password", password}});
}

class SignInAbuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ServerProcess::Start();
    ASSERT_GT(server_->port(), 0);
    admin_ = server_->Login("admin", kAdminPassword);
  }
  void TearDown() override {
    if (server_) ExpectNoSecretsIn({server_->log_path()});
  }

  void CreatePerson(const std::string& id, const std::string& password) {
    RememberSecret(password);
    auto r = server_->As(admin_, "POST", "/api/v1/users",
                         {{"id", id}, {"name", id}, {"type", "person"}, {"password", password}});
    ASSERT_EQ(r.status, 201) << r.body;
  }

  HttpResult SignIn(const std::string& from, const std::string& user, const std::string& password) {
    return CallFrom(from, server_->port(), "POST", "/api/v1/login", LoginBody(user, password));
  }

  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(SignInAbuseTest, AThousandWrongPasswordsAreThrottledAndTheOwnerGetsInAfterwards) {
  const std::string password = "victim-password-7f3a9c";
  CreatePerson("victim", password);

  // 1,000 guesses from 16 connections at once, as fast as the server answers.
  constexpr int kAttempts = 1000;
  constexpr int kThreads = 16;
  std::atomic<int> next{0};
  std::mutex mu;
  std::map<int, int> by_status;
  int without_retry_after = 0;
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < kAttempts; i = next++) {
        HttpResult r = SignIn("127.0.0.2", "victim", "guess-" + std::to_string(i));
        std::lock_guard lock(mu);
        ++by_status[r.status];
        if (r.status == 429 && r.Header("retry-after").empty()) ++without_retry_after;
      }
    });
  }
  for (auto& th : threads) th.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "1000 wrong passwords in " << seconds << " s: " << by_status[401]
            << " checked (401), " << by_status[429] << " refused unchecked (429)\n";

  // Every guess got one of the two answers, and at most 100 were even evaluated.
  EXPECT_EQ(by_status[401] + by_status[429], kAttempts);
  EXPECT_LE(by_status[401], 100);
  EXPECT_GE(by_status[401], 5);  // the free attempts were checked
  EXPECT_EQ(without_retry_after, 0);

  // The owner, from another address: told to wait, waits, and gets in; never a 401.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int waits = 0;
  for (;;) {
    HttpResult r = SignIn("127.0.0.3", "victim", password);
    if (r.status == 200) {
      RememberSecret(std::string(r.Json().at("token").as_string()));
      break;
    }
    ASSERT_EQ(r.status, 429) << r.body;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the backoff never ended";
    const int wait = std::stoi(r.Header("retry-after"));
    ASSERT_GT(wait, 0);
    ++waits;
    std::this_thread::sleep_for(std::chrono::seconds(wait));
  }
  std::cout << "the owner signed in after waiting " << waits << " time(s)\n";
  EXPECT_LE(waits, 2);  // one Retry-After is enough, give or take a second's rounding
}

// The same guesses against a user that exists and one that does not, side by side from two
// addresses: the same statuses and bodies (the seconds to wait may differ by one when a second
// boundary falls between the two calls), the same headers.
TEST_F(SignInAbuseTest, AKnownAndAnUnknownUserAreIndistinguishable) {
  CreatePerson("known-user", "known-user-password-91");
  const std::regex number("[0-9]+");
  for (int i = 0; i < 8; ++i) {
    HttpResult known = SignIn("127.0.0.4", "known-user", "wrong-" + std::to_string(i));
    HttpResult unknown = SignIn("127.0.0.5", "unknown-user", "wrong-" + std::to_string(i));
    SCOPED_TRACE("attempt " + std::to_string(i) + ": " + known.body + " | " + unknown.body);
    EXPECT_TRUE(known.status == 401 || known.status == 429);
    EXPECT_EQ(known.status, unknown.status);
    EXPECT_EQ(std::regex_replace(known.body, number, "N"),
              std::regex_replace(unknown.body, number, "N"));
    std::vector<std::string> known_headers, unknown_headers;
    for (const auto& [name, _] : known.headers) known_headers.push_back(name);
    for (const auto& [name, _] : unknown.headers) unknown_headers.push_back(name);
    EXPECT_EQ(known_headers, unknown_headers);
    if (known.status == 429) {
      EXPECT_LE(std::abs(std::stoi(known.Header("retry-after")) -
                         std::stoi(unknown.Header("retry-after"))),
                1);
    }
    // The free attempts are checked, and then the name is locked.
    EXPECT_EQ(known.status, i < 5 ? 401 : 429);
  }
}

}  // namespace
}  // namespace keyward::testing
