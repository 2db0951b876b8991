#include "token/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "common/status_matchers.h"

namespace keyward::token {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const boost::json::object& Claims() {
  static const boost::json::object claims{{"iss", "https://keyward.example"},
                                          {"sub", "alice"},
                                          {"aud", "pulsar"},
                                          {"iat", 1700000000},
                                          {"exp", 1700000600},
                                          {"jti", "abc"},
                                          {"tags", boost::json::array{"team:data"}}};
  return claims;
}

// One key of each alg for the suite (RSA key generation is slow), and a lookup over both.
class JwtTest : public ::testing::Test {
 protected:
  static const SigningKey& Es() {
    static const SigningKey key = SigningKey::Generate(Alg::kES256).value();
    return key;
  }
  static const SigningKey& Rs() {
    static const SigningKey key = SigningKey::Generate(Alg::kRS256).value();
    return key;
  }
  static const SigningKey& Key(Alg alg) { return alg == Alg::kES256 ? Es() : Rs(); }

  KeyLookup Lookup() const {
    return [](std::string_view kid) -> const PublicKey* {
      if (kid == Es().kid()) return &Es().public_key();
      if (kid == Rs().kid()) return &Rs().public_key();
      return nullptr;
    };
  }

  Result<VerifiedJwt> Verify(std::string_view token) const { return VerifyJwt(token, Lookup()); }

  // A token with any header and claims text, signed by `key` over exactly what it says.
  static std::string SignedWith(const SigningKey& key, std::string_view header,
                                std::string_view claims) {
    const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
    return input + "." + Base64UrlEncode(key.Sign(input).value());
  }
  static std::string HeaderFor(std::string_view alg, std::string_view kid) {
    return R"({"alg":")" + std::string(alg) + R"(","kid":")" + std::string(kid) +
           R"(","typ":"at+jwt"})";
  }
  static std::string ClaimsText() { return boost::json::serialize(Claims()); }

  // The three parts of a token.
  static std::vector<std::string> Parts(const std::string& token) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
      parts.push_back(token.substr(start, dot - start));
    }
    parts.push_back(token.substr(start));
    return parts;
  }
};

MATCHER_P(RefusedWith, reason, "") {
  const Status status = arg.status();
  *result_listener << "status " << status.ToString();
  return status.code() == StatusCode::kUnauthenticated &&
         status.message().find(reason) != std::string::npos;
}

TEST_F(JwtTest, SignsAndVerifiesBothAlgs) {
  for (const Alg alg : {Alg::kES256, Alg::kRS256}) {
    const auto token = SignJwt(Key(alg), "at+jwt", Claims());
    ASSERT_THAT(token, IsOk());
    EXPECT_TRUE(LooksLikeJwt(*token));
    const auto header = boost::json::parse(*Base64UrlDecode(Parts(*token)[0]));
    EXPECT_EQ(boost::json::serialize(header),
              HeaderFor(AlgName(alg), Key(alg).kid()));  // alg, kid, typ in that order
    const auto verified = Verify(*token);
    ASSERT_THAT(verified, IsOk());
    EXPECT_EQ(verified->kid, Key(alg).kid());
    EXPECT_EQ(verified->typ, "at+jwt");
    EXPECT_EQ(verified->claims, Claims());
  }
}

TEST_F(JwtTest, TypIsOptionalAndTakenAsGiven) {
  const auto token = SignJwt(Es(), "JWT", Claims());
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(Verify(*token)->typ, "JWT");
  const std::string no_typ =
      SignedWith(Es(), R"({"alg":"ES256","kid":")" + Es().kid() + R"("})", ClaimsText());
  const auto verified = Verify(no_typ);
  ASSERT_THAT(verified, IsOk());
  EXPECT_EQ(verified->typ, "");
  EXPECT_THAT(Verify(SignedWith(Es(), R"({"alg":"ES256","typ":1,"kid":")" + Es().kid() + R"("})",
                                ClaimsText())),
              RefusedWith("typ"));
}

