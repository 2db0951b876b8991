#include "cli/usage_output.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <optional>

#include "common/text.h"
#include "core/duration.h"

namespace keyward {
namespace {

namespace json = boost::json;

constexpr std::int64_t kDayBucketsAbove = 48 * 3600;

// `text` as a point in time: a duration back from `now`, or an RFC 3339 time.
std::optional<UnixSeconds> PointInTime(const std::string& text, UnixSeconds now) {
  if (Result<std::int64_t> back = ParseDuration(text); back.ok()) return now - *back;
  return ParseRfc3339(text);
}

// A JSON number as a count; 0 for anything else.
std::int64_t Count(const json::value* value) {
  if (value == nullptr) return 0;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(value->as_uint64());
  if (value->is_double()) return static_cast<std::int64_t>(value->as_double());
  return 0;
}

// The sum of the counts of a `denied` object.
std::int64_t DeniedSum(const json::value* denied) {
  std::int64_t sum = 0;
  if (denied == nullptr || !denied->is_object()) return sum;
  for (const auto& [reason, count] : denied->as_object()) sum += Count(&count);
  return sum;
}

// The string member `key` with control characters shown as '?': a user agent is the client's
// own text and must not move the terminal's cursor.
std::string Printable(const json::value& value, std::string_view key) {
  // Control characters (C0, DEL, C1), which a terminal would take as escape sequences, as '?'.
  return ReplaceControlCharacters(StringMember(value, key));
}

const json::array& Buckets(const json::value& usage) {
  static const json::array kNone;
  const json::value* buckets = JsonMember(usage, "buckets");
  return buckets != nullptr && buckets->is_array() ? buckets->as_array() : kNone;
}

std::string SparklineLine(const json::value& usage) {
  std::vector<std::int64_t> requests;
  for (const json::value& bucket : Buckets(usage)) {
    requests.push_back(Count(JsonMember(bucket, "allowed")) +
                       DeniedSum(JsonMember(bucket, "denied")));
  }
  const std::int64_t max =
      requests.empty() ? 0 : *std::max_element(requests.begin(), requests.end());
  std::string unit = StringMember(usage, "granularity");
  if (unit.empty()) unit = "hour";
  return "requests per " + unit + " |" + Sparkline(requests) + "| max " + std::to_string(max) +
         "\n";
}

// "totals: 5 allowed, 3 denied (scope 1, rate_limited 2)": the totals the server sent, or the
// buckets' sums when it sent none.
std::string TotalsLine(const json::value& usage) {
  std::int64_t allowed = 0;
  json::object denied;
  if (const json::value* totals = JsonMember(usage, "totals"); totals != nullptr) {
    allowed = Count(JsonMember(*totals, "allowed"));
    if (const json::value* d = JsonMember(*totals, "denied"); d != nullptr && d->is_object()) {
      denied = d->as_object();
    }
  } else {
    for (const json::value& bucket : Buckets(usage)) {
      allowed += Count(JsonMember(bucket, "allowed"));
      const json::value* d = JsonMember(bucket, "denied");
      if (d == nullptr || !d->is_object()) continue;
      for (const auto& [reason, count] : d->as_object()) {
        denied[reason] = Count(denied.if_contains(reason)) + Count(&count);
      }
    }
  }
  std::string reasons;
  for (const auto& [reason, count] : denied) {
    if (Count(&count) == 0) continue;
    reasons +=
        (reasons.empty() ? "" : ", ") + std::string(reason) + " " + std::to_string(Count(&count));
  }
  json::value denied_value = denied;
  return "totals: " + std::to_string(allowed) + " allowed, " +
         std::to_string(DeniedSum(&denied_value)) + " denied" +
         (reasons.empty() ? "" : " (" + reasons + ")") + "\n";
}

std::string LastUsedLine(const json::value& usage) {
  const std::string last_used = StringMember(usage, "last_used");
  if (last_used.empty()) return "never used\n";
  std::string line = "last used " + Printable(usage, "last_used");
  if (std::string address = Printable(usage, "last_address"); !address.empty()) {
    line += " from " + address;
  }
  if (std::string agent = Printable(usage, "last_user_agent"); !agent.empty()) {
    line += " (" + agent + ")";
  }
  return line + "\n";
}

}  // namespace

Result<std::string> UsageGranularity(const std::string& since, const std::string& until,
                                     const std::string& granularity, UnixSeconds now) {
  std::optional<UnixSeconds> from = PointInTime(since, now);
  if (!from) {
    return Status::InvalidArgument("--since: \"" + since +
                                   "\" is neither a duration such as 24h or 7d nor an RFC 3339 "
                                   "time such as 2026-12-01T00:00:00Z");
  }
  std::optional<UnixSeconds> to = until.empty() ? now : PointInTime(until, now);
  if (!to) {
    return Status::InvalidArgument("--until: \"" + until +
                                   "\" is neither a duration such as 1h nor an RFC 3339 time "
                                   "such as 2026-12-07T00:00:00Z");
  }
  if (!granularity.empty()) return granularity;
  return *to - *from > kDayBucketsAbove ? std::string("day") : std::string("hour");
}

std::string Sparkline(const std::vector<std::int64_t>& values) {
  static constexpr const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  const std::int64_t max = values.empty() ? 0 : *std::max_element(values.begin(), values.end());
  std::string line;
  for (std::int64_t value : values) {
    if (value <= 0) {
      line += ' ';
      continue;
    }
    // ceil(8·v/max) in 1…8, without overflow for any count.
    auto level = static_cast<int>(
        std::ceil(8.0L * static_cast<long double>(value) / static_cast<long double>(max)));
    line += kBars[std::clamp(level, 1, 8) - 1];
  }
  return line;
}

std::string RenderUsage(const json::value& usage, OutputFormat format) {
  if (format == OutputFormat::kJson) return RenderJson(usage);
  if (format == OutputFormat::kYaml) return RenderYaml(usage);
  std::vector<std::vector<std::string>> rows;
  for (const json::value& bucket : Buckets(usage)) {
    rows.push_back({StringMember(bucket, "start"),
                    std::to_string(Count(JsonMember(bucket, "allowed"))),
                    std::to_string(DeniedSum(JsonMember(bucket, "denied")))});
  }
  return RenderTable({"START", "ALLOWED", "DENIED"}, rows) + SparklineLine(usage) +
         TotalsLine(usage) + LastUsedLine(usage);
}

}  // namespace keyward
