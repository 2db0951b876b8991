#include "scan/report.h"

#include <boost/json.hpp>

#include "core/api_key.h"

namespace keyward::scan {
namespace {

namespace json = boost::json;

constexpr const char* kRuleId = "keyward-api-key";
constexpr const char* kSarifSchema =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

// The length of the valid UTF-8 sequence at text[i] (1-4), or 0 for an invalid byte there
// (a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF, cut short).
std::size_t Utf8SequenceAt(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
  }
  return len;
}

void AppendHexEscape(unsigned char c, std::string& out) {
  constexpr std::string_view kHex = "0123456789abcdef";
  out.append("\\x").push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}

std::string CheckNote(const Finding& f) {
  if (!f.live.has_value()) return "";
  if (!*f.live) return " (not live)";
  return f.revoked.value_or(false) ? " (live, revoked)" : " (live)";
}

void AddCheckFields(const Finding& f, json::object& o) {
  if (f.live.has_value()) o["live"] = *f.live;
  if (f.revoked.has_value()) o["revoked"] = *f.revoked;
}

std::string Serialize(const json::value& v) { return json::serialize(v) + "\n"; }

json::object SarifRule() {
  return {
      {"id", kRuleId},
      {"name", "KeywardApiKey"},
      {"shortDescription", {{"text", "Keyward API key"}}},
      {"fullDescription",
       {{"text",
         "A Keyward API key: its prefix, '_', 43 secret characters and a matching CRC32 "
         "checksum."}}},
      {"help",
       {{"text",
         "Revoke the key (keyward scan --check --revoke, or delete it in Keyward) and remove it "
         "from the file and its history; a key in git history stays readable to everyone who "
         "cloned it."}}},
      {"defaultConfiguration", {{"level", "error"}}},
  };
}

json::object SarifResult(const Finding& f) {
  json::object region{
      {"startLine", f.line},
      {"startColumn", f.utf16_column},
      {"endColumn", f.utf16_column + f.length},  // a match is ASCII: one unit a byte
  };
  json::object location{
      {"physicalLocation", {{"artifactLocation", {{"uri", PathUri(f.path)}}}, {"region", region}}}};
  json::object result{
      {"ruleId", kRuleId},
      {"ruleIndex", 0},
      {"level", "error"},
      {"message", {{"text", "Keyward API key " + MaskKey(f.key) + CheckNote(f)}}},
      {"locations", json::array{location}},
  };
  json::object properties;
  if (!f.commit.empty()) properties["commit"] = f.commit;
  AddCheckFields(f, properties);
  if (!properties.empty()) result["properties"] = std::move(properties);
  return result;
}

}  // namespace

std::string RenderText(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) {
    if (!f.commit.empty()) out += f.commit + ":";
    out += EscapeForTerminal(f.path) + ":" + std::to_string(f.line) + ":" +
           std::to_string(f.column) + ": " + MaskKey(f.key) + CheckNote(f) + "\n";
  }
  return out;
}

std::string RenderJson(const std::vector<Finding>& findings) {
  json::array list;
  for (const Finding& f : findings) {
    json::object o{{"path", ValidUtf8(f.path)},
                   {"line", f.line},
                   {"column", f.column},
                   {"masked", MaskKey(f.key)}};
    if (!f.commit.empty()) o["commit"] = f.commit;
    AddCheckFields(f, o);
    list.push_back(std::move(o));
  }
  return Serialize(json::object{{"findings", std::move(list)}});
}

std::string RenderSarif(const std::vector<Finding>& findings, std::string_view version) {
  json::array results;
  for (const Finding& f : findings) results.push_back(SarifResult(f));
  json::object driver{
      {"name", "keyward"},
      {"version", version},
      {"rules", json::array{SarifRule()}},
  };
  json::object run{
      {"tool", {{"driver", std::move(driver)}}},
      {"columnKind", "utf16CodeUnits"},
      {"results", std::move(results)},
  };
  return Serialize(json::object{
      {"$schema", kSarifSchema}, {"version", "2.1.0"}, {"runs", json::array{std::move(run)}}});
}

std::string PathUri(std::string_view path) {
  std::string out;
  if (path.starts_with('/')) {
    out = "file://";
  } else {
    while (path.starts_with("./")) path.remove_prefix(2);
  }
  constexpr std::string_view kHex = "0123456789ABCDEF";
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (plain) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string EscapeForTerminal(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t len = Utf8SequenceAt(text, i);
    if (len == 0 || c < 0x20 || c == 0x7F ||
        (c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0)) {
      // An invalid byte, a C0 control or DEL, or a C1 control (U+0080-U+009F): each byte.
      const std::size_t n = len == 0 ? 1 : len;
      for (std::size_t k = 0; k < n; ++k)
        AppendHexEscape(static_cast<unsigned char>(text[i + k]), out);
      i += n;
    } else if (c == '\\') {
      out.append("\\\\");
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string ValidUtf8(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = Utf8SequenceAt(text, i);
    if (len == 0) {
      out.append("\xEF\xBF\xBD");  // U+FFFD
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace keyward::scan
