#include "api/oauth_routes.h"

#include <boost/json/parse.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "api/admission.h"
#include "api/client_address.h"
#include "api/credentials.h"
#include "api/form.h"
#include "api/json_io.h"
#include "api/routes.h"
#include "core/api_key.h"
#include "core/policy.h"
#include "token/jwt.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
using bh::verb;

constexpr std::string_view kClientCredentials = "client_credentials";
constexpr std::string_view kTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr std::string_view kApiKeyType = "urn:keyward:params:oauth:token-type:api_key";
constexpr std::string_view kAccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
constexpr std::string_view kJwtType = "urn:ietf:params:oauth:token-type:jwt";

std::string_view Header(const ApiCall& call, bh::field field) {
  auto it = call.request.find(field);
  return it == call.request.end() ? std::string_view() : std::string_view(it->value());
}

OAuthError Invalid(std::string description) {
  return OAuthError{"invalid_request", std::move(description), 400};
}

// An RFC 6749 §5.2 error: {error, error_description}, counted by its code. invalid_client (401)
// says how to authenticate. Every token endpoint answer is no-store, no-cache (§5.1).
Reply ErrorReply(Services& s, const OAuthError& e) {
  s.metrics.CountTokenRefused(e.error);
  boost::json::object body{{"error", e.error}};
  if (!e.description.empty()) body["error_description"] = e.description;
  Reply reply{e.status, std::move(body), {{"Pragma", "no-cache"}}};
  if (e.status == 401) reply.headers.emplace_back("WWW-Authenticate", "Basic realm=\"keyward\"");
  return reply;
}

// An introspection error (RFC 7662 §2.3 uses RFC 6749's shape): not a token request, so neither
// counted as a refused one nor given the token endpoint's Pragma.
Reply IntrospectionError(std::string description) {
  return Reply{400,
               boost::json::object{{"error", "invalid_request"},
                                   {"error_description", std::move(description)}},
               {}};
}

// The client's authentication: Basic (RFC 6749 §2.3.1) or client_id/client_secret in the form,
// never both. nullopt when there is none.
std::variant<std::optional<ClientCredentials>, OAuthError> ClientAuth(const ApiCall& call,
                                                                      const Form& form) {
  const auto body_id = form.Get("client_id");
  const auto body_secret = form.Get("client_secret");
  const std::string_view authorization = Header(call, bh::field::authorization);
  if (!authorization.empty()) {
    auto basic = ParseBasicCredentials(authorization);
    // RFC 6749 §5.2: malformed Basic credentials are a failed client authentication.
    if (!basic.ok()) return OAuthError{"invalid_client", basic.status().message(), 401};
    if (!basic->has_value()) {
      return OAuthError{"invalid_client", "only Basic client authentication is supported", 401};
    }
    if (body_secret) {
      return Invalid("use one client authentication: Basic or client_secret in the body");
    }
    if (body_id && *body_id != (*basic)->id) {
      return Invalid("client_id in the body differs from the Basic one");
    }
    return std::move(*basic);
  }
  if (!body_secret) return std::optional<ClientCredentials>();
  return std::optional<ClientCredentials>(
      ClientCredentials{std::string(body_id.value_or("")), std::string(*body_secret)});
}

// "a b c" → {a, b, c}; absent or blank → nullopt (every service scope of the key).
std::optional<std::vector<std::string>> Scopes(const Form& form) {
  const auto text = form.Get("scope");
  if (!text) return std::nullopt;
  std::vector<std::string> scopes;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    if (space != 0) scopes.emplace_back(rest.substr(0, space));
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  if (scopes.empty()) return std::nullopt;
  return scopes;
}

