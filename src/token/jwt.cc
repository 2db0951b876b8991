#include "token/jwt.h"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace keyward::token {
namespace {

bool IsB64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

Status Refuse(std::string reason) { return Status::Unauthenticated(std::move(reason)); }

// The JSON object a base64url part encodes; nullopt if it is not one.
std::optional<boost::json::object> DecodeObject(std::string_view part) {
  const auto bytes = Base64UrlDecode(part);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(*bytes, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

// The three parts of a compact JWS; nullopt unless there are exactly three.
std::optional<std::array<std::string_view, 3>> SplitParts(std::string_view compact) {
  const auto first = compact.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = compact.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (compact.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  return std::array<std::string_view, 3>{compact.substr(0, first),
                                         compact.substr(first + 1, second - first - 1),
                                         compact.substr(second + 1)};
}

struct Header {
  Alg alg;
  std::string kid;
  std::string typ;
};

// The header's alg, kid and typ, refusing everything Keyward does not sign with.
Result<Header> CheckHeader(std::string_view part) {
  const auto header = DecodeObject(part);
  if (!header) return Refuse("malformed token header");
  const auto* alg_value = header->if_contains("alg");
  if (alg_value == nullptr || !alg_value->is_string()) return Refuse("token alg is missing");
  const std::string_view alg_name = alg_value->get_string();
  if (alg_name == "none") return Refuse("alg none is not accepted");
  const auto alg = ParseAlg(alg_name);
  if (!alg) return Refuse("token alg is not accepted");
  if (header->contains("crit")) return Refuse("crit header is not supported");
  const auto* kid = header->if_contains("kid");
  if (kid == nullptr || !kid->is_string()) return Refuse("token kid is missing");
  Header out{*alg, std::string(kid->get_string()), {}};
  if (const auto* typ = header->if_contains("typ"); typ != nullptr) {
    if (!typ->is_string()) return Refuse("token typ is not a string");
    out.typ = std::string(typ->get_string());
  }
  return out;
}

}  // namespace

Result<std::string> SignJwt(const SigningKey& key, std::string_view typ,
                            const boost::json::object& claims) {
  boost::json::object header;
  header["alg"] = AlgName(key.alg());
  header["kid"] = key.kid();
  header["typ"] = typ;
  std::string compact = Base64UrlEncode(boost::json::serialize(header));
  compact += '.';
  compact += Base64UrlEncode(boost::json::serialize(claims));
  KW_ASSIGN_OR_RETURN(const std::string signature, key.Sign(compact));
  compact += '.';
  compact += Base64UrlEncode(signature);
  return compact;
}

bool LooksLikeJwt(std::string_view text) {
  if (text.size() > kMaxJwtBytes || !text.starts_with("eyJ")) return false;
  int dots = 0;
  for (const char c : text) {
    if (c == '.') {
      ++dots;
    } else if (!IsB64UrlChar(c)) {
      return false;
    }
  }
  return dots == 2;
}

Result<VerifiedJwt> VerifyJwt(std::string_view compact, const KeyLookup& find_key) {
  if (compact.size() > kMaxJwtBytes) return Refuse("token too long");
  const auto parts = SplitParts(compact);
  if (!parts) return Refuse("not a compact JWS");
  KW_ASSIGN_OR_RETURN(Header header, CheckHeader((*parts)[0]));
  const PublicKey* key = find_key ? find_key(header.kid) : nullptr;
  if (key == nullptr) return Refuse("unknown kid");
  if (key->alg() != header.alg) return Refuse("token alg does not match its key");
  const auto signature = Base64UrlDecode((*parts)[2]);
  if (!signature) return Refuse("malformed token signature");
  // The signing input is the first two parts exactly as received.
  const std::string_view signing_input =
      compact.substr(0, (*parts)[0].size() + 1 + (*parts)[1].size());
  if (!key->Verify(signing_input, *signature)) return Refuse("bad signature");
  auto claims = DecodeObject((*parts)[1]);
  if (!claims) return Refuse("token claims are not a JSON object");
  return VerifiedJwt{std::move(header.kid), std::move(header.typ), std::move(*claims)};
}

}  // namespace keyward::token
