// The token service on a real SQLite store with a hand-moved clock: keys traded for JWTs (ES256
// and RS256), every refusal of the token endpoint, and verification with its lineage: a token
// dies with its key, in the cache too.
#include "service/token_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "service/token_test_world.h"

namespace keyward {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class TokenServiceTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    KW_ASSERT_OK(ring_->Refresh());
    key_ = AliceKey({.name = "pulsar-client",
                     .scopes = {"minerva:query", "pulsar:produce", "tokens:issue"},
                     .tags = std::vector<std::string>{"team:x"}});
  }

  TokenRequest Request(std::string audience = "") const {
    return {.api_key = key_, .client_id = std::nullopt, .audience = std::move(audience)};
  }

  // The claims of a token just issued for key_, to forge variants of.
  boost::json::object Claims() { return Part(MustIssue(Request()).access_token, 1); }

  std::string key_;
};

TEST_F(TokenServiceTest, AnES256TokenCarriesTheContractsClaimsAndVerifies) {
  TokenRequest request = Request();
  request.client_id = "alice";
  IssuedToken issued = MustIssue(request);
  const UnixSeconds now = clock_.Now();
  EXPECT_EQ(issued.expires_in, 600);
  EXPECT_EQ(issued.audience, "pulsar");
  EXPECT_EQ(issued.scope, "minerva:query pulsar:produce");
  EXPECT_GT(issued.signing_seconds, 0);

  const boost::json::object header = Part(issued.access_token, 0);
  EXPECT_EQ(header.at("alg"), "ES256");
  EXPECT_EQ(header.at("typ"), "at+jwt");
  EXPECT_EQ(header.at("kid").as_string(), ring_->snapshot()->current->record.kid);
  const boost::json::object claims = Part(issued.access_token, 1);
  EXPECT_EQ(claims.at("iss"), "https://keyward.test");
  EXPECT_EQ(claims.at("sub"), "alice");
  EXPECT_EQ(claims.at("aud"), "pulsar");
  EXPECT_EQ(claims.at("iat").as_int64(), now - 5);
  EXPECT_EQ(claims.at("nbf").as_int64(), now - 5);
  EXPECT_EQ(claims.at("exp").as_int64(), now + 600);
  EXPECT_EQ(claims.at("jti").as_string().size(), 22u);  // 16 bytes, base64url
  EXPECT_EQ(claims.at("client_id").as_string(), KeyId(HashKey(key_)));
  EXPECT_EQ(KeyId(HashKey(key_)).size(), 24u);
  EXPECT_EQ(claims.at("scope"), "minerva:query pulsar:produce");
  EXPECT_EQ(claims.at("tags"), boost::json::array({"team:x"}));
  EXPECT_EQ(issued.access_token.find(key_.substr(3)), std::string::npos);

  KW_ASSERT_OK_AND_ASSIGN(Principal who,
                          tokens_->Verify(issued.access_token, AudienceSet::kGateway));
  EXPECT_EQ(who.user.id, "alice");
  EXPECT_THAT(who.user.tags, ElementsAre("team:x"));
  EXPECT_THAT(who.grant.scopes, ElementsAre("minerva:query", "pulsar:produce"));
  EXPECT_FALSE(who.grant.full_access);
  EXPECT_EQ(who.key_name, "pulsar-client");
  EXPECT_EQ(who.token_hash, HashKey(issued.access_token));
  EXPECT_EQ(who.parent_key_hash, HashKey(key_));
  EXPECT_EQ(who.expires_at, now + 600);
  EXPECT_THAT(tokens_->Verify(issued.access_token, AudienceSet::kAny), IsOk());
}

