#include "token/signing_key.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>

#include "common/status_matchers.h"

namespace keyward::token {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// RFC 7638 §3.1: the RSA key of RFC 7517 Appendix A.1 and its thumbprint.
constexpr char kRfc7638N[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPeb"
    "WKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368Q"
    "QMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2"
    "NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
constexpr char kRfc7638Kid[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

// RSA key generation takes a noticeable fraction of a second: one key per algorithm for the
// whole suite.
class SigningKeyTest : public ::testing::Test {
 protected:
  static const SigningKey& Key(Alg alg) {
    static const SigningKey es = SigningKey::Generate(Alg::kES256).value();
    static const SigningKey rs = SigningKey::Generate(Alg::kRS256).value();
    return alg == Alg::kES256 ? es : rs;
  }
};

TEST(Base64UrlTest, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    const std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.find_first_of("=+/"), std::string::npos);
    EXPECT_EQ(Base64UrlDecode(text), bytes) << i;
    bytes += static_cast<char>(i * 37 + 251);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64UrlTest, DecodeIsStrict) {
  EXPECT_EQ(Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_EQ(Base64UrlDecode(""), "");
  EXPECT_FALSE(Base64UrlDecode("-_8=").has_value());  // padding
  EXPECT_FALSE(Base64UrlDecode("+/8").has_value());   // the standard alphabet
  EXPECT_FALSE(Base64UrlDecode("QU Jj").has_value());
  EXPECT_FALSE(Base64UrlDecode("QUJj\n").has_value());
  EXPECT_FALSE(Base64UrlDecode("QUJjR").has_value());  // 5 characters: no encoding has that
  EXPECT_FALSE(Base64UrlDecode("QR").has_value());     // "QQ" is "A"; nonzero unused bits
}

TEST(SigningKeyAlgTest, NamesAreExact) {
  EXPECT_EQ(AlgName(Alg::kES256), "ES256");
  EXPECT_EQ(AlgName(Alg::kRS256), "RS256");
  EXPECT_EQ(ParseAlg("ES256"), Alg::kES256);
  EXPECT_EQ(ParseAlg("RS256"), Alg::kRS256);
  EXPECT_FALSE(ParseAlg("es256").has_value());
  EXPECT_FALSE(ParseAlg("none").has_value());
  EXPECT_FALSE(ParseAlg("HS256").has_value());
}

TEST(SigningKeyVectorTest, Rfc7638Thumbprint) {
  boost::json::object jwk{
      {"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}, {"alg", "RS256"}, {"kid", "2011-04-29"}};
  const auto key = PublicKey::FromJwk(jwk);
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->kid(), kRfc7638Kid);  // its own "kid" is ignored
  EXPECT_EQ(key->alg(), Alg::kRS256);
  const boost::json::object out = key->Jwk();
  EXPECT_EQ(out.at("n").as_string(), kRfc7638N);
  EXPECT_EQ(out.at("e").as_string(), "AQAB");
  EXPECT_EQ(out.at("kid").as_string(), kRfc7638Kid);
  EXPECT_EQ(out.at("use").as_string(), "sig");
}

TEST_F(SigningKeyTest, PemRoundTripKeepsTheKid) {
  for (const Alg alg : {Alg::kES256, Alg::kRS256}) {
    const SigningKey& key = Key(alg);
    EXPECT_EQ(key.alg(), alg);
    EXPECT_EQ(key.kid().size(), 43u);  // base64url of 32 bytes
    const std::string pem = key.PrivatePem();
    EXPECT_THAT(pem, StartsWith("-----BEGIN PRIVATE KEY-----"));
    const auto again = SigningKey::FromPrivatePem(pem);
    ASSERT_THAT(again, IsOk());
    EXPECT_EQ(again->kid(), key.kid());
    EXPECT_EQ(again->alg(), alg);
    // The reloaded key signs what the original verifies.
    const auto sig = again->Sign("payload");
    ASSERT_THAT(sig, IsOk());
    EXPECT_TRUE(key.public_key().Verify("payload", *sig));
  }
}

TEST_F(SigningKeyTest, JwkRoundTripKeepsTheKid) {
  for (const Alg alg : {Alg::kES256, Alg::kRS256}) {
    const boost::json::object jwk = Key(alg).public_key().Jwk();
    EXPECT_EQ(jwk.at("alg").as_string(), AlgName(alg));
    EXPECT_EQ(jwk.at("kid").as_string(), Key(alg).kid());
    const auto key = PublicKey::FromJwk(jwk);
    ASSERT_THAT(key, IsOk());
    EXPECT_EQ(key->kid(), Key(alg).kid());
    EXPECT_EQ(key->Jwk(), jwk);
    EXPECT_EQ(key->SpkiDer(), Key(alg).public_key().SpkiDer());
  }
  const boost::json::object ec = Key(Alg::kES256).public_key().Jwk();
  EXPECT_EQ(ec.at("kty").as_string(), "EC");
  EXPECT_EQ(ec.at("crv").as_string(), "P-256");
  EXPECT_EQ(Base64UrlDecode(ec.at("x").as_string())->size(), 32u);
  EXPECT_EQ(Base64UrlDecode(ec.at("y").as_string())->size(), 32u);
  const boost::json::object rsa = Key(Alg::kRS256).public_key().Jwk();
  EXPECT_EQ(rsa.at("kty").as_string(), "RSA");
  EXPECT_EQ(rsa.at("e").as_string(), "AQAB");
  EXPECT_EQ(Base64UrlDecode(rsa.at("n").as_string())->size(), 256u);  // no leading zero
}

TEST_F(SigningKeyTest, SpkiDerIsASubjectPublicKeyInfo) {
  const std::string ec = Key(Alg::kES256).public_key().SpkiDer();
  EXPECT_EQ(ec.size(), 91u);  // P-256 SPKI, uncompressed point
  EXPECT_EQ(ec[0], '\x30');
  EXPECT_GT(Key(Alg::kRS256).public_key().SpkiDer().size(), 290u);
}

TEST_F(SigningKeyTest, SignAndVerifyBothAlgs) {
  for (const Alg alg : {Alg::kES256, Alg::kRS256}) {
    const SigningKey& key = Key(alg);
    const auto sig = key.Sign("header.payload");
    ASSERT_THAT(sig, IsOk());
    EXPECT_EQ(sig->size(), alg == Alg::kES256 ? 64u : 256u);
    EXPECT_TRUE(key.public_key().Verify("header.payload", *sig));
    EXPECT_FALSE(key.public_key().Verify("header.payloaD", *sig));
    std::string bad = *sig;
    bad[bad.size() / 2] ^= 1;
    EXPECT_FALSE(key.public_key().Verify("header.payload", bad));
    EXPECT_FALSE(key.public_key().Verify("header.payload", sig->substr(1)));
    EXPECT_FALSE(key.public_key().Verify("header.payload", ""));
    const SigningKey& other = Key(alg == Alg::kES256 ? Alg::kRS256 : Alg::kES256);
    EXPECT_FALSE(other.public_key().Verify("header.payload", *sig));
  }
}

TEST_F(SigningKeyTest, FreshKeysDiffer) {
  const auto a = SigningKey::Generate(Alg::kES256);
  ASSERT_THAT(a, IsOk());
  EXPECT_NE(a->kid(), Key(Alg::kES256).kid());
}

// The PKCS#8 PEM of a key OpenSSL makes here, optionally under a passphrase.
std::string PemOf(EVP_PKEY* pkey, const char* passphrase = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  const EVP_CIPHER* cipher = passphrase != nullptr ? EVP_aes_256_cbc() : nullptr;
  EXPECT_EQ(PEM_write_bio_PKCS8PrivateKey(bio, pkey, cipher, passphrase,
                                          passphrase != nullptr ? 6 : 0, nullptr, nullptr),
            1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  return pem;
}

TEST(SigningKeyPemTest, RefusesWhatIsNotAnAcceptedPrivateKey) {
  EXPECT_THAT(SigningKey::FromPrivatePem(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(
      SigningKey::FromPrivatePem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
      StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(SigningKey::FromPrivatePem(PemOf(EVP_EC_gen("P-384"))),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("P-256")));
  EXPECT_THAT(SigningKey::FromPrivatePem(PemOf(EVP_RSA_gen(1024))),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("2048")));
  // Under a passphrase: refused, and OpenSSL must not prompt for one on the terminal.
  EXPECT_THAT(SigningKey::FromPrivatePem(PemOf(EVP_EC_gen("P-256"), "secret")),
              StatusIs(StatusCode::kInvalidArgument));
  // The same kind of key without a passphrase is accepted.
  EXPECT_THAT(SigningKey::FromPrivatePem(PemOf(EVP_EC_gen("P-256"))), IsOk());
}

TEST(SigningKeyJwkTest, RefusesBadJwks) {
  auto refused = [](const char* json) {
    return PublicKey::FromJwk(boost::json::parse(json).as_object()).status().code() ==
           StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(refused(R"({})"));
  EXPECT_TRUE(refused(R"({"kty":"oct","k":"AAAA"})"));
  EXPECT_TRUE(refused(R"({"kty":"EC","crv":"P-384","x":"AA","y":"AA"})"));
  EXPECT_TRUE(refused(R"({"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"})"));
  // 32-byte coordinates that are not a point on the curve.
  const std::string zero = Base64UrlEncode(std::string(32, '\0'));
  const std::string off_curve = R"({"kty":"EC","crv":"P-256","x":")" + zero + R"(","y":")" +
                                Base64UrlEncode(std::string(31, '\0') + "\x01") + R"("})";
  EXPECT_TRUE(refused(off_curve.c_str()));
  EXPECT_TRUE(refused(R"({"kty":"RSA","n":"AQAB","e":"AQAB"})"));  // far below 2048 bits
  const std::string rsa1024 = std::string(R"({"kty":"RSA","e":"AQAB","n":")") +
                              std::string(kRfc7638N).substr(0, 171) + R"("})";
  EXPECT_TRUE(refused(rsa1024.c_str()));
  const std::string wrong_alg =
      std::string(R"({"kty":"RSA","e":"AQAB","alg":"ES256","n":")") + kRfc7638N + R"("})";
  EXPECT_TRUE(refused(wrong_alg.c_str()));
  const std::string padded =
      std::string(R"({"kty":"RSA","e":"AQAB","n":")") + kRfc7638N + R"(=="})";
  EXPECT_TRUE(refused(padded.c_str()));
}

}  // namespace
}  // namespace keyward::token
