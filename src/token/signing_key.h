// The asymmetric keys that sign Keyward's access tokens (JWS, RFC 7515/7518), on OpenSSL 3.
//
//   ES256  ECDSA on P-256 with SHA-256; a JWS signature is r || s, 64 bytes (RFC 7518 §3.4)
//   RS256  RSASSA-PKCS1-v1_5 with SHA-256, RSA of 2048 bits or more (RFC 7518 §3.3)
//
// A PublicKey is what the JWKS publishes and what verifies; a SigningKey adds the private half.
// Its `kid` is the RFC 7638 thumbprint of the public JWK (base64url SHA-256 of the required
// members in lexicographic order), so the same key always has the same id on every node.
// Both are immutable after construction; Sign and Verify are thread safe.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace keyward::token {

enum class Alg { kES256, kRS256 };

std::string_view AlgName(Alg alg);                   // "ES256" | "RS256"
std::optional<Alg> ParseAlg(std::string_view name);  // exact, case-sensitive; nullopt otherwise

// base64url without padding (RFC 7515 §2). Decode refuses padding, '+', '/', whitespace and a
// length that no encoding produces.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

class PublicKey {
 public:
  // From a JWK object: kty "EC" with crv "P-256", x, y (32 bytes each) → ES256; kty "RSA" with n
  // (≥ 2048 bits), e → RS256. If the JWK has "alg" it must agree. Its kid is recomputed (the
  // JWK's own "kid", if any, is ignored). InvalidArgument naming the problem otherwise.
  static Result<PublicKey> FromJwk(const boost::json::object& jwk);

  Alg alg() const { return alg_; }
  const std::string& kid() const { return kid_; }
  // {"kty", "crv","x","y" | "n","e", "kid", "alg", "use":"sig"}.
  boost::json::object Jwk() const;
  // X.509 SubjectPublicKeyInfo, DER: what Pulsar's tokenPublicKey reads.
  std::string SpkiDer() const;
  // True when `signature` (JWS form) is a valid signature of `signing_input` by this key.
  bool Verify(std::string_view signing_input, std::string_view signature) const;

 private:
  friend class SigningKey;
  struct Impl;
  PublicKey(Alg alg, std::shared_ptr<const Impl> impl);
  Alg alg_;
  std::shared_ptr<const Impl> impl_;  // the EVP_PKEY; shared by copies
  std::string kid_;
};

class SigningKey {
 public:
  // A fresh key from the OS CSPRNG: P-256 for ES256, RSA-2048 (e = 65537) for RS256.
  static Result<SigningKey> Generate(Alg alg);
  // From PrivatePem()'s output. InvalidArgument if it is not a P-256 or RSA ≥ 2048 private key.
  static Result<SigningKey> FromPrivatePem(std::string_view pem);

  Alg alg() const { return public_key_.alg(); }
  const std::string& kid() const { return public_key_.kid(); }
  const PublicKey& public_key() const { return public_key_; }
  // PKCS#8 PEM of the private key: a secret. Seal it before storing it; never log it.
  std::string PrivatePem() const;
  // The JWS signature of `signing_input` (64 bytes r || s for ES256). Internal on an OpenSSL
  // failure.
  Result<std::string> Sign(std::string_view signing_input) const;

 private:
  SigningKey(PublicKey public_key, std::shared_ptr<const PublicKey::Impl> private_impl);
  PublicKey public_key_;
  std::shared_ptr<const PublicKey::Impl> private_;
};

}  // namespace keyward::token
