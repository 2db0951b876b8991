#include "token/signing_key.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "token/openssl_util.h"

namespace keyward::token {

struct PublicKey::Impl {
  ossl::PkeyPtr pkey;
};

namespace {

constexpr int kEcHalf = 32;  // bytes of a P-256 coordinate, and of r and of s
constexpr int kMinRsaBits = 2048;

// The JWK members that identify a key, as base64url: x, y for EC; n, e for RSA.
struct JwkMembers {
  std::string a;  // x | n
  std::string b;  // y | e
};

std::optional<JwkMembers> ExportMembers(Alg alg, const EVP_PKEY* pkey) {
  const auto a = alg == Alg::kES256 ? ossl::BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X, kEcHalf)
                                    : ossl::BnParam(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
  const auto b = alg == Alg::kES256 ? ossl::BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, kEcHalf)
                                    : ossl::BnParam(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
  if (!a || !b) return std::nullopt;
  return JwkMembers{Base64UrlEncode(*a), Base64UrlEncode(*b)};
}

// RFC 7638 §3: the required members, lexicographic order, no whitespace. The values are
// base64url or fixed names, so no JSON escaping is ever needed.
std::string Thumbprint(Alg alg, const EVP_PKEY* pkey) {
  const auto m = ExportMembers(alg, pkey);
  if (!m) return {};
  const std::string json =
      alg == Alg::kES256
          ? R"({"crv":"P-256","kty":"EC","x":")" + m->a + R"(","y":")" + m->b + R"("})"
          : R"({"e":")" + m->b + R"(","kty":"RSA","n":")" + m->a + R"("})";
  return Base64UrlEncode(ossl::Sha256Digest(json));
}

// The alg a key of OpenSSL's may sign with: a P-256 EC key or an RSA key of ≥ 2048 bits.
Result<Alg> AlgOfKey(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &len) != 1 ||
        std::string_view(group, len) != "prime256v1") {
      ERR_clear_error();
      return Status::InvalidArgument("an EC key must be on the curve P-256");
    }
    return Alg::kES256;
  }
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    if (EVP_PKEY_get_bits(pkey) < kMinRsaBits) {
      return Status::InvalidArgument("an RSA key must have 2048 bits or more");
    }
    return Alg::kRS256;
  }
  return Status::InvalidArgument("the key is neither P-256 nor RSA");
}

// A string member of `jwk` decoded from base64url; nullopt if absent, not a string or not
// base64url.
std::optional<std::string> B64Member(const boost::json::object& jwk, std::string_view name) {
  const auto* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return Base64UrlDecode(v->get_string());
}

Result<ossl::PkeyPtr> EcFromJwk(const boost::json::object& jwk) {
  const auto* crv = jwk.if_contains("crv");
  if (crv == nullptr || !crv->is_string() || crv->get_string() != "P-256") {
    return Status::InvalidArgument("JWK crv must be P-256");
  }
  const auto x = B64Member(jwk, "x");
  const auto y = B64Member(jwk, "y");
  if (!x || !y || x->size() != kEcHalf || y->size() != kEcHalf) {
    return Status::InvalidArgument("JWK x and y must be base64url of 32 bytes each");
  }
  const std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed form
  ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    ERR_clear_error();
    return Status::Internal("OSSL_PARAM_BLD failed");
  }
  ossl::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::PkeyPtr pkey = params ? ossl::PublicFromParams("EC", params.get()) : nullptr;
  if (!pkey) return Status::InvalidArgument("JWK x, y is not a point on P-256");
  return pkey;
}

Result<ossl::PkeyPtr> RsaFromJwk(const boost::json::object& jwk) {
  const auto n = B64Member(jwk, "n");
  const auto e = B64Member(jwk, "e");
  if (!n || !e || n->empty() || e->empty()) {
    return Status::InvalidArgument("JWK n and e must be base64url");
  }
  const auto* np = reinterpret_cast<const unsigned char*>(n->data());
  const auto* ep = reinterpret_cast<const unsigned char*>(e->data());
  ossl::BnPtr bn_n(BN_bin2bn(np, static_cast<int>(n->size()), nullptr));
  ossl::BnPtr bn_e(BN_bin2bn(ep, static_cast<int>(e->size()), nullptr));
  ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    ERR_clear_error();
    return Status::Internal("OSSL_PARAM_BLD failed");
  }
  if (BN_num_bits(bn_n.get()) < kMinRsaBits) {
    return Status::InvalidArgument("JWK n must have 2048 bits or more");
  }
  ossl::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::PkeyPtr pkey = params ? ossl::PublicFromParams("RSA", params.get()) : nullptr;
  if (!pkey) return Status::InvalidArgument("JWK n, e is not a valid RSA public key");
  return pkey;
}

}  // namespace

std::string_view AlgName(Alg alg) { return alg == Alg::kES256 ? "ES256" : "RS256"; }

std::optional<Alg> ParseAlg(std::string_view name) {
  if (name == "ES256") return Alg::kES256;
  if (name == "RS256") return Alg::kRS256;
  return std::nullopt;
}

PublicKey::PublicKey(Alg alg, std::shared_ptr<const Impl> impl)
    : alg_(alg), impl_(std::move(impl)), kid_(Thumbprint(alg_, impl_->pkey.get())) {}