// The token exchange's checks of its own parameters, and of the optional client: a valid key
// of the subject's owner (TokenService checks client_id against the subject key).
std::optional<OAuthError> CheckExchange(Services& s, const ApiCall& call, const Form& form,
                                        const std::optional<ClientCredentials>& client,
                                        TokenRequest& request) {
  const auto subject = form.Get("subject_token");
  if (!subject || subject->empty()) return Invalid("subject_token is required");
  const auto type = form.Get("subject_token_type");
  if (!type) return Invalid("subject_token_type is required");
  if (*type != kApiKeyType && *type != kAccessTokenType) {
    return Invalid("subject_token_type must be " + std::string(kApiKeyType) + " or " +
                   std::string(kAccessTokenType));
  }
  const auto requested = form.Get("requested_token_type");
  if (requested && *requested != kAccessTokenType && *requested != kJwtType) {
    return Invalid("requested_token_type must be " + std::string(kAccessTokenType) + " or " +
                   std::string(kJwtType));
  }
  request.api_key = *subject;
  request.allow_session = true;  // a CLI session may be traded too
  if (client) {
    auto principal =
        s.authenticator.Authenticate(client->secret, ClientOf(call.request, call.client_address));
    if (!principal.ok()) {
      if (principal.status().code() != StatusCode::kUnauthenticated) {
        return OAuthError{"temporarily_unavailable", "retry shortly", 503};
      }
      return OAuthError{"invalid_client", "the client's key is not valid", 401};
    }
    if (principal->via != KeyType::kApiKey ||
        (!client->id.empty() && client->id != principal->user.id)) {
      return OAuthError{"invalid_client", "the client is not the key's owner", 401};
    }
    request.client_id = principal->user.id;
  }
  return std::nullopt;
}

// RFC 6749 §5.1's answer (with RFC 8693's issued_token_type for an exchange), counted.
Reply TokenReply(Services& s, const IssuedToken& token, const Form& form, bool exchange) {
  s.metrics.CountTokenIssued(exchange ? TokenGrant::kTokenExchange
                                      : TokenGrant::kClientCredentials);
  s.metrics.ObserveTokenSigning(token.signing_seconds);
  boost::json::object body{{"access_token", token.access_token},
                           {"token_type", "Bearer"},
                           {"expires_in", token.expires_in}};
  if (exchange) {
    body["issued_token_type"] = form.Get("requested_token_type").value_or(kAccessTokenType);
  }
  if (!token.scope.empty()) body["scope"] = token.scope;
  return Reply{200, std::move(body), {{"Pragma", "no-cache"}}};
}

// TokenService::Issue's refusal of a key that does not authenticate (RFC 8693 §2.2.2: a refused
// subject_token is invalid_request).
OAuthError RefusedKey(const Status& status, bool subject) {
  switch (status.code()) {
    case StatusCode::kUnauthenticated:
      return subject ? Invalid("subject_token is invalid, expired or revoked")
                     : OAuthError{"invalid_client",
                                  "the client credentials are unknown, expired or revoked", 401};
    case StatusCode::kUnavailable:
      return OAuthError{"temporarily_unavailable", "the key store cannot be reached; try again",
                        503};
    case StatusCode::kInsufficientStorage:  // as FromStatus in token_service.cc
      return OAuthError{"temporarily_unavailable", "the server's disk is full; try again later",
                        503};
    default:
      return OAuthError{"server_error", "the token could not be issued", 500};
  }
}

// The 429 of a key over its limit at the token endpoint, counted rate_limited.
Reply OverTheLimit(Services& s, const ApiCall& call, const KeyMeters& meters,
                   const RateDecision& rate) {
  s.metrics.CountRateLimited();
  if (meters.usage != nullptr) {
    const Clock& clock = ClockOf(s);
    meters.usage->Record(UsageOutcome::kRateLimited, clock.Now(), call.client_address,
                         UserAgentOf(call.request));
  }
  Reply reply{
      429,
      boost::json::object{{"error", "rate_limited"},
                          {"error_description", RateLimitedMessage(rate, meters.bucket->limit())}},
      {{"Pragma", "no-cache"}}};
  for (auto& header : RateLimitedHeaders(rate)) reply.headers.push_back(std::move(header));
  return reply;
}

