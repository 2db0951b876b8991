// Exponential backoff after failed sign-ins, per user name and per client address.
//
// After `free_failures` failures for a name (or address), the next attempt is refused without
// checking the password until a backoff of 1 s, 2 s, 4 s … (at most `max_backoff`) has passed.
// Names that do not exist are counted the same way, so a throttled answer does not tell a
// known user from an unknown one.
//
// An attempt is counted as a failure when it is admitted, before its password is checked, and
// taken back when it succeeds: concurrent attempts cannot all slip through before the first
// failure is recorded. So at most `free_failures` passwords per name are ever checked in a
// burst, and with the backoff capped at 15 minutes at most about 20 an hour.
//
// Memory is bounded: at most kMaxEntries names and addresses are remembered; entries not
// locked are dropped first. Thread safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/thread_annotations.h"

namespace keyward {

class LoginThrottle {
 public:
  static constexpr std::size_t kMaxEntries = 100'000;

  LoginThrottle(int free_failures_per_name, int free_failures_per_address, std::int64_t max_backoff)
      : free_per_name_(free_failures_per_name),
        free_per_address_(free_failures_per_address),
        max_backoff_(max_backoff) {}

  // Admits one attempt of `name` from `address` and counts it as a failure until
  // RecordSuccess says otherwise: returns 0. Or, while either is locked, admits nothing and
  // returns the seconds to wait.
  std::int64_t Admit(std::string_view name, std::string_view address, UnixSeconds now);
  // The admitted attempt succeeded: clears the name's failures and takes the attempt back
  // from the address's count.
  void RecordSuccess(std::string_view name, std::string_view address);
  // The admitted attempt was not decided (the store failed): it counts for nothing.
  void Release(std::string_view name, std::string_view address);

 private:
  struct Entry {
    int failures = 0;
    UnixSeconds locked_until = 0;
  };
  void Fail(std::unordered_map<std::string, Entry>& map, std::string_view key, int free_failures,
            UnixSeconds now) REQUIRES(mu_);
  void TakeBack(std::unordered_map<std::string, Entry>& map, std::string_view key,
                int free_failures) REQUIRES(mu_);
  void Prune(std::unordered_map<std::string, Entry>& map, UnixSeconds now) REQUIRES(mu_);

  const int free_per_name_;
  const int free_per_address_;
  const std::int64_t max_backoff_;
  Mutex mu_;
  std::unordered_map<std::string, Entry> by_name_ GUARDED_BY(mu_);
  std::unordered_map<std::string, Entry> by_address_ GUARDED_BY(mu_);
};

}  // namespace keyward