TEST_F(JwtTest, RefusesAlgNone) {
  const std::string input =
      Base64UrlEncode(HeaderFor("none", Es().kid())) + "." + Base64UrlEncode(ClaimsText());
  EXPECT_THAT(Verify(input + "."), RefusedWith("alg none"));
  EXPECT_THAT(Verify(input), RefusedWith("not a compact JWS"));
  const std::string no_kid =
      Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(ClaimsText()) + ".";
  EXPECT_THAT(Verify(no_kid), RefusedWith("alg none"));
  // A signature part does not help.
  EXPECT_THAT(Verify(input + "." + Base64UrlEncode(Es().Sign(input).value())),
              RefusedWith("alg none"));
}

// The classic confusion: HS256 with the public key's bytes (what a JWKS or the Pulsar config
// publishes) as the HMAC secret.
TEST_F(JwtTest, RefusesHs256SignedWithThePublicKey) {
  for (const Alg alg : {Alg::kES256, Alg::kRS256}) {
    const std::string der = Key(alg).public_key().SpkiDer();
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
    ASSERT_NE(pub, nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    ASSERT_EQ(PEM_write_bio_PUBKEY(bio, pub), 1);
    char* data = nullptr;
    const long pem_len = BIO_get_mem_data(bio, &data);
    const std::string pem(data, static_cast<std::size_t>(pem_len));
    BIO_free(bio);
    EVP_PKEY_free(pub);
    for (const std::string& secret : {der, pem}) {
      const std::string input =
          Base64UrlEncode(HeaderFor("HS256", Key(alg).kid())) + "." + Base64UrlEncode(ClaimsText());
      unsigned char mac[32];
      unsigned int mac_len = 0;
      HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
      const std::string token =
          input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len));
      EXPECT_THAT(Verify(token), RefusedWith("alg is not accepted"));
    }
  }
}

TEST_F(JwtTest, RefusesOtherAlgs) {
  for (const char* alg : {"HS256", "ES384", "RS512", "PS256", "es256", "EdDSA", ""}) {
    EXPECT_THAT(Verify(SignedWith(Es(), HeaderFor(alg, Es().kid()), ClaimsText())),
                RefusedWith("alg is not accepted"))
        << alg;
  }
  EXPECT_THAT(Verify(SignedWith(Es(), R"({"alg":1,"kid":")" + Es().kid() + R"("})", ClaimsText())),
              RefusedWith("alg is missing"));
  EXPECT_THAT(Verify(SignedWith(Es(), R"({"kid":")" + Es().kid() + R"("})", ClaimsText())),
              RefusedWith("alg is missing"));
}

TEST_F(JwtTest, RefusesMissingOrUnknownKid) {
  EXPECT_THAT(Verify(SignedWith(Es(), R"({"alg":"ES256"})", ClaimsText())),
              RefusedWith("kid is missing"));
  EXPECT_THAT(Verify(SignedWith(Es(), R"({"alg":"ES256","kid":7})", ClaimsText())),
              RefusedWith("kid is missing"));
  const auto other = SigningKey::Generate(Alg::kES256);
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT(Verify(SignJwt(*other, "at+jwt", Claims()).value()), RefusedWith("unknown kid"));
  EXPECT_THAT(VerifyJwt(SignJwt(Es(), "at+jwt", Claims()).value(), nullptr),
              RefusedWith("unknown kid"));
}

TEST_F(JwtTest, RefusesAHeaderAlgThatIsNotTheKeys) {
  // The RSA key's kid under ES256, and the EC key's kid under RS256; each signed by the key
  // the header names, by the other key, whatever: the mismatch alone refuses it.
  EXPECT_THAT(Verify(SignedWith(Rs(), HeaderFor("ES256", Rs().kid()), ClaimsText())),
              RefusedWith("does not match"));
  EXPECT_THAT(Verify(SignedWith(Es(), HeaderFor("ES256", Rs().kid()), ClaimsText())),
              RefusedWith("does not match"));
  EXPECT_THAT(Verify(SignedWith(Es(), HeaderFor("RS256", Es().kid()), ClaimsText())),
              RefusedWith("does not match"));
  EXPECT_THAT(Verify(SignedWith(Rs(), HeaderFor("RS256", Es().kid()), ClaimsText())),
              RefusedWith("does not match"));
}