TEST_F(TokenServiceTest, AnRS256TokenForAJwtTypedAudienceVerifiesOutsideTheGateway) {
  token_options_.alg = token::Alg::kRS256;
  KW_ASSERT_OK(ring_->Refresh());  // the RS256 key is published now and signs after prepublish
  EXPECT_EQ(Part(MustIssue(Request()).access_token, 0).at("alg"), "ES256");
  clock_.Advance(token_options_.prepublish);
  IssuedToken issued = MustIssue(Request("trino"));
  EXPECT_EQ(Part(issued.access_token, 0).at("alg"), "RS256");
  EXPECT_EQ(Part(issued.access_token, 0).at("typ"), "JWT");
  EXPECT_EQ(Part(issued.access_token, 1).at("aud"), "trino");
  KW_ASSERT_OK_AND_ASSIGN(Principal who, tokens_->Verify(issued.access_token, AudienceSet::kAny));
  EXPECT_EQ(who.user.id, "alice");
  // Not a gateway token: verified for userinfo, never cached as valid for /auth …
  EXPECT_EQ(tokens_->TryCached(issued.access_token, [](const CacheEntry&) {}),
            KeyCache::Outcome::kMiss);
  EXPECT_THAT(tokens_->Verify(issued.access_token, AudienceSet::kGateway),
              StatusIs(StatusCode::kUnauthenticated));
  // … and once /auth refused it, remembered there as unknown, while userinfo still takes it.
  EXPECT_EQ(tokens_->TryCached(issued.access_token, [](const CacheEntry&) { ADD_FAILURE(); }),
            KeyCache::Outcome::kInvalid);
  EXPECT_THAT(tokens_->Verify(issued.access_token, AudienceSet::kAny), IsOk());
}

TEST_F(TokenServiceTest, EveryRefusalHasItsOAuthError) {
  TokenRequest wrong_client = Request();
  wrong_client.client_id = "admin";
  EXPECT_EQ(IssueError(wrong_client), "invalid_client");
  TokenRequest unknown = Request();
  unknown.api_key = "kw_nope";
  EXPECT_EQ(IssueError(unknown), "invalid_client");
  const std::string never_stored = GenerateKey("kw");
  unknown.api_key = never_stored;
  EXPECT_EQ(IssueError(unknown), "invalid_client");

  const std::string no_issue = AliceKey({.scopes = {"minerva:query"}});
  EXPECT_EQ(IssueError({.api_key = no_issue}), "unauthorized_client");
  const std::string fenced = AliceKey(
      {.scopes = {"tokens:issue"}, .allowed_addresses = std::vector<std::string>{"10.0.0.0/8"}});
  EXPECT_EQ(IssueError({.api_key = fenced, .client_address = "192.168.1.1"}),
            "unauthorized_client");
  EXPECT_EQ(IssueError({.api_key = fenced, .client_address = "10.1.2.3"}), "");

  EXPECT_EQ(IssueError(Request("kafka")), "invalid_target");
  TokenRequest keyward_scope = Request();
  keyward_scope.scopes = std::vector<std::string>{"minerva:query", "keys:read"};
  EXPECT_EQ(IssueError(keyward_scope), "invalid_scope");
  keyward_scope.scopes = std::vector<std::string>{"tokens:issue"};
  EXPECT_EQ(IssueError(keyward_scope), "invalid_scope");
  TokenRequest not_held = Request();
  not_held.scopes = std::vector<std::string>{"trino:admin"};
  EXPECT_EQ(IssueError(not_held), "invalid_scope");

  const std::string brief = AliceKey({.duration = "30m", .scopes = {"tokens:issue"}});
  clock_.Advance(1800);
  auto expired = tokens_->Issue({.api_key = brief});
  ASSERT_TRUE(std::holds_alternative<OAuthError>(expired));
  EXPECT_EQ(std::get<OAuthError>(expired).error, "invalid_client");
  EXPECT_EQ(std::get<OAuthError>(expired).status, 401);
}

TEST_F(TokenServiceTest, ATokenNeverOutlivesItsKey) {
  const std::string brief = AliceKey({.duration = "5m", .scopes = {"tokens:issue"}});
  IssuedToken issued = MustIssue({.api_key = brief});
  EXPECT_EQ(issued.expires_in, 300);
  EXPECT_EQ(Part(issued.access_token, 1).at("exp").as_int64(), clock_.Now() + 300);
  EXPECT_EQ(issued.scope, "");
  EXPECT_FALSE(Part(issued.access_token, 1).contains("scope"));
}

