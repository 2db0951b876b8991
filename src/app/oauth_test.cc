// The token issuer beyond the token endpoint, through the real ApiHandler (api_test_world.h):
// introspection, userinfo, discovery, the JWKS, the signing-key routes, issued JWTs at /auth and
// /api/v1/authorize, the metrics, and the 404s of an issuer that is off.
#include "app/oauth_test_helpers.h"
#include "token/jwt.h"

namespace keyward {
namespace {

using namespace oauth_test;  // NOLINT(google-build-using-namespace): the shared test helpers
using ::testing::HasSubstr;

TEST(OAuthIntrospectTest, ActiveJwtsAndKeysInactiveGarbage) {
  ApiWorld world;
  const std::string jwt = IssueFor(world);
  ASSERT_FALSE(jwt.empty());
  const std::string caller = "Bearer " + world.tokens["admin"];
  Sent active = Send(world, Post("/oauth/introspect", "token=" + jwt, kForm, caller));
  ASSERT_EQ(active.status, 200) << active.answer.response.body();
  const json::object& a = active.body.as_object();
  EXPECT_TRUE(a.at("active").as_bool());
  EXPECT_EQ(a.at("iss").as_string(), kTestIssuer);
  EXPECT_EQ(a.at("sub").as_string(), "alice");
  EXPECT_EQ(a.at("aud").as_string(), "pulsar");
  EXPECT_EQ(a.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(a.at("username").as_string(), "alice");
  EXPECT_EQ(a.at("client_id").as_string().size(), 24u);
  for (const char* member : {"exp", "iat", "nbf"}) EXPECT_TRUE(a.at(member).is_int64()) << member;
  EXPECT_TRUE(a.at("jti").is_string());

  Sent key = Send(
      world, Post("/oauth/introspect",
                  "token=" + Enc(world.tokens["bob"]) + "&token_type_hint=api_key", kForm, caller));
  ASSERT_EQ(key.status, 200) << key.answer.response.body();
  EXPECT_TRUE(key.body.at("active").as_bool());
  EXPECT_EQ(key.Str("token_type"), "api_key");
  EXPECT_EQ(key.Str("sub"), "bob");
  EXPECT_EQ(key.Str("client_id").size(), 24u);

  for (const std::string& garbage :
       {std::string("kw_unknown"), jwt.substr(0, jwt.size() - 4) + "AAAA"}) {
    Sent inactive = Send(world, Post("/oauth/introspect", "token=" + garbage, kForm, caller));
    EXPECT_EQ(inactive.status, 200);
    EXPECT_EQ(json::serialize(inactive.body), R"({"active":false})") << garbage;
  }
  // The key deleted: its token is inactive at once.
  Sent deleted = Send(world, MakeRequest(bh::verb::delete_, "/api/v1/users/alice/apikeys/alice-key",
                                         "", world.tokens["admin"]));
  ASSERT_EQ(deleted.status, 204);
  Sent revoked = Send(world, Post("/oauth/introspect", "token=" + jwt, kForm, caller));
  EXPECT_EQ(json::serialize(revoked.body), R"({"active":false})");

  Sent no_token = Send(world, Post("/oauth/introspect", "", kForm, caller));
  EXPECT_EQ(no_token.status, 400);
  EXPECT_EQ(no_token.Str("error"), "invalid_request");
  EXPECT_EQ(no_token.Header("Pragma"), "") << "not a token endpoint answer";
}

// Introspection's errors are not refused token requests: the counter stays unchanged.
TEST(OAuthIntrospectTest, ErrorsAreNotCountedAsRefusedTokens) {
  ApiWorld world;
  const std::string caller = "Bearer " + world.tokens["admin"];
  for (const auto& [body, type] :
       std::vector<std::pair<std::string, std::string>>{{"", std::string(kForm)},
                                                        {"token=x", "application/json"},
                                                        {"colour=blue", std::string(kForm)}}) {
    Sent sent = Send(world, Post("/oauth/introspect", body, type, caller));
    EXPECT_EQ(sent.status, 400) << body;
    EXPECT_EQ(sent.Str("error"), "invalid_request") << body;
  }
  const std::string text =
      Send(world, MakeRequest(bh::verb::get, "/metrics")).answer.response.body();
  EXPECT_THAT(text, HasSubstr("keyward_tokens_refused_total{reason=\"invalid_request\"} 0\n"));
}

TEST(OAuthUserInfoTest, KeyJwtAndInvalid) {
  ApiWorld world;
  Sent by_key =
      Send(world, MakeRequest(bh::verb::get, "/oauth/userinfo", "", world.tokens["alice"]));
  ASSERT_EQ(by_key.status, 200) << by_key.answer.response.body();
  EXPECT_EQ(by_key.Str("sub"), "alice");
  EXPECT_EQ(by_key.Str("name"), "alice");
  EXPECT_EQ(by_key.Str("preferred_username"), "alice");
  EXPECT_EQ(json::serialize(by_key.body.at("tags")), R"(["team:x"])");
  EXPECT_FALSE(by_key.body.as_object().contains("scope"));

  const std::string jwt = IssueFor(world, "trino");
  ASSERT_FALSE(jwt.empty());
  Sent by_jwt = Send(world, Post("/oauth/userinfo", "", "", "Bearer " + jwt));
  ASSERT_EQ(by_jwt.status, 200) << by_jwt.answer.response.body();
  EXPECT_EQ(by_jwt.Str("sub"), "alice");
  EXPECT_TRUE(by_jwt.body.as_object().contains("scope"));

  Sent invalid = Send(world, MakeRequest(bh::verb::get, "/oauth/userinfo", "",
                                         jwt.substr(0, jwt.size() - 4) + "AAAA"));
  EXPECT_EQ(invalid.status, 401);
  EXPECT_EQ(invalid.Header("WWW-Authenticate"), "Bearer error=\"invalid_token\"");
  EXPECT_EQ(invalid.Str("error"), "invalid_token");
  Sent missing = Send(world, MakeRequest(bh::verb::get, "/oauth/userinfo"));
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.Header("WWW-Authenticate"), "Bearer realm=\"keyward\"");
  EXPECT_EQ(missing.Str("error"), "invalid_token");
}

TEST(OAuthDiscoveryTest, BothDocumentsHoldTheContractsFields) {
  ApiWorld world;
  Sent oidc = Send(world, MakeRequest(bh::verb::get, "/.well-known/openid-configuration"));
  Sent as = Send(world, MakeRequest(bh::verb::get, "/.well-known/oauth-authorization-server"));
  ASSERT_EQ(oidc.status, 200);
  EXPECT_EQ(oidc.Header("Content-Type"), "application/json");
  EXPECT_EQ(json::serialize(oidc.body), json::serialize(as.body));
  const json::object& d = oidc.body.as_object();
  const std::string issuer(kTestIssuer);
  EXPECT_EQ(d.at("issuer").as_string(), issuer);
  EXPECT_EQ(d.at("authorization_endpoint").as_string(), issuer + "/");
  EXPECT_EQ(d.at("token_endpoint").as_string(), issuer + "/oauth/token");
  EXPECT_EQ(d.at("jwks_uri").as_string(), issuer + "/.well-known/jwks.json");
  EXPECT_EQ(d.at("userinfo_endpoint").as_string(), issuer + "/oauth/userinfo");
  EXPECT_EQ(d.at("introspection_endpoint").as_string(), issuer + "/oauth/introspect");
  EXPECT_EQ(json::serialize(d.at("grant_types_supported")),
            R"(["client_credentials","urn:ietf:params:oauth:grant-type:token-exchange"])");
  EXPECT_EQ(json::serialize(d.at("token_endpoint_auth_methods_supported")),
            R"(["client_secret_post","client_secret_basic"])");
  EXPECT_EQ(json::serialize(d.at("id_token_signing_alg_values_supported")), R"(["ES256","RS256"])");
  EXPECT_EQ(json::serialize(d.at("subject_types_supported")), R"(["public"])");
  EXPECT_EQ(json::serialize(d.at("response_types_supported")), R"(["token"])");
  EXPECT_FALSE(d.contains("code_challenge_methods_supported"));
  EXPECT_FALSE(d.contains("token_endpoint_auth_signing_alg_values_supported"));
  EXPECT_EQ(d.size(), 13u);
}

TEST(OAuthDiscoveryTest, JwksPublishesTheCurrentKey) {
  ApiWorld world;
  Sent jwks = Send(world, MakeRequest(bh::verb::get, "/.well-known/jwks.json"));
  ASSERT_EQ(jwks.status, 200);
  EXPECT_EQ(jwks.Header("Content-Type"), "application/json");
  EXPECT_EQ(jwks.Header("Cache-Control"), "public, max-age=300");
  const json::array& keys = jwks.body.at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u);
  const json::object& jwk = keys[0].as_object();
  EXPECT_EQ(jwk.at("kty").as_string(), "EC");
  EXPECT_EQ(jwk.at("crv").as_string(), "P-256");
  EXPECT_EQ(jwk.at("alg").as_string(), "ES256");
  EXPECT_EQ(jwk.at("use").as_string(), "sig");
  EXPECT_FALSE(jwk.at("kid").as_string().empty());
  EXPECT_FALSE(jwk.contains("d"));
}

TEST(SigningKeyRoutesTest, ListAndRotate) {
  ApiWorld world;
  const std::string admin = world.NewSession("admin");
  Sent list =
      Send(world, MakeRequest(bh::verb::get, "/api/v1/signing-keys", "", world.tokens["alice"]));
  ASSERT_EQ(list.status, 200) << list.answer.response.body();
  ASSERT_EQ(list.body.at("keys").as_array().size(), 1u);
  const json::object& first = list.body.at("keys").as_array()[0].as_object();
  EXPECT_EQ(first.at("state").as_string(), "current");
  EXPECT_EQ(first.at("generation").as_int64(), 1);
  EXPECT_TRUE(first.at("signs_until").is_null());
  EXPECT_FALSE(first.at("public_key_spki").as_string().empty());
  EXPECT_EQ(first.at("jwk").at("kid"), first.at("kid"));

  Sent next = Send(world, MakeRequest(bh::verb::post, "/api/v1/signing-keys/rotate", "", admin));
  ASSERT_EQ(next.status, 201) << next.answer.response.body();
  EXPECT_EQ(next.Str("state"), "next");
  Sent again = Send(
      world, MakeRequest(bh::verb::post, "/api/v1/signing-keys/rotate", R"({"now":false})", admin));
  EXPECT_EQ(again.status, 409) << again.answer.response.body();
  EXPECT_EQ(again.body.at("error").at("code").as_string(), "already_exists");
  Sent now = Send(
      world, MakeRequest(bh::verb::post, "/api/v1/signing-keys/rotate", R"({"now":true})", admin));
  ASSERT_EQ(now.status, 201) << now.answer.response.body();
  EXPECT_EQ(now.Str("state"), "current");
  Sent unknown = Send(world, MakeRequest(bh::verb::post, "/api/v1/signing-keys/rotate",
                                         R"({"later":true})", admin));
  EXPECT_EQ(unknown.status, 400);
  Sent listed = Send(world, MakeRequest(bh::verb::get, "/api/v1/signing-keys", "", admin));
  const json::array& keys = listed.body.at("keys").as_array();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].at("generation").as_int64(), 3);  // newest first
}

