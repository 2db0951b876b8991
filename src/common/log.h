// Minimal structured logging to stderr, one line per entry, in one of two formats:
//
//   text (default)  2026-11-28T20:55:20Z INFO  message
//   json            {"time":"2026-11-28T20:55:20.123Z","level":"info","msg":"message"}
//
// An access line (Access(): one per request, when the access log is on) adds its fields: in
// JSON "request_id", "method", "route", "status", "latency_ms" (a number), and "user" and
// "key_name" when known; in text the same as name=value pairs after "access".
//
// JSON lines are always valid JSON: every string is escaped, and bytes that are not UTF-8 become
// U+FFFD. Text lines show control characters escaped (\n, \xNN), so that no value can start a
// line of its own.
//
// Thread safe: each line is written with one write(2). Never pass a key, a password, a session
// token or the master key to these functions; log names, ids, hashes' prefixes and statuses.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace keyward::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

void SetLevel(Level level);
bool Enabled(Level level);
// Set once at start, before other threads log.
void SetFormat(Format format);
Format CurrentFormat();
// The access log (Access()); off by default. Set once at start.
void SetAccessLog(bool on);
inline bool AccessEnabled();

void Write(Level level, std::string_view message);

// One request, as the access line tells it. Never the raw target (it may hold a key in a query),
// a credential or a body. Empty user and key_name are left out.
struct AccessEntry {
  std::string_view request_id;
  std::string_view method;
  std::string_view route;  // the route's pattern ("/api/v1/users/{id}"), never the raw path
  int status = 0;
  double latency_ms = 0;
  std::string_view user;
  std::string_view key_name;
};
// Writes `entry` (as level info, whatever --log-level says) when the access log is on. Callers
// check AccessEnabled() first, so that gathering the entry costs nothing while it is off.
void Access(const AccessEntry& entry);

// The line Write and Access write (with its '\n'), for `unix_millis` (milliseconds since the
// epoch): exposed for tests.
std::string FormatLine(Format format, Level level, std::string_view message,
                       std::int64_t unix_millis);
std::string FormatAccessLine(Format format, const AccessEntry& entry, std::int64_t unix_millis);
// Appends `text` as a JSON string, quotes included: '"', '\\' and control characters escaped,
// bytes that are not UTF-8 replaced by U+FFFD.
void AppendJsonString(std::string& out, std::string_view text);

template <typename... Args>
void Debug(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Info(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Warn(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Error(fmt::format_string<Args...> f, Args&&... args) {
  Write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

namespace detail {
extern std::atomic<bool> g_access;
}  // namespace detail
inline bool AccessEnabled() { return detail::g_access.load(std::memory_order_relaxed); }

}  // namespace keyward::log
