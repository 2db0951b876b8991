#include "cli/oauth_form.h"

#include <algorithm>
#include <boost/json.hpp>

namespace keyward {
namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '*' ||
         c == '-' || c == '.' || c == '_';
}

void AppendEncoded(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (Unreserved(c)) {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

StatusCode CodeFor(std::string_view error, std::string_view description) {
  if (error == "invalid_client") return StatusCode::kUnauthenticated;
  // RFC 8693 §2.2.2: the server refuses the exchange's credential as invalid_request.
  if (error == "invalid_request" && description.starts_with(kSubjectRefused)) {
    return StatusCode::kUnauthenticated;
  }
  if (error == "unauthorized_client" || error == "access_denied") {
    return StatusCode::kPermissionDenied;
  }
  if (error == "temporarily_unavailable") return StatusCode::kUnavailable;
  // Keyward's token endpoint over a key's rate limit (issue 16): exit 8, as any 429.
  if (error == "rate_limited") return StatusCode::kResourceExhausted;
  return StatusCode::kInvalidArgument;
}

}  // namespace

std::string FormEncode(const FormFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    AppendEncoded(out, name);
    out += '=';
    AppendEncoded(out, value);
  }
  return out;
}

FormFields TokenExchangeForm(const std::string& subject_token, bool subject_is_key,
                             const std::string& audience, const std::vector<std::string>& scopes) {
  FormFields form = {{"grant_type", kTokenExchangeGrant},
                     {"subject_token", subject_token},
                     {"subject_token_type", subject_is_key ? kApiKeyTokenType : kAccessTokenType}};
  if (!audience.empty()) form.emplace_back("audience", audience);
  std::string scope;
  for (const std::string& entry : scopes) {
    std::size_t at = 0;
    while (at < entry.size()) {
      const std::size_t begin = entry.find_first_not_of(", ", at);
      if (begin == std::string::npos) break;
      const std::size_t end = std::min(entry.find_first_of(", ", begin), entry.size());
      if (!scope.empty()) scope += ' ';
      scope += entry.substr(begin, end - begin);
      at = end;
    }
  }
  if (!scope.empty()) form.emplace_back("scope", scope);
  return form;
}

std::optional<Status> OAuthErrorStatus(const boost::json::value& body) {
  if (!body.is_object()) return std::nullopt;
  const boost::json::value* error = body.as_object().if_contains("error");
  if (error == nullptr || !error->is_string() || error->as_string().empty()) return std::nullopt;
  const std::string code(error->as_string());
  std::string message = code;
  std::string_view text;
  const boost::json::value* description = body.as_object().if_contains("error_description");
  if (description != nullptr && description->is_string() && !description->as_string().empty()) {
    text = description->as_string();
    message = std::string(text) + " (" + code + ")";
  }
  return Status(CodeFor(code, text), std::move(message));
}

}  // namespace keyward
