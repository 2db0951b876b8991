// A fixture for the token issuer's services: GrantTest's world (SQLite store, ManualClock,
// users "admin" and "alice", the key services) plus a signing-key ring and a token service,
// with an issuer, two audiences ("pulsar", a gateway one, and "trino" with typ JWT) and the
// default periods. Helpers read and forge tokens the way a hostile client would.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "service/grant_test_world.h"
#include "service/signing_key_ring.h"
#include "service/token_service.h"
#include "token/jwt.h"

namespace keyward {

class TokenTest : public GrantTest {
 protected:
  void SetUp() override {
    GrantTest::SetUp();
    if (HasFatalFailure()) return;
    token_options_.issuer = "https://keyward.test";
    token_options_.audiences = {{"pulsar"}, {"trino", "JWT"}};
    token_options_.gateway_audiences = {"pulsar"};
    ring_ = std::make_unique<SigningKeyRing>(*store_, *master_, token_options_, clock_, *audit_);
    auth_ = std::make_unique<Authenticator>(*store_, options_, clock_, &cache_);
    tokens_ =
        std::make_unique<TokenService>(token_options_, *auth_, *ring_, *store_, &cache_, clock_);
  }

  // A new key of alice with `in`, in full.
  std::string AliceKey(const NewKey& in) {
    auto key = keys_->Create(admin_, "alice", in);
    EXPECT_THAT(key, IsOk());
    return key.ok() ? key->token : std::string();
  }

  // The issued token, or a test failure naming the OAuth error.
  IssuedToken MustIssue(const TokenRequest& request) {
    auto issued = tokens_->Issue(request);
    if (const auto* error = std::get_if<OAuthError>(&issued)) {
      ADD_FAILURE() << "refused: " << error->error << ": " << error->description;
      return {};
    }
    return std::get<IssuedToken>(issued);
  }

  // The OAuth error code Issue gives ("" when it issues).
  std::string IssueError(const TokenRequest& request) {
    auto issued = tokens_->Issue(request);
    const auto* error = std::get_if<OAuthError>(&issued);
    return error != nullptr ? error->error : std::string();
  }

  // Part `index` (0 header, 1 claims) of a compact JWT, parsed.
  static boost::json::object Part(const std::string& jwt, int index) {
    std::size_t begin = 0;
    for (int i = 0; i < index; ++i) begin = jwt.find('.', begin) + 1;
    const std::size_t end = jwt.find('.', begin);
    auto bytes = token::Base64UrlDecode(std::string_view(jwt).substr(begin, end - begin));
    EXPECT_TRUE(bytes.has_value());
    return bytes ? boost::json::parse(*bytes).as_object() : boost::json::object();
  }

  // `claims` signed by the key that signs now, with header typ `typ`.
  std::string Forge(const boost::json::object& claims, std::string_view typ = "at+jwt") {
    const RingKey* signer = ring_->snapshot()->SignerAt(clock_.Now());
    EXPECT_NE(signer, nullptr);
    if (signer == nullptr) return {};
    auto jwt = token::SignJwt(*signer->private_key, typ, claims);
    EXPECT_THAT(jwt, IsOk());
    return jwt.ok() ? *jwt : std::string();
  }

  TokenOptions token_options_;
  std::unique_ptr<SigningKeyRing> ring_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<TokenService> tokens_;
};

}  // namespace keyward
