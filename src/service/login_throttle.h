// Exponential backoff after failed sign-ins, per user name and per client address.
//
// After `free_failures` failures for a name (or address), the next attempt is refused without
// checking the password until a backoff of 1 s, 2 s, 4 s … (at most `max_backoff`) has passed.
// Names that do not exist are counted the same way, so a throttled answer does not tell a
// known user from an unknown one. Memory is bounded: at most kMaxEntries names and addresses
// are remembered; entries not locked are dropped first. Thread safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace keyward {

class LoginThrottle {
 public:
  static constexpr std::size_t kMaxEntries = 100'000;

  LoginThrottle(int free_failures_per_name, int free_failures_per_address, std::int64_t max_backoff)
      : free_per_name_(free_failures_per_name),
        free_per_address_(free_failures_per_address),
        max_backoff_(max_backoff) {}

  // Seconds to wait before `name` may try again from `address`; 0 means try now.
  std::int64_t RetryAfter(std::string_view name, std::string_view address, UnixSeconds now);
  void RecordFailure(std::string_view name, std::string_view address, UnixSeconds now);
  // Clears the name's failures (the address keeps its count).
  void RecordSuccess(std::string_view name);

 private:
  struct Entry {
    int failures = 0;
    UnixSeconds locked_until = 0;
  };
  void Fail(std::unordered_map<std::string, Entry>& map, std::string key, int free_failures,
            UnixSeconds now);
  void Prune(std::unordered_map<std::string, Entry>& map, UnixSeconds now);

  const int free_per_name_;
  const int free_per_address_;
  const std::int64_t max_backoff_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> by_name_;     // guarded by mu_
  std::unordered_map<std::string, Entry> by_address_;  // guarded by mu_
};

}  // namespace keyward