TEST_F(TokenServiceTest, TheTokensGrantIsNarrowedToItsScopes) {
  TokenRequest narrow = Request();
  narrow.scopes = std::vector<std::string>{"minerva:query"};
  IssuedToken issued = MustIssue(narrow);
  EXPECT_EQ(issued.scope, "minerva:query");
  KW_ASSERT_OK_AND_ASSIGN(Principal who,
                          tokens_->Verify(issued.access_token, AudienceSet::kGateway));
  EXPECT_THAT(who.grant.scopes, ElementsAre("minerva:query"));
  EXPECT_FALSE(who.grant.HasScope("pulsar:produce"));
  EXPECT_FALSE(who.grant.HasScope("tokens:issue"));
  // A tag the owner loses leaves the token too.
  KW_ASSERT_OK(users_->RemoveTag(admin_, "alice", "team:x").status());
  KW_ASSERT_OK_AND_ASSIGN(who, tokens_->Verify(issued.access_token, AudienceSet::kGateway));
  EXPECT_THAT(who.user.tags, IsEmpty());
}

TEST_F(TokenServiceTest, SessionsAndFullAccessKeysMayAskForAnyServiceScope) {
  const std::string session_token = GenerateKey("kw");
  KW_ASSERT_OK(store_->CreateSession({.user_id = "alice",
                                      .hash = HashKey(session_token),
                                      .created_at = clock_.Now(),
                                      .expires_at = clock_.Now() + 3600}));
  TokenRequest by_session{.api_key = session_token};
  EXPECT_EQ(IssueError(by_session), "invalid_client");  // client_credentials takes keys only
  by_session.allow_session = true;
  IssuedToken plain = MustIssue(by_session);
  EXPECT_EQ(plain.scope, "");
  by_session.scopes = std::vector<std::string>{"trino:admin"};
  IssuedToken scoped = MustIssue(by_session);
  EXPECT_EQ(scoped.scope, "trino:admin");
  KW_ASSERT_OK_AND_ASSIGN(Principal who,
                          tokens_->Verify(scoped.access_token, AudienceSet::kGateway));
  EXPECT_EQ(who.via, KeyType::kSession);
  EXPECT_THAT(who.grant.scopes, ElementsAre("trino:admin"));
  EXPECT_THAT(who.user.tags, ElementsAre("team:x", "team:y"));
  by_session.scopes = std::vector<std::string>{"users:write"};
  EXPECT_EQ(IssueError(by_session), "invalid_scope");

  KeyRecord legacy;
  const std::string legacy_key = GenerateKey("kw");
  legacy.user_id = "alice";
  legacy.name = "legacy";
  legacy.hash = HashKey(legacy_key);
  legacy.masked = MaskKey(legacy_key);
  legacy.created_at = clock_.Now();
  legacy.expires_at = clock_.Now() + 86400;
  legacy.grant.full_access = true;
  KW_ASSERT_OK(store_->CreateKey(legacy));
  EXPECT_EQ(MustIssue({.api_key = legacy_key}).scope, "");
  EXPECT_EQ(MustIssue({.api_key = legacy_key, .scopes = std::vector<std::string>{"x:y"}}).scope,
            "x:y");
}

