// Wall-clock time as whole Unix seconds, and RFC 3339 formatting.
//
// Every timestamp Keyward stores or sends is UTC with second precision. A Clock can be replaced
// in tests to move time without sleeping. Thread safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keyward {

using UnixSeconds = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixSeconds Now() const = 0;
  // The process-wide system clock.
  static const Clock& System();
};

// A clock that tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixSeconds start) : now_(start) {}
  UnixSeconds Now() const override { return now_.load(); }
  void Advance(UnixSeconds seconds) { now_ += seconds; }

 private:
  std::atomic<UnixSeconds> now_;
};

// The one RFC 3339 writer and reader of Keyward.

// `t` in UTC, to the second: "2023-08-10T23:00:00Z".
std::string FormatRfc3339(UnixSeconds t);

// An RFC 3339 date-time (section 5.6): YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), with
// 'T' and 'Z' in either case. Every field must be in range (month 1-12, a day the month has,
// hour 0-23, minute 0-59, second 0-60, offset hours 0-23 and minutes 0-59). The fraction is
// dropped; a leap second (:60) counts as the next second. nullopt for anything else.
std::optional<UnixSeconds> ParseRfc3339(std::string_view text);

}  // namespace keyward
