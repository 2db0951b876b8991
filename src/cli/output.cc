#include "cli/output.h"

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>

namespace keyward {
namespace {

const auto kStart = std::chrono::steady_clock::now();

std::string Prefixed(std::string_view level, std::string_view message) {
  auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - kStart)
          .count();
  char stamp[16];
  std::snprintf(stamp, sizeof stamp, "[%04lld] ", static_cast<long long>(seconds % 10000));
  return std::string(level) + stamp + std::string(message);
}

std::string Pad(std::string_view text, std::size_t width) {
  std::string out(text);
  std::size_t shown = DisplayWidth(text);
  if (shown < width) out.append(width - shown, ' ');
  return out;
}

std::string Center(std::string_view text, std::size_t width) {
  std::size_t shown = DisplayWidth(text);
  if (shown >= width) return std::string(text);
  std::size_t left = (width - shown) / 2;
  return std::string(left, ' ') + std::string(text) + std::string(width - shown - left, ' ');
}

void EmitYaml(YAML::Emitter& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : v.as_object()) {
        out << YAML::Key << std::string(key) << YAML::Value;
        EmitYaml(out, value);
      }
      out << YAML::EndMap;
      break;
    case boost::json::kind::array:
      out << YAML::BeginSeq;
      for (const auto& item : v.as_array()) EmitYaml(out, item);
      out << YAML::EndSeq;
      break;
    case boost::json::kind::string:
      out << YAML::DoubleQuoted << std::string(v.as_string());
      break;
    case boost::json::kind::null:
      out << YAML::Null;
      break;
    default:
      out << boost::json::serialize(v);
      break;
  }
}

void PrettyJson(std::string& out, const boost::json::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (v.is_object() && !v.as_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [key, value] : v.as_object()) {
      if (!first) out += ",\n";
      first = false;
      out += inner + boost::json::serialize(boost::json::value(key)) + ": ";
      PrettyJson(out, value, indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& item : v.as_array()) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      PrettyJson(out, item, indent + 1);
    }
    out += "\n" + pad + "]";
  } else {
    out += boost::json::serialize(v);
  }
}

}  // namespace

std::string InfoLine(std::string_view message) { return Prefixed("INFO", message); }
std::string WarnLine(std::string_view message) { return Prefixed("WARN", message); }
std::string ErrorLine(std::string_view message) { return Prefixed("ERRO", message); }

std::size_t DisplayWidth(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string RenderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(headers.size());
  for (std::size_t c = 0; c < headers.size(); ++c) width[c] = DisplayWidth(headers[c]);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < headers.size() && c < row.size(); ++c) {
      width[c] = std::max(width[c], DisplayWidth(row[c]));
    }
  }
  std::string out = "\n";
  for (std::size_t c = 0; c < headers.size(); ++c) {
    if (c > 0) out += '|';
    out += Center(headers[c], width[c] + 2);
  }
  out += '\n';
  for (std::size_t c = 0; c < headers.size(); ++c) {
    if (c > 0) out += '|';
    out += std::string(width[c] + 2, '-');
  }
  out += '\n';
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < headers.size(); ++c) {
      if (c > 0) out += '|';
      out += ' ' + Pad(c < row.size() ? row[c] : "", width[c]) + ' ';
    }
    out += '\n';
  }
  return out;
}

std::string RenderJson(const boost::json::value& value) {
  std::string out;
  PrettyJson(out, value, 0);
  return out + "\n";
}

std::string RenderYaml(const boost::json::value& value) {
  YAML::Emitter out;
  EmitYaml(out, value);
  return std::string(out.c_str()) + "\n";
}

std::string StringMember(const boost::json::value& value, std::string_view key) {
  const boost::json::value* field =
      value.is_object() ? value.as_object().if_contains(key) : nullptr;
  return field != nullptr && field->is_string() ? std::string(field->as_string()) : "";
}

const boost::json::value* JsonMember(const boost::json::value& value, std::string_view key) {
  return value.is_object() ? value.as_object().if_contains(key) : nullptr;
}

std::string JsonCell(const boost::json::value& value, std::string_view key) {
  const boost::json::value* field = JsonMember(value, key);
  if (field == nullptr || field->is_null()) return "-";
  if (field->is_string()) return std::string(field->as_string());
  return boost::json::serialize(*field);
}

}  // namespace keyward