TEST_F(TokenServiceTest, VerifyRefusesForgedAndStaleClaims) {
  const boost::json::object good = Claims();
  KW_ASSERT_OK(tokens_->Verify(Forge(good), AudienceSet::kGateway).status());
  auto refused = [&](const boost::json::object& claims, std::string_view typ = "at+jwt") {
    return tokens_->Verify(Forge(claims, typ), AudienceSet::kAny).status().code() ==
           StatusCode::kUnauthenticated;
  };
  auto with = [&](std::string_view name, boost::json::value value) {
    boost::json::object claims = good;
    claims[name] = std::move(value);
    return claims;
  };
  auto without = [&](std::string_view name) {
    boost::json::object claims = good;
    claims.erase(name);
    return claims;
  };
  const std::int64_t now = clock_.Now();
  EXPECT_TRUE(refused(with("iss", "https://keyward.test/")));
  EXPECT_TRUE(refused(with("iss", "https://evil.test")));
  EXPECT_TRUE(refused(with("aud", "kafka")));
  EXPECT_TRUE(refused(with("aud", boost::json::array({"pulsar", "trino"}))));
  EXPECT_FALSE(refused(with("aud", boost::json::array({"pulsar"}))));
  EXPECT_TRUE(refused(with("exp", now - 5)));
  EXPECT_FALSE(refused(with("exp", now - 4)));
  EXPECT_TRUE(refused(with("nbf", now + 6)));
  EXPECT_TRUE(refused(with("iat", now + 6)));
  EXPECT_TRUE(refused(with("exp", "soon")));
  EXPECT_TRUE(refused(with("sub", "admin")));
  EXPECT_TRUE(refused(with("client_id", "0123456789abcdef01234567")));
  EXPECT_TRUE(refused(with("client_id", "not hex")));
  EXPECT_TRUE(refused(with("scope", boost::json::array({"minerva:query"}))));
  EXPECT_TRUE(refused(with("tags", "team:x")));
  for (const char* name : {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id"}) {
    EXPECT_TRUE(refused(without(name))) << name;
  }
  EXPECT_TRUE(refused(good, "JWS"));
  EXPECT_FALSE(refused(good, "JWT"));
}

TEST_F(TokenServiceTest, VerifyRefusesTamperedExpiredAndEarlyTokens) {
  const std::string jwt = MustIssue(Request()).access_token;
  std::string tampered = jwt;
  const std::size_t claims_at = tampered.find('.') + 5;
  tampered[claims_at] = tampered[claims_at] == 'A' ? 'B' : 'A';
  EXPECT_THAT(tokens_->Verify(tampered, AudienceSet::kAny), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(tokens_->Verify("kw_not_a_jwt", AudienceSet::kAny),
              StatusIs(StatusCode::kUnauthenticated));
  KW_ASSERT_OK(tokens_->Verify(jwt, AudienceSet::kGateway).status());

  // A token expiring while its cache entry is fresh: the cache refuses it itself.
  const std::string brief_key = AliceKey({.duration = "3s", .scopes = {"tokens:issue"}});
  const std::string brief = MustIssue({.api_key = brief_key}).access_token;
  KW_ASSERT_OK(tokens_->Verify(brief, AudienceSet::kGateway).status());
  clock_.Advance(3);
  EXPECT_EQ(tokens_->TryCached(brief, [](const CacheEntry&) {}), KeyCache::Outcome::kInvalid);

  clock_.Advance(600 + 5 - 3);  // exp + skew
  EXPECT_THAT(tokens_->Verify(jwt, AudienceSet::kGateway), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_NE(tokens_->TryCached(jwt, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);

  boost::json::object early = Claims();
  early["nbf"] = clock_.Now() + 60;
  EXPECT_THAT(tokens_->Verify(Forge(early), AudienceSet::kAny),
              StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(TokenServiceTest, ATokenDiesWithItsKeyInTheCacheToo) {
  const std::string jwt = MustIssue(Request()).access_token;
  KW_ASSERT_OK(tokens_->Verify(jwt, AudienceSet::kGateway).status());
  std::string user;
  std::string scopes;
  EXPECT_EQ(tokens_->TryCached(jwt,
                               [&](const CacheEntry& e) {
                                 user = e.principal.user.id;
                                 scopes = e.scopes_header;
                               }),
            KeyCache::Outcome::kValid);
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(scopes, "minerva:query,pulsar:produce");

  KW_ASSERT_OK(keys_->Delete(admin_, "alice", "pulsar-client"));
  EXPECT_EQ(tokens_->TryCached(jwt, [](const CacheEntry&) { ADD_FAILURE(); }),
            KeyCache::Outcome::kMiss);
  EXPECT_THAT(tokens_->Verify(jwt, AudienceSet::kGateway), StatusIs(StatusCode::kUnauthenticated));
  // Refused at /auth, it is remembered as unknown there, as a deleted key is.
  EXPECT_EQ(tokens_->TryCached(jwt, [](const CacheEntry&) { ADD_FAILURE(); }),
            KeyCache::Outcome::kInvalid);
  EXPECT_THAT(tokens_->Verify(jwt, AudienceSet::kAny), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(IssueError(Request()), "invalid_client");
}

TEST_F(TokenServiceTest, TryCachedAnswersOnlyJwtsAndOnlyWhileBothEntriesLive) {
  EXPECT_EQ(tokens_->TryCached(key_, [](const CacheEntry&) {}), KeyCache::Outcome::kInvalid);
  const std::string jwt = MustIssue(Request()).access_token;
  EXPECT_EQ(tokens_->TryCached(jwt, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss);
  KW_ASSERT_OK(tokens_->Verify(jwt, AudienceSet::kGateway).status());
  EXPECT_EQ(tokens_->TryCached(jwt, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);
  // Used tokens mark their key as used, never a "key" of the token's hash.
  auto used = cache_.TakeUsed();
  for (const auto& [hash, when] : used) EXPECT_EQ(hash, HashKey(key_));
  cache_.Erase(HashKey(key_));  // as the store's events do on a delete on any node
  EXPECT_EQ(tokens_->TryCached(jwt, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss);
  KW_ASSERT_OK(tokens_->Verify(jwt, AudienceSet::kGateway).status());  // key still there
  EXPECT_EQ(tokens_->TryCached(jwt, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);
}

TEST_F(TokenServiceTest, AKidThatLeftTheJwksIsUnknown) {
  const RingKey* first = ring_->snapshot()->current;
  const token::SigningKey old_key = *first->private_key;
  const std::string jwt = MustIssue(Request()).access_token;
  KW_ASSERT_OK(ring_->Rotate(admin_, /*now=*/true).status());
  KW_ASSERT_OK(tokens_->Verify(jwt, AudienceSet::kAny).status());  // retired, still published
  EXPECT_NE(Part(MustIssue(Request()).access_token, 0).at("kid"), Part(jwt, 0).at("kid"));

  clock_.Advance(token_options_.ttl + token_options_.skew + 60);
  KW_ASSERT_OK(ring_->Refresh());
  boost::json::object claims = Claims();  // fresh times, so only the key is wrong
  auto forged = token::SignJwt(old_key, "at+jwt", claims);
  KW_ASSERT_OK(forged.status());
  auto refused = tokens_->Verify(*forged, AudienceSet::kAny);
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(refused.status().message(), HasSubstr("kid"));
}

// Another node's emergency key signs at once: this node reads the keys again when it meets the
// kid, instead of refusing its tokens until its next tick.
TEST_F(TokenServiceTest, AKeyAnotherNodeMadeAtOnceVerifiesHereAtOnce) {
  SigningKeyRing other_ring(*store_, *master_, token_options_, clock_, *audit_);
  KW_ASSERT_OK(other_ring.Refresh());
  TokenService other(token_options_, *auth_, other_ring, *store_, &cache_, clock_);
  clock_.Advance(1);
  KW_ASSERT_OK_AND_ASSIGN(RingKey fresh, other_ring.Rotate(admin_, /*now=*/true));
  auto issued = other.Issue(Request());
  ASSERT_TRUE(std::holds_alternative<IssuedToken>(issued));
  const std::string jwt = std::get<IssuedToken>(issued).access_token;
  EXPECT_EQ(Part(jwt, 0).at("kid").as_string(), fresh.record.kid);
  EXPECT_EQ(ring_->snapshot()->Find(fresh.record.kid), nullptr);
  KW_EXPECT_OK(tokens_->Verify(jwt, AudienceSet::kGateway).status());
  EXPECT_NE(ring_->snapshot()->Find(fresh.record.kid), nullptr);
}

}  // namespace
}  // namespace keyward