TEST_F(JwtTest, RefusesTamperedPayloadAndSignature) {
  for (const Alg alg : {Alg::kES256, Alg::kRS256}) {
    const std::string token = SignJwt(Key(alg), "at+jwt", Claims()).value();
    auto parts = Parts(token);
    boost::json::object claims = Claims();
    claims["sub"] = "mallory";
    const std::string forged_claims = Base64UrlEncode(boost::json::serialize(claims));
    EXPECT_THAT(Verify(parts[0] + "." + forged_claims + "." + parts[2]),
                RefusedWith("bad signature"));
    std::string sig = *Base64UrlDecode(parts[2]);
    sig[5] ^= 0x40;
    EXPECT_THAT(Verify(parts[0] + "." + parts[1] + "." + Base64UrlEncode(sig)),
                RefusedWith("bad signature"));
    const std::string truncated = Base64UrlDecode(parts[2])->substr(0, sig.size() - 1);
    EXPECT_THAT(Verify(parts[0] + "." + parts[1] + "." + Base64UrlEncode(truncated)),
                RefusedWith("bad signature"));
    EXPECT_THAT(Verify(parts[0] + "." + parts[1] + "."), RefusedWith("bad signature"));
    // The same header re-encoded (other whitespace) is another signing input.
    const std::string spaced = Base64UrlEncode(HeaderFor(AlgName(alg), Key(alg).kid()) + " ");
    EXPECT_THAT(Verify(spaced + "." + parts[1] + "." + parts[2]), RefusedWith("bad signature"));
  }
}

