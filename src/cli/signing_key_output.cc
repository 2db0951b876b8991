#include "cli/signing_key_output.h"

#include <boost/json.hpp>
#include <vector>

namespace keyward {
namespace {

namespace json = boost::json;

std::vector<std::string> Row(const json::value& key, bool wide) {
  std::vector<std::string> row = {JsonCell(key, "kid"), JsonCell(key, "alg"),
                                  JsonCell(key, "state"), JsonCell(key, "activates_at"),
                                  JsonCell(key, "published_until")};
  if (wide) {
    for (const char* name : {"generation", "created_at", "signs_until"}) {
      row.push_back(JsonCell(key, name));
    }
  }
  return row;
}

// The first key of `keys` in state "current", or null.
const json::value* CurrentKey(const json::value& keys) {
  if (!keys.is_array()) return nullptr;
  for (const json::value& key : keys.as_array()) {
    if (StringMember(key, "state") == "current") return &key;
  }
  return nullptr;
}

bool IsStandardBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return false;
  std::size_t padding = 0;
  for (char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return false;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '/')) {
      return false;
    }
  }
  return padding <= 2;
}

}  // namespace

std::string RenderSigningKeys(const json::value& keys, OutputFormat format) {
  if (format == OutputFormat::kJson) return RenderJson(keys);
  if (format == OutputFormat::kYaml) return RenderYaml(keys);
  const bool wide = format == OutputFormat::kWide;
  std::vector<std::string> headers = {"KID", "ALG", "STATE", "SIGNS FROM", "PUBLISHED UNTIL"};
  if (wide) headers.insert(headers.end(), {"GENERATION", "CREATED", "SIGNS UNTIL"});
  std::vector<std::vector<std::string>> rows;
  if (keys.is_array()) {
    for (const json::value& key : keys.as_array()) rows.push_back(Row(key, wide));
  } else {
    rows.push_back(Row(keys, wide));
  }
  return RenderTable(headers, rows);
}

Result<std::string> PulsarStaticKey(const json::value& keys) {
  const json::value* key = CurrentKey(keys);
  if (key == nullptr) {
    return Status::NotFound("the server has no current signing key; is the issuer on?");
  }
  const std::string kid = StringMember(*key, "kid");
  const std::string alg = StringMember(*key, "alg");
  const std::string spki = StringMember(*key, "public_key_spki");
  if (alg != "ES256" && alg != "RS256") {
    return Status::Internal("signing key " + kid + " has no known alg");
  }
  if (!IsStandardBase64(spki)) {
    return Status::Internal("signing key " + kid + " has no base64 public_key_spki");
  }
  return "# Keyward signing key " + kid + ", current since " + JsonCell(*key, "activates_at") +
         "; replace these lines after each rotation\n" + "tokenPublicKey=data:;base64," + spki +
         "\n" + "tokenPublicAlg=" + alg + "\n";
}

std::string PulsarRotationCaveat(const json::value& keys) {
  const json::value* key = CurrentKey(keys);
  const std::string until = key != nullptr ? JsonCell(*key, "signs_until") : "-";
  return WarnLine(
             "the static key does not follow rotations: update the broker after each (this key "
             "signs until " +
             (until == "-" ? std::string("the next rotation") : until) +
             "), or use Pulsar's OpenID Connect provider, which reads the JWKS") +
         "\n";
}

}  // namespace keyward