// Issue 16: the key a token is issued from (client_credentials' secret, the exchange's
// subject_token) is limited and counted as at /auth. Before Issue, the key's bucket is looked at
// without taking from it: over the limit → 429 {"error":"rate_limited"} with Retry-After, counted
// rate_limited, and nothing signed. Then Issue decides; only a token issued takes from the
// bucket (as at /auth, a request refused for its scope or address takes nothing), and its answer
// is counted on the key: issued → allowed, unauthorized_client → address or scope,
// invalid_scope → scope (other refusals judge the request, not the key, and are not counted).
// `*meters` is the key's, for that. nullopt: go on and issue (Issue authenticates the key again,
// from the cache). A key that does not authenticate is refused here as Issue refuses it, so
// that the refusal (counted by the Authenticator and the cache) is counted once.
std::optional<Reply> RateLimited(Services& s, const ApiCall& call, const TokenRequest& request,
                                 KeyMeters* meters) {
  auto key =
      s.authenticator.Authenticate(request.api_key, ClientOf(call.request, call.client_address));
  if (!key.ok()) return ErrorReply(s, RefusedKey(key.status(), request.allow_session));
  if (key->via != KeyType::kApiKey) return std::nullopt;
  *meters = s.authenticator.MetersOf(*key);
  if (meters->bucket == nullptr) return std::nullopt;
  const RateDecision rate = meters->bucket->Peek(RateLimiter::SteadyNow());
  if (rate.allowed) return std::nullopt;
  return OverTheLimit(s, call, *meters, rate);
}

// Counts Issue's answer on the key's usage counters, as RateLimited says.
void CountIssue(Services& s, const ApiCall& call, const KeyMeters& meters,
                const std::variant<IssuedToken, OAuthError>& issued) {
  if (meters.usage == nullptr) return;
  std::optional<UsageOutcome> outcome = UsageOutcome::kAllowed;
  if (const auto* error = std::get_if<OAuthError>(&issued)) {
    outcome = std::nullopt;
    if (error->error == "unauthorized_client") {
      outcome = error->description.find("address") != std::string::npos ? UsageOutcome::kAddress
                                                                        : UsageOutcome::kScope;
    } else if (error->error == "invalid_scope") {
      outcome = UsageOutcome::kScope;
    }
  }
  if (!outcome) return;
  const Clock& clock = ClockOf(s);
  meters.usage->Record(*outcome, clock.Now(), call.client_address, UserAgentOf(call.request));
}

// POST /oauth/token: client_credentials or token exchange, per RFC 6749 §4.4 and RFC 8693.
Result<Reply> IssueToken(Services& s, ApiCall& call) {
  if (!IsFormMediaType(Header(call, bh::field::content_type))) {
    return ErrorReply(s, Invalid("Content-Type must be application/x-www-form-urlencoded"));
  }
  auto form =
      ParseForm(call.request.body(), {"grant_type", "client_id", "client_secret", "audience",
                                      "resource", "scope", "subject_token", "subject_token_type",
                                      "requested_token_type", "actor_token", "actor_token_type"});
  if (!form.ok()) return ErrorReply(s, Invalid(form.status().message()));
  const auto grant = form->Get("grant_type");
  if (!grant || grant->empty()) return ErrorReply(s, Invalid("grant_type is required"));
  const bool exchange = *grant == kTokenExchange;
  if (!exchange && *grant != kClientCredentials) {
    return ErrorReply(
        s,
        OAuthError{"unsupported_grant_type",
                   "grant_type must be client_credentials or " + std::string(kTokenExchange), 400});
  }
  if (form->Has("actor_token") || form->Has("actor_token_type")) {
    return ErrorReply(s, Invalid("actor_token is not supported"));
  }
  if (form->Has("audience") && form->Has("resource")) {
    return ErrorReply(s, Invalid("give audience or resource, not both"));
  }
  auto client = ClientAuth(call, *form);
  if (auto* error = std::get_if<OAuthError>(&client)) return ErrorReply(s, *error);
  const auto& credentials = std::get<std::optional<ClientCredentials>>(client);
  TokenRequest request;
  request.audience =
      std::string(form->Get("audience").value_or(form->Get("resource").value_or("")));
  request.scopes = Scopes(*form);
  request.client_address = call.client_address;
  if (exchange) {
    if (auto error = CheckExchange(s, call, *form, credentials, request))
      return ErrorReply(s, *error);
  } else {
    if (!credentials || credentials->secret.empty()) {
      return ErrorReply(s, OAuthError{"invalid_client", "client authentication is required", 401});
    }
    request.api_key = credentials->secret;
    request.client_id = credentials->id;
  }
  KeyMeters meters;
  if (auto limited = RateLimited(s, call, request, &meters)) return std::move(*limited);
  auto issued = s.tokens->Issue(request);
  if (std::holds_alternative<IssuedToken>(issued) && meters.bucket != nullptr) {
    // Taken now: a request that raced others to the last token is refused, its token dropped.
    const RateDecision rate = meters.bucket->Take(RateLimiter::SteadyNow());
    if (!rate.allowed) return OverTheLimit(s, call, meters, rate);
  }
  CountIssue(s, call, meters, issued);
  if (auto* error = std::get_if<OAuthError>(&issued)) return ErrorReply(s, *error);
  return TokenReply(s, std::get<IssuedToken>(issued), *form, exchange);
}