TEST(OAuthGatewayTest, ForwardAuthAcceptsAGatewayJwt) {
  ApiWorld world;
  const std::string jwt = IssueFor(world, "gateway");
  ASSERT_FALSE(jwt.empty());
  for (int round = 0; round < 2; ++round) {  // a miss, then the cache
    Sent sent = Send(world, MakeRequest(bh::verb::get, "/auth", "", jwt));
    ASSERT_EQ(sent.status, 200) << round << ": " << sent.answer.response.body();
    EXPECT_EQ(sent.Header("X-Keyward-User"), "alice");
    EXPECT_EQ(sent.Header("X-Keyward-Tags"), "team:x");
    EXPECT_EQ(sent.Header("X-Keyward-Key-Name"), "alice-key");
  }
  // Requirements apply to the token's grant: a full-access key's token has no service scope.
  Sent scoped = Send(world, MakeRequest(bh::verb::get, "/auth?tag=team:x", "", jwt));
  EXPECT_EQ(scoped.status, 200);
  Sent other_tag = Send(world, MakeRequest(bh::verb::get, "/auth?tag=team:y", "", jwt));
  EXPECT_EQ(other_tag.status, 403);
  EXPECT_EQ(other_tag.Header("X-Keyward-Reason"), "tag");
  // A token for another audience is not a gateway's.
  Sent pulsar = Send(world, MakeRequest(bh::verb::get, "/auth", "", IssueFor(world, "pulsar")));
  EXPECT_EQ(pulsar.status, 401);
  // Its key deleted, the token is refused.
  ASSERT_EQ(Send(world, MakeRequest(bh::verb::delete_, "/api/v1/users/alice/apikeys/alice-key", "",
                                    world.tokens["admin"]))
                .status,
            204);
  EXPECT_EQ(Send(world, MakeRequest(bh::verb::get, "/auth", "", jwt)).status, 401);
}

