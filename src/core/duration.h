// Validity periods as people write them: "30m", "24h", "9999h", "7d", "90s", "1d12h".
// Pure functions, thread safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace keyward {

// Seconds in `text`: one or more <digits><unit> groups, unit s, m, h or d, total > 0 and at
// most 100 years. InvalidArgument with a message naming the accepted forms otherwise.
Result<std::int64_t> ParseDuration(std::string_view text);

// The shortest form ParseDuration reads back: 86400 -> "24h", 90 -> "90s", 1800 -> "30m".
std::string FormatDuration(std::int64_t seconds);

}  // namespace keyward
