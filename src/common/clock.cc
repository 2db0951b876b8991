#include "common/clock.h"

#include <fmt/format.h>

#include <chrono>

namespace keyward {
namespace {

class SystemClock final : public Clock {
 public:
  UnixSeconds Now() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Digits only, exactly `width` of them, at text[pos...].
bool Digits(std::string_view text, std::size_t pos, std::size_t width, int& out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

// "Z", "z", "+HH:MM" or "-HH:MM" as seconds east of UTC; nullopt for anything else.
std::optional<std::int64_t> OffsetSeconds(std::string_view zone) {
  if (zone == "Z" || zone == "z") return 0;
  int hours, minutes;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !Digits(zone, 1, 2, hours) ||
      zone[3] != ':' || !Digits(zone, 4, 2, minutes) || hours > 23 || minutes > 59) {
    return std::nullopt;
  }
  return (zone[0] == '+' ? 1 : -1) * (hours * 3600 + minutes * 60);
}

}  // namespace

const Clock& Clock::System() {
  static const SystemClock clock;
  return clock;
}

std::string FormatRfc3339(UnixSeconds t) {
  using std::chrono::days;
  using std::chrono::seconds;
  const std::chrono::sys_seconds time{seconds(t)};
  const std::chrono::sys_days day = std::chrono::floor<days>(time);
  const std::chrono::year_month_day date(day);
  const std::int64_t in_day = (time - day).count();
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     in_day / 3600, in_day / 60 % 60, in_day % 60);
}

std::optional<UnixSeconds> ParseRfc3339(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !Digits(text, 0, 4, year) || text[4] != '-' ||
      !Digits(text, 5, 2, month) || text[7] != '-' || !Digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !Digits(text, 11, 2, hour) || text[13] != ':' ||
      !Digits(text, 14, 2, minute) || text[16] != ':' || !Digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::size_t pos = 19;
  if (text[pos] == '.') {
    const std::size_t digits = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == digits) return std::nullopt;
  }
  const std::optional<std::int64_t> offset = OffsetSeconds(text.substr(pos));
  if (!offset) return std::nullopt;
  const std::chrono::sys_days days(date);
  return days.time_since_epoch().count() * 86400 + hour * 3600 + minute * 60 + second - *offset;
}

}  // namespace keyward