// Rotating a key keeps the tokens of its old secret at /auth for the grace, and /oauth/token
// takes the old secret meanwhile; with no grace they are refused at once.
TEST(OAuthGatewayTest, TokensOfARotatedSecretPassForItsGrace) {
  ApiWorld world;
  const std::string admin = world.tokens["admin"];
  const std::string before = IssueFor(world, "gateway");
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(Send(world, MakeRequest(bh::verb::get, "/auth", "", before)).status, 200);
  const std::string keys = "/api/v1/users/alice/apikeys/";
  ASSERT_EQ(Send(world,
                 MakeRequest(bh::verb::post, keys + "alice-key/rotate", R"({"grace":"1h"})", admin))
                .status,
            201);
  for (int round = 0; round < 2; ++round) {  // a miss, then the cache
    Sent sent = Send(world, MakeRequest(bh::verb::get, "/auth", "", before));
    EXPECT_EQ(sent.status, 200) << round << ": " << sent.answer.response.body();
    EXPECT_EQ(sent.Header("X-Keyward-User"), "alice");
  }
  const std::string during = IssueFor(world, "gateway");  // with the old secret
  ASSERT_FALSE(during.empty());
  EXPECT_EQ(Send(world, MakeRequest(bh::verb::get, "/auth", "", during)).status, 200);

  Sent made = Send(world, MakeRequest(bh::verb::post, "/api/v1/users/alice/apikeys",
                                      R"({"name":"k2","scopes":["tokens:issue"]})", admin));
  ASSERT_EQ(made.status, 201) << made.answer.response.body();
  Sent issued = Token(world, ClientCredentials("alice", made.Str("token")) + "&audience=gateway");
  ASSERT_EQ(issued.status, 200) << issued.answer.response.body();
  const std::string jwt = issued.Str("access_token");
  EXPECT_EQ(Send(world, MakeRequest(bh::verb::get, "/auth", "", jwt)).status, 200);
  ASSERT_EQ(Send(world, MakeRequest(bh::verb::post, keys + "k2/rotate", R"({"grace":"0s"})", admin))
                .status,
            201);
  EXPECT_EQ(Send(world, MakeRequest(bh::verb::get, "/auth", "", jwt)).status, 401);
}