// The verified claims of a JWT TokenService has accepted: its payload, read again.
boost::json::object Claims(std::string_view jwt) {
  const auto first = jwt.find('.');
  const auto second = jwt.find('.', first + 1);
  auto payload = token::Base64UrlDecode(jwt.substr(first + 1, second - first - 1));
  if (!payload) return {};
  boost::system::error_code ec;
  boost::json::value claims = boost::json::parse(*payload, ec);
  return !ec && claims.is_object() ? claims.get_object() : boost::json::object();
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const std::string& scope : scopes) out += (out.empty() ? "" : " ") + scope;
  return out;
}

// A JWT (verified under any configured audience) or an API key; `client` presented it (a
// retired old secret is reported as used from there).
Result<Principal> Identify(Services& s, std::string_view token, const ClientInfo& client) {
  if (token::LooksLikeJwt(token)) return s.tokens->Verify(token, AudienceSet::kAny);
  KW_ASSIGN_OR_RETURN(Principal principal, s.authenticator.Authenticate(token, client));
  if (principal.via != KeyType::kApiKey) return Status::Unauthenticated("not an API key");
  return principal;
}

// POST /oauth/introspect (RFC 7662): is this token active, and what is it?
Result<Reply> Introspect(Services& s, ApiCall& call) {
  KW_RETURN_IF_ERROR(RequireScope(call.caller().grant, scope::kAuthorize));
  if (!IsFormMediaType(Header(call, bh::field::content_type))) {
    return IntrospectionError("Content-Type must be application/x-www-form-urlencoded");
  }
  auto form = ParseForm(call.request.body(), {"token", "token_type_hint"});
  if (!form.ok()) return IntrospectionError(form.status().message());
  const auto token = form->Get("token");
  if (!token || token->empty()) return IntrospectionError("token is required");
  // The introspecting client presented it: a retired old secret is reported as used from there.
  auto principal = Identify(s, *token, ClientOf(call.request, call.client_address));
  if (!principal.ok()) {
    if (principal.status().code() != StatusCode::kUnauthenticated) return principal.status();
    return Reply{200, {{"active", false}}, {}};
  }
  boost::json::object out{{"active", true},
                          {"sub", principal->user.id},
                          {"exp", principal->expires_at},
                          {"username", principal->user.name}};
  if (!principal->parent_key_hash.empty()) {
    boost::json::object claims = Claims(*token);
    for (const char* name : {"iss", "aud", "iat", "nbf", "jti"}) {
      if (const auto* value = claims.if_contains(name)) out[name] = *value;
    }
    out["client_id"] = KeyId(principal->parent_key_hash);
    out["token_type"] = "Bearer";
  } else {
    out["client_id"] = KeyId(principal->token_hash);
    out["token_type"] = "api_key";
  }
  const std::string scope = JoinScopes(principal->grant.scopes);
  if (!scope.empty()) out["scope"] = scope;
  return Reply{200, std::move(out), {}};
}

// A 401 of userinfo (RFC 6750 §3).
Reply InvalidToken(std::string_view challenge, std::string_view description) {
  return Reply{401,
               {{"error", "invalid_token"}, {"error_description", description}},
               {{"WWW-Authenticate", std::string(challenge)}}};
}

