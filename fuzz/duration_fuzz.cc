// Fuzz target: the duration parser of core/duration.h.
//
// The input is a duration as a user types it. Checked:
//   - ParseDuration agrees with a reference parser written here (saturating arithmetic, so it
//     cannot overflow whatever the input);
//   - an accepted duration is in (0, 100 years] and FormatDuration gives a single-group form
//     that ParseDuration reads back to the same number of seconds;
//   - a refused one gets an InvalidArgument whose message is printable ASCII (it reaches
//     clients and logs, whatever bytes were sent);
//   - any number of seconds in range (taken from the input's bytes) formats and reads back.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/duration.h"
#include "fuzz/fuzz_check.h"

namespace keyward {
namespace {

constexpr std::int64_t kMaxSeconds = 100LL * 366 * 24 * 3600;

// The grammar of duration.h: one or more <1-12 digits><s|m|h|d>, total in (0, kMaxSeconds].
std::optional<std::int64_t> ReferenceParse(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t total = 0;  // saturates just above kMaxSeconds
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    const std::size_t digits = i - start;
    if (digits == 0 || digits > 12 || i == text.size()) return std::nullopt;
    std::uint64_t n = 0;
    for (std::size_t k = start; k < i; ++k) n = n * 10 + static_cast<std::uint64_t>(text[k] - '0');
    std::uint64_t unit = 0;
    switch (text[i++]) {
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
        return std::nullopt;
    }
    total = std::min<std::uint64_t>(total + n * unit, kMaxSeconds + 1);  // n * unit < 2^57
  }
  if (total == 0 || total > static_cast<std::uint64_t>(kMaxSeconds)) return std::nullopt;
  return static_cast<std::int64_t>(total);
}

void CheckRoundTrip(std::int64_t seconds) {
  const std::string text = FormatDuration(seconds);
  FUZZ_CHECK(text.size() >= 2);
  FUZZ_CHECK(text.find_first_not_of("0123456789") == text.size() - 1);
  FUZZ_CHECK(std::string_view("smh").find(text.back()) != std::string_view::npos);
  auto back = ParseDuration(text);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == seconds);
}

}  // namespace
}  // namespace keyward

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseDuration(text);
  const std::optional<std::int64_t> expected = ReferenceParse(text);
  FUZZ_CHECK(parsed.ok() == expected.has_value());
  if (parsed.ok()) {
    FUZZ_CHECK(*parsed == *expected);
    FUZZ_CHECK(*parsed > 0 && *parsed <= kMaxSeconds);
    CheckRoundTrip(*parsed);
  } else {
    const Status status = parsed.status();
    FUZZ_CHECK(status.code() == StatusCode::kInvalidArgument);
    for (char c : status.message()) FUZZ_CHECK(c >= 0x20 && c < 0x7F);
  }

  std::uint64_t raw = 0;
  if (size > 0) std::memcpy(&raw, data, std::min<std::size_t>(size, sizeof raw));
  CheckRoundTrip(static_cast<std::int64_t>(raw % kMaxSeconds) + 1);
  return 0;
}
