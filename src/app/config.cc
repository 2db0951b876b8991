#include "app/config.h"

#include <algorithm>
#include <boost/url/parse.hpp>

#include "core/api_key.h"

namespace keyward {
namespace {

// --issuer: the exact "iss" every verifier compares, so one spelling only.
Status ValidateIssuer(const TokenOptions& token) {
  const std::string& issuer = token.issuer;
  const bool https = issuer.starts_with("https://");
  if (!https && !issuer.starts_with("http://")) {
    return Status::InvalidArgument("--issuer must be an https:// URL");
  }
  if (!https && !token.issuer_allow_http) {
    return Status::InvalidArgument(
        "--issuer must be an https:// URL (http:// only with --issuer-allow-http, for tests)");
  }
  auto url = boost::urls::parse_absolute_uri(issuer);
  if (!url || url->host().empty() || url->has_userinfo()) {
    return Status::InvalidArgument("--issuer is not a valid URL with a host: " + issuer);
  }
  if (url->has_query() || url->has_fragment() || issuer.find_first_of("?#") != std::string::npos) {
    return Status::InvalidArgument("--issuer must have no query or fragment");
  }
  if (issuer.ends_with("/")) return Status::InvalidArgument("--issuer must not end with '/'");
  return Status::Ok();
}

Status ValidateToken(const Config& config) {
  const TokenOptions& token = config.token;
  KW_RETURN_IF_ERROR(ValidateIssuer(token));
  if (token.audiences.empty()) {
    return Status::InvalidArgument("--token-audience is required with --issuer (give one or more)");
  }
  for (const std::string& gateway : token.gateway_audiences) {
    const bool known = std::any_of(token.audiences.begin(), token.audiences.end(),
                                   [&](const TokenAudience& a) { return a.name == gateway; });
    if (!known) {
      return Status::InvalidArgument("--gateway-audience " + gateway +
                                     " is not one of the --token-audience values");
    }
  }
  if (token.ttl < 60 || token.ttl > 3600) {
    return Status::InvalidArgument("--token-ttl must be between 60s and 1h");
  }
  if (token.rotation < 1 || token.prepublish < 1) {
    return Status::InvalidArgument(
        "--signing-key-rotation and --signing-key-prepublish must be at least 1s");
  }
  if (token.rotation <= token.prepublish) {
    return Status::InvalidArgument(
        "--signing-key-rotation must be longer than --signing-key-prepublish");
  }
  if (!config.db.empty() && config.master_key_file.empty()) {
    return Status::InvalidArgument(
        "with --db and --issuer every node must unseal the same signing keys: give the master "
        "key with --master-key-file (created if missing)");
  }
  return Status::Ok();
}

}  // namespace

Result<TokenAudience> ParseTokenAudience(std::string_view text) {
  TokenAudience audience;
  std::string_view name = text;
  if (auto semi = text.find(';'); semi != std::string_view::npos) {
    name = text.substr(0, semi);
    const std::string_view option = text.substr(semi + 1);
    if (option == "typ=JWT") {
      audience.typ = "JWT";
    } else if (option != "typ=at+jwt") {
      return Status::InvalidArgument("--token-audience " + std::string(text) +
                                     ": the only option is ;typ=JWT");
    }
  }
  const bool printable = std::all_of(
      name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7f && c != ';' && c != ','; });
  if (name.empty() || name.size() > 200 || !printable) {
    return Status::InvalidArgument(
        "--token-audience: a name is 1 to 200 printable ASCII characters without space, ';' or "
        "','");
  }
  audience.name = std::string(name);
  return audience;
}

Status Validate(const Config& config) {
  KW_RETURN_IF_ERROR(ValidateKeyPrefix(config.service.key_prefix));
  if (config.service.default_validity > config.service.max_validity) {
    return Status::InvalidArgument("--default-validity is longer than --max-validity");
  }
  if (config.limits.max_connections == 0) {
    return Status::InvalidArgument("--max-connections must be at least 1");
  }
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return Status::InvalidArgument(
        "--tls-cert and --tls-key go together: give both (HTTPS) or neither (plain HTTP)");
  }
  if (config.service.reveal && !config.db.empty() && config.master_key_file.empty()) {
    return Status::InvalidArgument(
        "with --db every node must use the same master key: give it with --master-key-file "
        "(created if missing), or run with --reveal=false");
  }
  if (!config.token.issuer.empty()) KW_RETURN_IF_ERROR(ValidateToken(config));
  return Status::Ok();
}

ThreadCounts ResolveThreads(const Config& config, const UsableCpus& cpus) {
  ThreadCounts counts;
  counts.network = config.network_threads > 0 ? config.network_threads : cpus.count;
  if (config.network_threads <= 0) counts.network_reason = "one per usable CPU: " + cpus.reason;
  counts.blocking =
      config.blocking_threads > 0 ? config.blocking_threads : std::max(4, 2 * cpus.count);
  return counts;
}

}  // namespace keyward