// GET or POST /oauth/userinfo: who the Bearer API key or issued JWT is.
Result<Reply> UserInfo(Services& s, ApiCall& call) {
  std::string scratch;
  auto credential = FindCredential(call.request, false, scratch);
  if (!credential || credential->empty()) {
    return InvalidToken("Bearer realm=\"keyward\"", "an access token is required");
  }
  auto principal = Identify(s, *credential, ClientOf(call.request, call.client_address));
  if (!principal.ok()) {
    if (principal.status().code() != StatusCode::kUnauthenticated) return principal.status();
    return InvalidToken("Bearer error=\"invalid_token\"",
                        "the access token is invalid, expired or revoked");
  }
  if (!AddressAllowed(principal->networks, call.client_address)) {
    return InvalidToken("Bearer error=\"invalid_token\"",
                        "the access token may not be used from this address");
  }
  boost::json::object out{{"sub", principal->user.id},
                          {"name", principal->user.name},
                          {"preferred_username", principal->user.id},
                          {"tags", StringArray(principal->user.tags)}};
  if (!principal->parent_key_hash.empty()) out["scope"] = JoinScopes(principal->grant.scopes);
  return Reply{200, std::move(out), {}};
}

// The discovery document (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).
Result<Reply> Discovery(Services& s, ApiCall&) {
  const std::string& issuer = s.tokens->options().issuer;
  auto list = [](std::initializer_list<std::string_view> items) {
    boost::json::array out;
    for (std::string_view item : items) out.emplace_back(item);
    return out;
  };
  return Reply{200,
               {{"issuer", issuer},
                {"authorization_endpoint", issuer + "/"},
                {"token_endpoint", issuer + "/oauth/token"},
                {"jwks_uri", issuer + "/.well-known/jwks.json"},
                {"userinfo_endpoint", issuer + "/oauth/userinfo"},
                {"introspection_endpoint", issuer + "/oauth/introspect"},
                {"grant_types_supported", list({kClientCredentials, kTokenExchange})},
                {"token_endpoint_auth_methods_supported",
                 list({"client_secret_post", "client_secret_basic"})},
                {"introspection_endpoint_auth_methods_supported", list({"bearer"})},
                {"response_types_supported", list({"token"})},
                {"subject_types_supported", list({"public"})},
                {"id_token_signing_alg_values_supported", list({"ES256", "RS256"})},
                {"claims_supported", list({"iss", "sub", "aud", "exp", "iat", "nbf", "jti",
                                           "client_id", "scope", "tags"})}},
               {}};
}

// The published keys; caches may keep them 5 minutes (a next key is published an hour ahead).
Result<Reply> Jwks(Services& s, ApiCall&) {
  boost::system::error_code ec;
  boost::json::value keys = boost::json::parse(s.signing_keys->snapshot()->jwks, ec);
  if (ec || !keys.is_object()) keys = {{"keys", boost::json::array()}};
  return Reply{200, std::move(keys), {{"Cache-Control", "public, max-age=300"}}};
}

}  // namespace

void AddOAuthRoutes(Router& router, Services& s) {
  const auto bind = RouteBinder(s);
  const RouteTraits json{.form_body = false, .issuer = true};
  const RouteTraits form{.form_body = true, .issuer = true};
  const Access open = Access::kPublic;
  router.Add(verb::get, "/.well-known/openid-configuration", open, bind(Discovery), json);
  router.Add(verb::get, "/.well-known/oauth-authorization-server", open, bind(Discovery), json);
  router.Add(verb::get, "/.well-known/jwks.json", open, bind(Jwks), json);
  router.Add(verb::post, "/oauth/token", open, bind(IssueToken), form);
  router.Add(verb::post, "/oauth/introspect", Access::kSignedIn, bind(Introspect), form);
  router.Add(verb::get, "/oauth/userinfo", open, bind(UserInfo), form);
  router.Add(verb::post, "/oauth/userinfo", open, bind(UserInfo), form);
  AddSigningKeyRoutes(router, s);
}

}  // namespace keyward
