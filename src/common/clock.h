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

// "2023-08-10T23:00:00Z"
std::string FormatRfc3339(UnixSeconds t);
// Parses the form FormatRfc3339 writes (and a trailing "+00:00"); nullopt otherwise.
std::optional<UnixSeconds> ParseRfc3339(std::string_view text);

}  // namespace keyward
