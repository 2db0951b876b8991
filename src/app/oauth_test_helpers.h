// Requests to the token issuer through ApiWorld (api_test_world.h) and what every OAuth answer
// must hold, shared by oauth_token_test.cc and oauth_test.cc. Test code only.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <string>
#include <vector>

#include "app/api_test_world.h"

namespace keyward::oauth_test {

namespace bh = http::beast_http;
namespace json = boost::json;

inline constexpr std::string_view kForm = "application/x-www-form-urlencoded";
inline constexpr std::string_view kExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
inline constexpr std::string_view kApiKeyType = "urn:keyward:params:oauth:token-type:api_key";
inline constexpr std::string_view kAccessTokenType =
    "urn:ietf:params:oauth:token-type:access_token";

// Form-encodes one value.
inline std::string Enc(std::string_view value) {
  return boost::urls::encode(value, boost::urls::unreserved_chars);
}

inline std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

// "Basic base64(urlenc(id):urlenc(secret))", as RFC 6749 §2.3.1 says.
inline std::string Basic(std::string_view id, std::string_view secret) {
  return "Basic " + Base64(Enc(id) + ":" + Enc(secret));
}

struct Sent {
  int status = 0;
  Answer answer;
  json::value body;
  std::string Header(std::string_view name) const {
    auto it = answer.response.find(name);
    return it == answer.response.end() ? "" : std::string(it->value());
  }
  std::string Str(std::string_view member) const {
    const json::value* v = body.is_object() ? body.as_object().if_contains(member) : nullptr;
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
  }
};

inline Sent Send(ApiWorld& world, http::Request request) {
  auto answer = world.Send(std::move(request));
  EXPECT_TRUE(answer.has_value());
  if (!answer) return {};
  const std::string& text = answer->response.body();
  json::value body;
  if (!text.empty() && answer->header(bh::field::content_type) == "application/json") {
    body = json::parse(text);
  }
  return Sent{answer->status(), std::move(*answer), std::move(body)};
}

// A POST of `body` to `target` with `content_type`; `authorization` as given when not empty.
inline http::Request Post(const std::string& target, std::string body,
                          std::string_view content_type, const std::string& authorization = "") {
  http::Request req{bh::verb::post, target, 11};
  req.set(bh::field::host, "127.0.0.1");
  if (!content_type.empty()) req.set(bh::field::content_type, content_type);
  if (!authorization.empty()) req.set(bh::field::authorization, authorization);
  req.body() = std::move(body);
  return req;
}

inline Sent Token(ApiWorld& world, std::string body, const std::string& authorization = "") {
  return Send(world, Post("/oauth/token", std::move(body), kForm, authorization));
}

inline std::string ClientCredentials(std::string_view id, std::string_view secret) {
  return "grant_type=client_credentials&client_id=" + Enc(id) + "&client_secret=" + Enc(secret);
}

// Every token endpoint answer: exactly application/json, no-store, no-cache.
inline void ExpectTokenHeaders(const Sent& sent) {
  EXPECT_EQ(sent.Header("Content-Type"), "application/json");
  EXPECT_EQ(sent.Header("Cache-Control"), "no-store");
  EXPECT_EQ(sent.Header("Pragma"), "no-cache");
}

// An RFC 6749 §5.2 error: `status`, {error: code, error_description: a string}.
inline void ExpectError(const Sent& sent, int status, std::string_view code,
                        const std::string& what) {
  EXPECT_EQ(sent.status, status) << what << ": " << sent.answer.response.body();
  EXPECT_EQ(sent.Str("error"), code) << what << ": " << sent.answer.response.body();
  EXPECT_FALSE(sent.Str("error_description").empty()) << what;
  ExpectTokenHeaders(sent);
  if (status == 401) {
    EXPECT_EQ(sent.Header("WWW-Authenticate"), "Basic realm=\"keyward\"") << what;
  }
}

inline Grant ScopedGrant(std::vector<std::string> scopes) {
  Grant grant;
  grant.scopes = std::move(scopes);
  std::sort(grant.scopes.begin(), grant.scopes.end());
  return grant;
}

// A JWT for alice's full-access key, for `audience` ("" the default); "" on failure.
inline std::string IssueFor(ApiWorld& world, const std::string& audience = "") {
  Sent sent = Token(world, ClientCredentials("alice", world.tokens["alice"]) +
                               (audience.empty() ? "" : "&audience=" + audience));
  EXPECT_EQ(sent.status, 200) << sent.answer.response.body();
  return sent.Str("access_token");
}

}  // namespace keyward::oauth_test
