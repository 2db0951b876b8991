// The client side of OAuth 2.0 form requests (RFC 6749 §4.4 and appendix B, RFC 8693): the
// application/x-www-form-urlencoded body of a token request, and an RFC 6749 §5.2 error answer
// turned into a Status, so that it ends in the CLI's exit codes (cli/exit_code.h). Pure
// functions; thread safe.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace keyward {

// Form fields in the order they are sent. A name may repeat; the encoding keeps each pair.
using FormFields = std::vector<std::pair<std::string, std::string>>;

// `fields` as application/x-www-form-urlencoded (the WHATWG URL standard's serializer, which
// RFC 6749 appendix B refers to): "name=value" pairs joined by '&'; every byte other than
// ALPHA, DIGIT, '*', '-', '.' and '_' as %XX (upper-case hex), except the space, which is '+'.
std::string FormEncode(const FormFields& fields);

// RFC 8693 token exchange, as `keyward token issue` sends it to /oauth/token.
inline constexpr const char* kTokenExchangeGrant =
    "urn:ietf:params:oauth:grant-type:token-exchange";
inline constexpr const char* kApiKeyTokenType = "urn:keyward:params:oauth:token-type:api_key";
inline constexpr const char* kAccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
// The error_description of a token exchange whose subject_token is refused (invalid_request,
// RFC 8693 §2.2.2): the CLI's credential is bad, so it ends as Unauthenticated (exit 3).
inline constexpr std::string_view kSubjectRefused = "subject_token is invalid, expired or revoked";

// The form of a token exchange for `subject_token` (an API key when `subject_is_key`, else a
// session token): grant_type, subject_token, subject_token_type, then audience when not empty
// and scope when `scopes` hold any. Each entry of `scopes` may hold several scopes separated
// by commas or spaces; they are sent space-separated, in order, empty ones dropped.
FormFields TokenExchangeForm(const std::string& subject_token, bool subject_is_key,
                             const std::string& audience, const std::vector<std::string>& scopes);

// An RFC 6749 §5.2 error body {"error": "<code>", "error_description": "<text>"?} as a Status
// whose message is "<text> (<code>)" (the code alone when there is no description), or nullopt
// when `body` is no such object. The code picks the Status: invalid_client, and invalid_request
// whose description starts with kSubjectRefused, → Unauthenticated;
// unauthorized_client and access_denied → PermissionDenied (the key lacks the right, as a 403
// elsewhere); temporarily_unavailable → Unavailable; Keyward's rate_limited (a key over its
// rate limit) → ResourceExhausted; invalid_request, invalid_grant,
// unsupported_grant_type, invalid_scope, invalid_target and any other code → InvalidArgument.
std::optional<Status> OAuthErrorStatus(const boost::json::value& body);

}  // namespace keyward
