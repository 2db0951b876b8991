// Private to kw_token: OpenSSL 3 objects owned by unique_ptr, and the small EVP helpers that
// signing_key.cc builds on. Every function clears OpenSSL's thread-local error queue when it
// fails, so that one refused key or signature leaves nothing behind for the next call.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace keyward::token::ossl {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;

// SHA-256, fetched once per process.
const EVP_MD* Sha256();
std::string Sha256Digest(std::string_view bytes);

// The big-endian bytes of a BIGNUM parameter of `pkey` (OSSL_PKEY_PARAM_*), left-padded with
// zeros to `pad_to` bytes when pad_to > 0, minimal otherwise; nullopt if it is missing.
std::optional<std::string> BnParam(const EVP_PKEY* pkey, const char* name, int pad_to);

// A public key from parameters (EVP_PKEY_fromdata): "EC" or "RSA". Null if OpenSSL refuses.
PkeyPtr PublicFromParams(const char* type, OSSL_PARAM* params);

// Only the public half of `pkey` (a copy through its DER SubjectPublicKeyInfo).
PkeyPtr PublicOnly(const EVP_PKEY* pkey);
std::string SpkiDer(const EVP_PKEY* pkey);

// EVP_DigestSign / EVP_DigestVerify with SHA-256 (PKCS#1 v1.5 for RSA, DER for ECDSA).
std::optional<std::string> DigestSign(EVP_PKEY* pkey, std::string_view input);
bool DigestVerify(EVP_PKEY* pkey, std::string_view input, std::string_view signature);

// ECDSA signatures: DER (what OpenSSL makes) ⇄ r || s with each half `half` bytes (JWS).
std::optional<std::string> EcdsaDerToRaw(std::string_view der, int half);
std::optional<std::string> EcdsaRawToDer(std::string_view raw, int half);

}  // namespace keyward::token::ossl