Result<PublicKey> PublicKey::FromJwk(const boost::json::object& jwk) {
  const auto* kty = jwk.if_contains("kty");
  if (kty == nullptr || !kty->is_string()) return Status::InvalidArgument("JWK kty is missing");
  Alg alg = Alg::kES256;
  Result<ossl::PkeyPtr> pkey = Status::InvalidArgument("JWK kty must be EC or RSA");
  if (kty->get_string() == "EC") {
    alg = Alg::kES256;
    pkey = EcFromJwk(jwk);
  } else if (kty->get_string() == "RSA") {
    alg = Alg::kRS256;
    pkey = RsaFromJwk(jwk);
  }
  if (!pkey.ok()) return pkey.status();
  if (const auto* a = jwk.if_contains("alg"); a != nullptr) {
    if (!a->is_string() || a->get_string() != AlgName(alg)) {
      return Status::InvalidArgument("JWK alg does not match its key type");
    }
  }
  PublicKey key(alg, std::make_shared<const Impl>(Impl{std::move(pkey).value()}));
  if (key.kid().empty()) return Status::Internal("JWK thumbprint failed");
  return key;
}

boost::json::object PublicKey::Jwk() const {
  const auto m = ExportMembers(alg_, impl_->pkey.get());
  boost::json::object jwk;
  if (alg_ == Alg::kES256) {
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = m ? m->a : "";
    jwk["y"] = m ? m->b : "";
  } else {
    jwk["kty"] = "RSA";
    jwk["n"] = m ? m->a : "";
    jwk["e"] = m ? m->b : "";
  }
  jwk["kid"] = kid_;
  jwk["alg"] = AlgName(alg_);
  jwk["use"] = "sig";
  return jwk;
}

std::string PublicKey::SpkiDer() const { return ossl::SpkiDer(impl_->pkey.get()); }

bool PublicKey::Verify(std::string_view signing_input, std::string_view signature) const {
  if (alg_ == Alg::kES256) {
    // Only the 64-byte JWS form; a DER signature (OpenSSL's own) is refused here.
    const auto der = ossl::EcdsaRawToDer(signature, kEcHalf);
    return der && ossl::DigestVerify(impl_->pkey.get(), signing_input, *der);
  }
  if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(impl_->pkey.get()))) {
    return false;
  }
  return ossl::DigestVerify(impl_->pkey.get(), signing_input, signature);
}

SigningKey::SigningKey(PublicKey public_key, std::shared_ptr<const PublicKey::Impl> private_impl)
    : public_key_(std::move(public_key)), private_(std::move(private_impl)) {}

namespace {

// A SigningKey's parts from a private EVP_PKEY, refusing any key but P-256 and RSA ≥ 2048.
Result<std::pair<Alg, ossl::PkeyPtr>> CheckPrivate(ossl::PkeyPtr pkey) {
  KW_ASSIGN_OR_RETURN(const Alg alg, AlgOfKey(pkey.get()));
  return std::pair<Alg, ossl::PkeyPtr>(alg, std::move(pkey));
}

}  // namespace

Result<SigningKey> SigningKey::Generate(Alg alg) {
  ossl::PkeyPtr pkey(alg == Alg::kES256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048));
  if (!pkey) {
    ERR_clear_error();
    return Status::Internal("key generation failed");
  }
  ossl::PkeyPtr pub = ossl::PublicOnly(pkey.get());
  if (!pub) return Status::Internal("public key extraction failed");
  PublicKey public_key(alg,
                       std::make_shared<const PublicKey::Impl>(PublicKey::Impl{std::move(pub)}));
  return SigningKey(std::move(public_key),
                    std::make_shared<const PublicKey::Impl>(PublicKey::Impl{std::move(pkey)}));
}

Result<SigningKey> SigningKey::FromPrivatePem(std::string_view pem) {
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  // The callback refuses any passphrase: OpenSSL would otherwise prompt on the terminal.
  auto no_pass = [](char*, int, int, void*) { return 0; };
  ossl::PkeyPtr pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_pass, nullptr) : nullptr);
  if (!pkey) {
    ERR_clear_error();
    return Status::InvalidArgument("not a PEM private key");
  }
  KW_ASSIGN_OR_RETURN(auto parts, CheckPrivate(std::move(pkey)));
  ossl::PkeyPtr pub = ossl::PublicOnly(parts.second.get());
  if (!pub) return Status::Internal("public key extraction failed");
  PublicKey public_key(parts.first,
                       std::make_shared<const PublicKey::Impl>(PublicKey::Impl{std::move(pub)}));
  return SigningKey(std::move(public_key), std::make_shared<const PublicKey::Impl>(
                                               PublicKey::Impl{std::move(parts.second)}));
}

std::string SigningKey::PrivatePem() const {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), private_->pkey.get(), nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<std::size_t>(len));
  OPENSSL_cleanse(data, static_cast<std::size_t>(len));
  return pem;
}

Result<std::string> SigningKey::Sign(std::string_view signing_input) const {
  auto sig = ossl::DigestSign(private_->pkey.get(), signing_input);
  if (!sig) return Status::Internal("signing failed");
  if (alg() == Alg::kRS256) return std::move(*sig);
  auto raw = ossl::EcdsaDerToRaw(*sig, kEcHalf);
  if (!raw) return Status::Internal("ECDSA signature conversion failed");
  return std::move(*raw);
}

}  // namespace keyward::token
