#include "core/duration.h"

namespace keyward {
namespace {

constexpr std::int64_t kMaxSeconds = 100LL * 366 * 24 * 3600;

Status Bad(std::string_view text) {
  std::string shown(text.substr(0, 32));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = '?';
  }
  return Status::InvalidArgument("invalid duration \"" + shown +
                                 "\": use a number with a unit s, m, h or d, e.g. 30m, 24h, "
                                 "9999h or 7d");
}

}  // namespace

Result<std::int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) return Bad(text);
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t n = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (++digits > 12) return Bad(text);
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (digits == 0 || i == text.size()) return Bad(text);
    std::int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return Bad(text);
    }
    ++i;
    total += n * unit;
    if (total > kMaxSeconds) return Bad(text);
  }
  if (total <= 0) return Bad(text);
  return total;
}

std::string FormatDuration(std::int64_t seconds) {
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

}  // namespace keyward