TEST(OAuthGatewayTest, AuthorizeAcceptsAGatewayJwt) {
  ApiWorld world;
  const std::string jwt = IssueFor(world, "gateway");
  ASSERT_FALSE(jwt.empty());
  Sent sent = Send(world, MakeRequest(bh::verb::post, "/api/v1/authorize",
                                      R"({"token":")" + jwt + R"("})", world.tokens["admin"]));
  ASSERT_EQ(sent.status, 200) << sent.answer.response.body();
  EXPECT_TRUE(sent.body.at("allow").as_bool());
  EXPECT_EQ(sent.body.at("result").at("id").as_string(), "alice");
  Sent trino = Send(world, MakeRequest(bh::verb::post, "/api/v1/authorize",
                                       R"({"token":")" + IssueFor(world, "trino") + R"("})",
                                       world.tokens["admin"]));
  EXPECT_EQ(trino.status, 200);
  EXPECT_FALSE(trino.body.at("valid").as_bool());
}

TEST(OAuthMetricsTest, IssuedRefusedSigningAndRotations) {
  ApiWorld world;
  ASSERT_FALSE(IssueFor(world).empty());
  Token(world, "grant_type=password");
  Send(world,
       MakeRequest(bh::verb::post, "/api/v1/signing-keys/rotate", "", world.NewSession("admin")));
  Sent metrics = Send(world, MakeRequest(bh::verb::get, "/metrics"));
  const std::string& text = metrics.answer.response.body();
  EXPECT_THAT(text, HasSubstr("keyward_tokens_issued_total{grant=\"client_credentials\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("keyward_tokens_issued_total{grant=\"token_exchange\"} 0\n"));
  EXPECT_THAT(text,
              HasSubstr("keyward_tokens_refused_total{reason=\"unsupported_grant_type\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("keyward_token_signing_seconds_bucket{le=\"0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("keyward_token_signing_seconds_count 1\n"));
  EXPECT_THAT(text, HasSubstr("keyward_signing_key_rotations_total 1\n"));
}

TEST(OAuthIssuerOffTest, RoutesAnswer404AndAJwtIsAnUnknownKey) {
  ApiWorld world(/*issuer=*/false);
  for (const char* target :
       {"/.well-known/openid-configuration", "/.well-known/jwks.json", "/api/v1/signing-keys"}) {
    Sent sent = Send(world, MakeRequest(bh::verb::get, target, "", world.tokens["alice"]));
    EXPECT_EQ(sent.status, 404) << target;
    EXPECT_EQ(sent.body.at("error").at("code").as_string(), "not_found") << target;
    EXPECT_EQ(sent.body.at("error").at("message").as_string(),
              "the token issuer is off: start keyward serve with --issuer URL");
  }
  EXPECT_EQ(Send(world, Post("/oauth/token", "grant_type=client_credentials", kForm)).status, 404);
  EXPECT_EQ(
      Send(world, MakeRequest(bh::verb::get, "/oauth/userinfo", "", world.tokens["alice"])).status,
      404);
  // A signed-in route authenticates first, as every one does.
  const std::string bearer = "Bearer " + world.tokens["admin"];
  EXPECT_EQ(Send(world, Post("/oauth/introspect", "token=x", kForm)).status, 401);
  EXPECT_EQ(Send(world, Post("/oauth/introspect", "token=x", kForm, bearer)).status, 404);
  EXPECT_EQ(Send(world, Post("/api/v1/signing-keys/rotate", "", "", bearer)).status, 404);
  const std::string jwt_shaped = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";
  EXPECT_EQ(Send(world, MakeRequest(bh::verb::get, "/auth", "", jwt_shaped)).status, 401);
}

}  // namespace
}  // namespace keyward
