#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include "common/clock.h"

namespace keyward::log {

namespace detail {
std::atomic<bool> g_access{false};
}  // namespace detail

namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO ";
    case Level::kWarn:
      return "WARN ";
    case Level::kError:
      return "ERROR";
  }
  return "INFO ";
}

std::string_view JsonLevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

constexpr char kHex[] = "0123456789abcdef";

// The length of the UTF-8 sequence at text[i] (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF), or 0 when it is not one.
std::size_t Utf8Length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  const auto cont = [&](std::size_t k) { return k < text.size() && (byte(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    const unsigned char c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    const unsigned char c1 = byte(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;   // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// `text` for a text line: control characters (C0 and DEL) escaped, so that no value starts a
// line of its own.
void AppendTextEscaped(std::string& out, std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7F) {
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
}

// A text line's value: as it is when it is a plain word, else quoted with '"' and '\' escaped.
void AppendTextValue(std::string& out, std::string_view value) {
  bool plain = !value.empty();
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F || ch == '"' || ch == '=' || ch == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {
    out += value;
    return;
  }
  out += '"';
  for (char ch : value) {
    if (ch == '"' || ch == '\\') out += '\\';
    AppendTextEscaped(out, std::string_view(&ch, 1));
  }
  out += '"';
}

// "2026-12-07T16:40:00.123Z".
void AppendMillisTime(std::string& out, std::int64_t unix_millis) {
  std::int64_t seconds = unix_millis / 1000;
  std::int64_t millis = unix_millis % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  std::string t = FormatRfc3339(seconds);  // "…:00Z"
  t.pop_back();
  out += t;
  out += fmt::format(".{:03}Z", millis);
}

void AppendJsonHead(std::string& out, Level level, std::int64_t unix_millis) {
  out += "{\"time\":\"";
  AppendMillisTime(out, unix_millis);
  out += "\",\"level\":\"";
  out += JsonLevelName(level);
  out += "\",\"msg\":";
}

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void WriteLine(const std::string& line) {
  // One write per line keeps lines from different threads whole.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

void SetLevel(Level level) { g_level = level; }
bool Enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }
void SetFormat(Format format) { g_format = format; }
Format CurrentFormat() { return g_format.load(std::memory_order_relaxed); }
void SetAccessLog(bool on) { detail::g_access = on; }

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    const char ch = text[i];
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      const std::size_t n = Utf8Length(text, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string FormatLine(Format format, Level level, std::string_view message,
                       std::int64_t unix_millis) {
  std::string line;
  line.reserve(message.size() + 64);
  if (format == Format::kJson) {
    AppendJsonHead(line, level, unix_millis);
    AppendJsonString(line, message);
    line += "}\n";
    return line;
  }
  line = FormatRfc3339(unix_millis / 1000);
  line += ' ';
  line += LevelName(level);
  line += ' ';
  AppendTextEscaped(line, message);
  line += '\n';
  return line;
}

std::string FormatAccessLine(Format format, const AccessEntry& e, std::int64_t unix_millis) {
  std::string line;
  line.reserve(256);
  const std::string latency = fmt::format("{:.3f}", e.latency_ms);
  if (format == Format::kJson) {
    AppendJsonHead(line, Level::kInfo, unix_millis);
    line += "\"access\",\"request_id\":";
    AppendJsonString(line, e.request_id);
    line += ",\"method\":";
    AppendJsonString(line, e.method);
    line += ",\"route\":";
    AppendJsonString(line, e.route);
    line += fmt::format(",\"status\":{},\"latency_ms\":{}", e.status, latency);
    if (!e.user.empty()) {
      line += ",\"user\":";
      AppendJsonString(line, e.user);
    }
    if (!e.key_name.empty()) {
      line += ",\"key_name\":";
      AppendJsonString(line, e.key_name);
    }
    line += "}\n";
    return line;
  }
  line = FormatRfc3339(unix_millis / 1000);
  line += ' ';
  line += LevelName(Level::kInfo);
  line += " access request_id=";
  AppendTextValue(line, e.request_id);
  line += " method=";
  AppendTextValue(line, e.method);
  line += " route=";
  AppendTextValue(line, e.route);
  line += fmt::format(" status={} latency_ms={}", e.status, latency);
  if (!e.user.empty()) {
    line += " user=";
    AppendTextValue(line, e.user);
  }
  if (!e.key_name.empty()) {
    line += " key_name=";
    AppendTextValue(line, e.key_name);
  }
  line += '\n';
  return line;
}

void Write(Level level, std::string_view message) {
  WriteLine(FormatLine(CurrentFormat(), level, message, NowMillis()));
}

void Access(const AccessEntry& entry) {
  if (!AccessEnabled()) return;
  WriteLine(FormatAccessLine(CurrentFormat(), entry, NowMillis()));
}

}  // namespace keyward::log
