#include "jwt_util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <memory>

namespace keyward::testing {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

PkeyPtr FromSpki(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return PkeyPtr(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
}

// The bytes of a big-endian number, `width` long (left-padded) when `width` > 0.
std::string BnBytes(const BIGNUM* bn, int width) {
  const int size = width > 0 ? width : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(size), '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size) != size) return "";
  return out;
}

std::string BnParam(EVP_PKEY* pkey, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return "";
  BnPtr bn(raw);
  return BnBytes(bn.get(), width);
}

// A JWS ES256 signature (r || s) as the DER ECDSA-Sig-Value OpenSSL verifies.
std::string EcdsaDer(const std::string& raw) {
  if (raw.size() != 64) return "";
  SigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(sig.get(), r, s);
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(sig.get(), &der);
  if (n <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string Member(const boost::json::value& v, const char* name) {
  const auto* m = v.is_object() ? v.as_object().if_contains(name) : nullptr;
  return m != nullptr && m->is_string() ? std::string(m->as_string()) : "";
}

}  // namespace

std::string Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return "";
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return "";
  std::size_t size = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;
  out.resize(size);
  return out;
}

std::string Base64UrlDecode(std::string_view text) {
  std::string standard(text);
  for (char& c : standard) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (standard.size() % 4 == 1) return "";
  while (standard.size() % 4 != 0) standard += '=';
  return Base64Decode(standard);
}

boost::json::value JwtPart(const std::string& jwt, int part) {
  const auto first = jwt.find('.');
  const auto second = first == std::string::npos ? first : jwt.find('.', first + 1);
  if (second == std::string::npos) return nullptr;
  const std::string text =
      part == 0 ? jwt.substr(0, first) : jwt.substr(first + 1, second - first - 1);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(Base64UrlDecode(text), ec);
  return ec ? boost::json::value(nullptr) : v;
}

bool JwtVerifiesWith(const std::string& jwt, const std::string& spki_der) {
  const auto dot = jwt.rfind('.');
  if (dot == std::string::npos) return false;
  const std::string alg = Member(JwtPart(jwt, 0), "alg");
  std::string signature = Base64UrlDecode(std::string_view(jwt).substr(dot + 1));
  if (alg == "ES256") {
    signature = EcdsaDer(signature);
  } else if (alg != "RS256") {
    return false;
  }
  PkeyPtr pkey = FromSpki(spki_der);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!pkey || signature.empty() ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(jwt.data()),
                          dot) == 1;
}

bool SpkiMatchesJwk(const std::string& spki_der, const boost::json::value& jwk) {
  PkeyPtr pkey = FromSpki(spki_der);
  if (!pkey) return false;
  const std::string kty = Member(jwk, "kty");
  if (kty == "EC") {
    char group[32] = {};
    EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                   nullptr);
    return Member(jwk, "crv") == "P-256" && std::string(group) == "prime256v1" &&
           BnParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32) == Base64UrlDecode(Member(jwk, "x")) &&
           BnParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32) == Base64UrlDecode(Member(jwk, "y"));
  }
  if (kty == "RSA") {
    return BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_N, 0) == Base64UrlDecode(Member(jwk, "n")) &&
           BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_E, 0) == Base64UrlDecode(Member(jwk, "e"));
  }
  return false;
}

std::string KeyIdOf(const std::string& key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace keyward::testing