// OpenSSL's own ECDSA form (DER) is not the JWS form; a token carrying it is refused even
// though the DER signature is valid.
TEST_F(JwtTest, RefusesAnEs256SignatureInDerForm) {
  const std::string token = SignJwt(Es(), "at+jwt", Claims()).value();
  const auto parts = Parts(token);
  const std::string input = parts[0] + "." + parts[1];
  const std::string raw = *Base64UrlDecode(parts[2]);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  const std::string der_sig(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  EXPECT_THAT(Verify(input + "." + Base64UrlEncode(der_sig)), RefusedWith("bad signature"));
  EXPECT_FALSE(Es().public_key().Verify(input, der_sig));
  EXPECT_THAT(Verify(token), IsOk());
}

TEST_F(JwtTest, RefusesMalformedTokens) {
  const std::string token = SignJwt(Es(), "at+jwt", Claims()).value();
  const auto p = Parts(token);
  EXPECT_THAT(Verify(""), RefusedWith("not a compact JWS"));
  EXPECT_THAT(Verify(p[0] + "." + p[1]), RefusedWith("not a compact JWS"));
  EXPECT_THAT(Verify(token + "." + p[2]), RefusedWith("not a compact JWS"));
  EXPECT_THAT(Verify(token + "."), RefusedWith("not a compact JWS"));
  EXPECT_THAT(Verify(p[0] + "=." + p[1] + "." + p[2]), RefusedWith("malformed token header"));
  EXPECT_THAT(Verify(p[0] + "." + p[1] + "." + p[2] + "="), RefusedWith("malformed token"));
  std::string plus = p[2];
  plus[0] = '+';
  EXPECT_THAT(Verify(p[0] + "." + p[1] + "." + plus), RefusedWith("malformed token"));
  std::string slash = p[0];
  slash[1] = '/';
  EXPECT_THAT(Verify(slash + "." + p[1] + "." + p[2]), RefusedWith("malformed token header"));
  for (const char* header : {"[]", "\"ES256\"", "null", "{", R"({"alg":"ES256"} x)"}) {
    EXPECT_THAT(Verify(Base64UrlEncode(header) + "." + p[1] + "." + p[2]),
                RefusedWith("malformed token header"))
        << header;
  }
}

TEST_F(JwtTest, RefusesCrit) {
  const std::string header =
      R"({"alg":"ES256","kid":")" + Es().kid() + R"(","crit":["exp"],"exp":1})";
  EXPECT_THAT(Verify(SignedWith(Es(), header, ClaimsText())), RefusedWith("crit"));
  const std::string empty_crit = R"({"alg":"ES256","kid":")" + Es().kid() + R"(","crit":[]})";
  EXPECT_THAT(Verify(SignedWith(Es(), empty_crit, ClaimsText())), RefusedWith("crit"));
}

TEST_F(JwtTest, RefusesClaimsThatAreNotAnObject) {
  for (const char* claims : {"[]", "\"alice\"", "42", "", "{\"sub\":", "{} {}"}) {
    EXPECT_THAT(Verify(SignedWith(Es(), HeaderFor("ES256", Es().kid()), claims)),
                RefusedWith("claims are not a JSON object"))
        << claims;
  }
}

TEST_F(JwtTest, RefusesTokensOverTheLimitUnread) {
  boost::json::object claims = Claims();
  claims["pad"] = std::string(6000, 'x');
  const std::string big = SignJwt(Es(), "at+jwt", claims).value();
  ASSERT_GT(big.size(), kMaxJwtBytes);
  EXPECT_THAT(Verify(big), RefusedWith("too long"));
  EXPECT_FALSE(LooksLikeJwt(big));
  // Just under the limit is read.
  claims["pad"] = std::string(5000, 'x');
  const std::string fits = SignJwt(Es(), "at+jwt", claims).value();
  ASSERT_LE(fits.size(), kMaxJwtBytes);
  EXPECT_THAT(Verify(fits), IsOk());
}

TEST_F(JwtTest, ReasonsNeverQuoteTheToken) {
  const std::string token = SignJwt(Es(), "at+jwt", Claims()).value();
  const auto p = Parts(token);
  for (const std::string& bad :
       {p[0] + "." + p[1] + ".AAAA", p[0] + "x." + p[1] + "." + p[2], std::string("eyJ.x.y")}) {
    const Status status = Verify(bad).status();
    EXPECT_EQ(status.code(), StatusCode::kUnauthenticated);
    EXPECT_THAT(status.message(), Not(HasSubstr(p[1])));
    EXPECT_THAT(status.message(), Not(HasSubstr("eyJ")));
    EXPECT_THAT(status.detail(), Not(HasSubstr("eyJ")));
  }
}

TEST(JwtLooksLikeTest, TellsAJwtFromAnApiKey) {
  EXPECT_TRUE(LooksLikeJwt("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"));
  EXPECT_TRUE(LooksLikeJwt("eyJ.a-b_c."));
  EXPECT_FALSE(LooksLikeJwt("kw_live_0123456789abcdefghijklmnopqrstuvwxyzABCD"));
  EXPECT_FALSE(LooksLikeJwt("kw_eyJ.a.b"));
  EXPECT_FALSE(LooksLikeJwt(""));
  EXPECT_FALSE(LooksLikeJwt("eyJ"));
  EXPECT_FALSE(LooksLikeJwt("eyJa.b"));
  EXPECT_FALSE(LooksLikeJwt("eyJa.b.c.d"));
  EXPECT_FALSE(LooksLikeJwt("eyJa.b+.c"));
  EXPECT_FALSE(LooksLikeJwt("eyJa.b.c="));
  EXPECT_FALSE(LooksLikeJwt("eyJa.b .c"));
  EXPECT_FALSE(LooksLikeJwt("Bearer eyJa.b.c"));
  EXPECT_TRUE(LooksLikeJwt("eyJ" + std::string(kMaxJwtBytes - 5, 'a') + ".."));
  EXPECT_FALSE(LooksLikeJwt("eyJ" + std::string(kMaxJwtBytes - 4, 'a') + ".."));
}

}  // namespace
}  // namespace keyward::token
