#include "service/login_throttle.h"

#include <gtest/gtest.h>

namespace keyward {
namespace {

TEST(LoginThrottleTest, FreeFailuresThenExponentialBackoff) {
  LoginThrottle t(5, 100, 900);
  UnixSeconds now = 1000;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.RetryAfter("alice", "10.0.0.1", now), 0) << i;
    t.RecordFailure("alice", "10.0.0.1", now);
  }
  // Locks last their backoff (1 s, 2 s, 4 s …) plus the rest of the current second.
  EXPECT_EQ(t.RetryAfter("alice", "10.0.0.1", now), 2);
  now += 2;
  t.RecordFailure("alice", "10.0.0.1", now);
  EXPECT_EQ(t.RetryAfter("alice", "10.0.0.1", now), 3);
  now += 3;
  t.RecordFailure("alice", "10.0.0.1", now);
  EXPECT_EQ(t.RetryAfter("alice", "10.0.0.1", now), 5);
  EXPECT_EQ(t.RetryAfter("bob", "10.0.0.2", now), 0);
}

TEST(LoginThrottleTest, BackoffIsCapped) {
  LoginThrottle t(0, 1000, 900);
  for (int i = 0; i < 60; ++i) t.RecordFailure("alice", "a", 0);
  EXPECT_EQ(t.RetryAfter("alice", "a", 0), 901);
}

TEST(LoginThrottleTest, SuccessClearsTheName) {
  LoginThrottle t(1, 100, 900);
  t.RecordFailure("alice", "a", 0);
  t.RecordFailure("alice", "a", 0);
  EXPECT_GT(t.RetryAfter("alice", "a", 0), 0);
  t.RecordSuccess("alice");
  EXPECT_EQ(t.RetryAfter("alice", "a", 0), 0);
}

TEST(LoginThrottleTest, AddressIsThrottledAcrossNames) {
  LoginThrottle t(100, 3, 900);
  for (int i = 0; i < 4; ++i) t.RecordFailure("user" + std::to_string(i), "10.9.9.9", 0);
  EXPECT_GT(t.RetryAfter("someone-else", "10.9.9.9", 0), 0);
  EXPECT_EQ(t.RetryAfter("someone-else", "10.1.1.1", 0), 0);
}

}  // namespace
}  // namespace keyward
