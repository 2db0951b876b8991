#include "api/requirements.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>

#include "core/grant.h"
#include "core/user.h"

namespace keyward {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as forms encode: "%3A" → ':', '+' → ' '. A broken escape is kept as it is
// (such a requirement names no scope, so no key meets it).
std::string Decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 &&
               HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         boost::beast::iequals(text.substr(0, prefix.size()), prefix);
}

bool IsSeparator(char c) { return c == ' ' || c == ',' || c == '\t'; }

// "the key lacks the scope minerva:query"; text that is no valid scope or tag is not echoed.
std::string Lacks(std::string_view what, std::string_view name, bool valid) {
  if (name.empty()) return "an empty " + std::string(what) + " requirement is never met";
  if (!valid) return "the required " + std::string(what) + " is not a valid " + std::string(what);
  return "the key lacks the " + std::string(what) + " " + std::string(name);
}

}  // namespace

void AddQueryRequirements(std::string_view query, Requirements& out) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    if (name == "scope") {
      out.scopes.push_back(Decode(value));
    } else if (name == "tag") {
      out.tags.push_back(Decode(value));
    } else if (out.misnamed.empty() &&
               (StartsWithNoCase(name, "scope") || StartsWithNoCase(name, "tag"))) {
      out.misnamed = Decode(name);
    }
  }
}

void AddHeaderRequirements(std::string_view value,
                           boost::container::small_vector_base<std::string>& list) {
  bool any = false;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && IsSeparator(value[i])) ++i;
    std::size_t end = i;
    while (end < value.size() && !IsSeparator(value[end])) ++end;
    if (end > i) {
      list.emplace_back(value.substr(i, end - i));
      any = true;
    }
    i = end;
  }
  if (!any) list.emplace_back();  // present but empty: never met
}

Requirements RequirementsOf(const http::Request& request) {
  Requirements out;
  const std::string_view target(request.target());
  if (const auto q = target.find('?'); q != std::string_view::npos) {
    AddQueryRequirements(target.substr(q + 1), out);
  }
  for (const auto& field : request) {
    const std::string_view name(field.name_string());
    if (!StartsWithNoCase(name, "X-Keyward-Require-")) continue;
    if (boost::beast::iequals(name, "X-Keyward-Require-Scope")) {
      AddHeaderRequirements(field.value(), out.scopes);
    } else if (boost::beast::iequals(name, "X-Keyward-Require-Tag")) {
      AddHeaderRequirements(field.value(), out.tags);
    } else if (out.misnamed.empty()) {
      out.misnamed = name;
    }
  }
  return out;
}

std::optional<Denial> Check(const Principal& principal,
                            std::optional<std::string_view> client_address,
                            const Requirements& required) {
  if (!principal.networks.empty() &&
      (!client_address || !AddressAllowed(principal.networks, *client_address))) {
    return Denial{DenialReason::kAddress,
                  client_address ? "the key may not be used from " + std::string(*client_address)
                                 : std::string("the key is limited by address and none was given")};
  }
  if (!required.misnamed.empty()) {
    const bool tag = StartsWithNoCase(required.misnamed, "tag") ||
                     StartsWithNoCase(required.misnamed, "X-Keyward-Require-Tag");
    std::string name = required.misnamed.substr(0, 64);
    if (!std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
      name = "(unprintable)";
    }
    return Denial{tag ? DenialReason::kTag : DenialReason::kScope,
                  "the requirement " + name +
                      " is not one Keyward knows: use ?scope= and ?tag=, or the headers "
                      "X-Keyward-Require-Scope and X-Keyward-Require-Tag"};
  }
  for (const std::string& scope : required.scopes) {
    if (!principal.grant.HasScope(scope) || scope.empty()) {
      return Denial{DenialReason::kScope, Lacks("scope", scope, ValidateScope(scope).ok())};
    }
  }
  const auto& tags = principal.user.tags;
  for (const std::string& tag : required.tags) {
    if (tag.empty() || std::find(tags.begin(), tags.end(), tag) == tags.end()) {
      return Denial{DenialReason::kTag, Lacks("tag", tag, ValidateTag(tag).ok())};
    }
  }
  return std::nullopt;
}

}  // namespace keyward
