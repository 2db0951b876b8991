// The parts of `keyward user apikey usage` that need no server: which bucket size to ask for,
// and how the answer of GET /api/v1/users/{id}/apikeys/{name}/usage is printed (a table, a
// sparkline and a summary, or the JSON / YAML unchanged). Pure functions; thread safe.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/output.h"
#include "common/clock.h"
#include "common/status.h"

namespace keyward {

// The granularity to ask for: `granularity` when not empty; otherwise "day" when the range
// from `since` to `until` (empty: now) is longer than 48 hours, else "hour". `since` and
// `until` are each a duration back from `now` ("24h", "7d") or an RFC 3339 time, as the API
// takes them. InvalidArgument naming the flag (--since, --until) when one is neither.
Result<std::string> UsageGranularity(const std::string& since, const std::string& until,
                                     const std::string& granularity, UnixSeconds now);

// One character per value, in order: ' ' for 0 (so an idle bucket shows as a gap, apart from
// a little use), else one of ▁▂▃▄▅▆▇█ scaled to the largest value: level ceil(8·v/max), so the
// largest is █ and any use at all is at least ▁. Negative values count as 0. "" for none.
std::string Sparkline(const std::vector<std::int64_t>& values);

// A usage answer as `format` prints it on stdout. kJson / kYaml: the answer unchanged. A table
// (kTable, kWide): START | ALLOWED | DENIED, one row per bucket (DENIED the sum of every denial
// reason), then the lines
//   requests per hour |<Sparkline of allowed+denied per bucket>| max <largest>
//   totals: <n> allowed, <n> denied (<reason> <n>, …)      (reasons with a count only)
//   last used <time> from <address> (<user agent>)       or "never used"
// ("from …" and "(…)" left out when the server knows no address or user agent; control
// characters in them shown as '?'). Missing members count as 0 / null.
std::string RenderUsage(const boost::json::value& usage, OutputFormat format);

}  // namespace keyward
