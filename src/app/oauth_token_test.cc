// The token endpoint through the real ApiHandler (api_test_world.h, issuer http://keyward.test,
// audiences pulsar (default), trino (typ JWT) and gateway): both grants, scopes, and every RFC
// 6749 error of the contract with its exact headers.
#include "app/oauth_test_helpers.h"
#include "token/jwt.h"

namespace keyward {
namespace {

using namespace oauth_test;  // NOLINT(google-build-using-namespace): the shared test helpers
using ::testing::HasSubstr;

TEST(OAuthTokenTest, ClientCredentialsInTheBody) {
  ApiWorld world;
  Sent sent = Token(world, ClientCredentials("alice", world.tokens["alice"]));
  ASSERT_EQ(sent.status, 200) << sent.answer.response.body();
  ExpectTokenHeaders(sent);
  EXPECT_TRUE(token::LooksLikeJwt(sent.Str("access_token")));
  EXPECT_EQ(sent.Str("token_type"), "Bearer");
  const std::int64_t expires_in = sent.body.at("expires_in").as_int64();
  EXPECT_GT(expires_in, 0);
  EXPECT_LE(expires_in, 600);
  // A full-access key has no service scopes; no exchange, so no issued_token_type.
  EXPECT_FALSE(sent.body.as_object().contains("scope"));
  EXPECT_FALSE(sent.body.as_object().contains("issued_token_type"));
}

TEST(OAuthTokenTest, ClientCredentialsWithBasicAndAnAudience) {
  ApiWorld world;
  Sent sent = Token(world, "grant_type=client_credentials&audience=trino",
                    Basic("alice", world.tokens["alice"]));
  ASSERT_EQ(sent.status, 200) << sent.answer.response.body();
  ExpectTokenHeaders(sent);
  EXPECT_TRUE(token::LooksLikeJwt(sent.Str("access_token")));
  // Pulsar's C++ client: '+' for spaces, client_id in the body beside Basic (the same one).
  Sent same_id = Token(world, "grant_type=client_credentials&client_id=alice&scope=",
                       Basic("alice", world.tokens["alice"]));
  EXPECT_EQ(same_id.status, 200) << same_id.answer.response.body();
}

TEST(OAuthTokenTest, TokenExchangeOfAKeyAndOfASession) {
  ApiWorld world;
  const std::string base = "grant_type=" + Enc(kExchange) + "&subject_token=";
  Sent key = Token(world, base + Enc(world.tokens["alice"]) +
                              "&subject_token_type=" + Enc(kApiKeyType) + "&audience=pulsar");
  ASSERT_EQ(key.status, 200) << key.answer.response.body();
  ExpectTokenHeaders(key);
  EXPECT_EQ(key.Str("issued_token_type"), kAccessTokenType);
  Sent jwt =
      Token(world, base + Enc(world.tokens["alice"]) + "&subject_token_type=" + Enc(kApiKeyType) +
                       "&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt");
  ASSERT_EQ(jwt.status, 200) << jwt.answer.response.body();
  EXPECT_EQ(jwt.Str("issued_token_type"), "urn:ietf:params:oauth:token-type:jwt");
  Sent session = Token(world, base + Enc(world.NewSession("alice")) +
                                  "&subject_token_type=" + Enc(kAccessTokenType));
  EXPECT_EQ(session.status, 200) << session.answer.response.body();
  // Client authentication is optional; given, it must be a key of the subject's owner.
  Sent other_client =
      Token(world, base + Enc(world.tokens["alice"]) + "&subject_token_type=" + Enc(kApiKeyType),
            Basic("bob", world.tokens["bob"]));
  ExpectError(other_client, 401, "invalid_client", "a client other than the subject's owner");
  Sent own_client =
      Token(world, base + Enc(world.tokens["alice"]) + "&subject_token_type=" + Enc(kApiKeyType),
            Basic("alice", world.AddFullAccessKey("alice", "client")));
  EXPECT_EQ(own_client.status, 200) << own_client.answer.response.body();
}

TEST(OAuthTokenTest, ScopesAreTheRequestedServiceScopesOfTheKey) {
  ApiWorld world;
  const std::string key =
      world.AddKey("alice", "svc", ScopedGrant({"tokens:issue", "svc:read", "svc:write"}));
  Sent all = Token(world, ClientCredentials("alice", key));
  ASSERT_EQ(all.status, 200) << all.answer.response.body();
  EXPECT_EQ(all.Str("scope"), "svc:read svc:write");
  Sent one = Token(world, ClientCredentials("alice", key) + "&scope=svc%3Aread");
  ASSERT_EQ(one.status, 200) << one.answer.response.body();
  EXPECT_EQ(one.Str("scope"), "svc:read");
  ExpectError(Token(world, ClientCredentials("alice", key) + "&scope=svc%3Aadmin"), 400,
              "invalid_scope", "a service scope the key lacks");
  ExpectError(Token(world, ClientCredentials("alice", key) + "&scope=keys%3Aread"), 400,
              "invalid_scope", "a Keyward scope");
  const std::string no_issue = world.AddKey("alice", "no-issue", ScopedGrant({"svc:read"}));
  ExpectError(Token(world, ClientCredentials("alice", no_issue)), 400, "unauthorized_client",
              "a key without tokens:issue");
}

struct ErrorCase {
  std::string what{};
  std::string body{};
  std::string content_type = std::string(kForm);
  std::string authorization{};
  int status = 400;
  std::string error = "invalid_request";
  std::string mentions{};  // in error_description, when not empty
};

TEST(OAuthTokenTest, EveryMalformedRequestGetsItsRfcError) {
  ApiWorld world;
  const std::string key = world.tokens["alice"];
  const std::string cc = ClientCredentials("alice", key);
  const std::vector<ErrorCase> cases = {
      {.what = "no grant_type", .body = "client_id=alice&client_secret=" + Enc(key)},
      {.what = "an unknown grant_type",
       .body = "grant_type=password&client_id=alice&client_secret=" + Enc(key),
       .error = "unsupported_grant_type"},
      {.what = "a repeated parameter",
       .body = cc + "&audience=pulsar&audience=trino",
       .mentions = "audience"},
      {.what = "an unknown parameter", .body = cc + "&colour=blue", .mentions = "colour"},
      {.what = "JSON",
       .body = R"({"grant_type":"client_credentials"})",
       .content_type = "application/json"},
      {.what = "no Content-Type", .body = cc, .content_type = ""},
      {.what = "a body over 16 KiB", .body = cc + "&scope=" + std::string(17 * 1024, 'a')},
      {.what = "Basic and client_secret", .body = cc, .authorization = Basic("alice", key)},
      {.what = "Basic that is not base64",
       .body = "grant_type=client_credentials",
       .authorization = "Basic %%%not-base64%%%"},
      {.what = "audience and resource", .body = cc + "&audience=pulsar&resource=pulsar"},
      {.what = "an actor token",
       .body = "grant_type=" + Enc(kExchange) + "&subject_token=" + Enc(key) +
               "&subject_token_type=" + Enc(kApiKeyType) + "&actor_token=x",
       .mentions = "actor_token"},
      {.what = "a subject_token_type of another kind",
       .body = "grant_type=" + Enc(kExchange) + "&subject_token=" + Enc(key) +
               "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Asaml2"},
      {.what = "an exchange without subject_token",
       .body = "grant_type=" + Enc(kExchange) + "&subject_token_type=" + Enc(kApiKeyType)},
      {.what = "bad percent-encoding", .body = cc + "&scope=%zz"},
      {.what = "no client authentication",
       .body = "grant_type=client_credentials",
       .status = 401,
       .error = "invalid_client"},
      {.what = "a wrong secret",
       .body = ClientCredentials("alice", key + "x"),
       .status = 401,
       .error = "invalid_client"},
      {.what = "a client_id that is not the key's owner",
       .body = ClientCredentials("bob", key),
       .status = 401,
       .error = "invalid_client"},
      {.what = "Basic with a wrong secret",
       .body = "grant_type=client_credentials",
       .authorization = Basic("alice", "kw_nothing"),
       .status = 401,
       .error = "invalid_client"},
      {.what = "an audience not configured",
       .body = cc + "&audience=elsewhere",
       .error = "invalid_target"},
  };
  for (const ErrorCase& c : cases) {
    Sent sent = Send(world, Post("/oauth/token", c.body, c.content_type, c.authorization));
    ExpectError(sent, c.status, c.error, c.what);
    if (!c.mentions.empty()) {
      EXPECT_THAT(sent.Str("error_description"), HasSubstr(c.mentions)) << c.what;
    }
    EXPECT_THAT(sent.answer.response.body(), ::testing::Not(HasSubstr(key))) << c.what;
  }
}

}  // namespace
}  // namespace keyward
