#include "token/openssl_util.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509.h>

namespace keyward::token::ossl {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Clears the thread's OpenSSL error queue and returns `value`: the failure paths' last step.
template <typename T>
T Fail(T value) {
  ERR_clear_error();
  return value;
}

}  // namespace

const EVP_MD* Sha256() {
  // Fetched once: an implicit fetch on every signature costs more than the hash itself.
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

std::string Sha256Digest(std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out, &len, Sha256(), nullptr) != 1) {
    return Fail(std::string());
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::optional<std::string> BnParam(const EVP_PKEY* pkey, const char* name, int pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return Fail(std::nullopt);
  BnPtr bn(raw);
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn.get());
  std::string out(static_cast<std::size_t>(size), '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size) != size) {
    return Fail(std::nullopt);
  }
  return out;
}

PkeyPtr PublicFromParams(const char* type, OSSL_PARAM* params) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return Fail(PkeyPtr());
  }
  PkeyPtr pkey(raw);
  // The point on the curve, a sane RSA modulus and exponent.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return Fail(PkeyPtr());
  return pkey;
}

std::string SpkiDer(const EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return Fail(std::string());
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

PkeyPtr PublicOnly(const EVP_PKEY* pkey) {
  const std::string der = SpkiDer(pkey);
  const unsigned char* p = Bytes(der);
  PkeyPtr out(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!out) return Fail(PkeyPtr());
  return out;
}

std::optional<std::string> DigestSign(EVP_PKEY* pkey, std::string_view input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, Sha256(), nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(input), input.size()) != 1) {
    return Fail(std::nullopt);
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(input),
                     input.size()) != 1) {
    return Fail(std::nullopt);
  }
  sig.resize(len);
  return sig;
}

bool DigestVerify(EVP_PKEY* pkey, std::string_view input, std::string_view signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, Sha256(), nullptr, pkey) != 1 ||
      EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(input), input.size()) !=
          1) {
    return Fail(false);
  }
  return true;
}

std::optional<std::string> EcdsaDerToRaw(std::string_view der, int half) {
  const unsigned char* p = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return Fail(std::nullopt);
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(static_cast<std::size_t>(2 * half), '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, dst, half) != half || BN_bn2binpad(s, dst + half, half) != half) {
    return Fail(std::nullopt);
  }
  return out;
}

std::optional<std::string> EcdsaRawToDer(std::string_view raw, int half) {
  if (raw.size() != static_cast<std::size_t>(2 * half)) return std::nullopt;
  BnPtr r(BN_bin2bn(Bytes(raw), half, nullptr));
  BnPtr s(BN_bin2bn(Bytes(raw) + half, half, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return Fail(std::nullopt);
  }
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return Fail(std::nullopt);
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace keyward::token::ossl
