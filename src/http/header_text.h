// Small helpers for header field values. Pure; thread safe.
#pragma once

#include <string_view>

namespace keyward::http {

// `value` without the optional whitespace (spaces and tabs) HTTP allows around a field value or
// a list element (RFC 9110 §5.6.3).
inline std::string_view TrimOws(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

}  // namespace keyward::http
