#include "app/config.h"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <functional>

#include "core/api_key.h"
#include "core/duration.h"

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

// The issue-15 flags (housekeeping and webhook deliveries), issue 16's (usage retention, rate
// limit nodes), 17's (leak reports) and 19's (sign-in throttle), each within its documented range.
Status ValidateLifecycle(const Config& config) {
  const std::int64_t interval = config.service.housekeeping_interval_ms;
  if (interval < 1000 || interval > 3600 * 1000) {
    return Status::InvalidArgument("--housekeeping-interval must be between 1s and 1h");
  }
  for (std::int64_t within : config.service.expiry_warnings) {
    if (within < 1) return Status::InvalidArgument("--expiry-warnings: each must be at least 1s");
  }
  const WebhookOptions& w = config.webhooks;
  if (w.timeout_ms < 1000 || w.timeout_ms > 60 * 1000) {
    return Status::InvalidArgument("--webhook-timeout must be between 1s and 60s");
  }
  if (w.retry_min < 1 || w.retry_min > 3600) {
    return Status::InvalidArgument("--webhook-retry-min must be between 1s and 1h");
  }
  if (w.retry_for < 10 || w.retry_for > 7 * 86400) {
    return Status::InvalidArgument("--webhook-retry-for must be between 10s and 7d");
  }
  if (w.workers < 1 || w.workers > 32) {
    return Status::InvalidArgument("--webhook-workers must be between 1 and 32");
  }
  if (config.service.usage_retention < 3600) {
    return Status::InvalidArgument("--usage-retention must be at least 1h");
  }
  if (config.rate_limit_nodes < 1 || config.rate_limit_nodes > 1000) {
    return Status::InvalidArgument("--rate-limit-nodes must be between 1 and 1000");
  }
  if (config.service.leak_reports_per_minute < 1 ||
      config.service.leak_reports_per_minute > 10000) {
    return Status::InvalidArgument("--leak-reports-per-minute must be between 1 and 10000");
  }
  const ServiceOptions& s = config.service;
  if (s.login_free_failures < 0 || s.login_free_failures > 1000) {
    return Status::InvalidArgument("--login-free-failures must be between 0 and 1000");
  }
  if (s.login_free_failures_per_address < 0 || s.login_free_failures_per_address > 100000) {
    return Status::InvalidArgument(
        "--login-free-failures-per-address must be between 0 and 100000");
  }
  if (s.login_max_backoff < 1 || s.login_max_backoff > 86400) {
    return Status::InvalidArgument("--login-max-backoff must be between 1s and 1d");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::int64_t>> ParseExpiryWarnings(std::string_view text) {
  std::vector<std::int64_t> out;
  if (text == "none") return out;
  while (true) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto seconds = ParseDuration(item);
    if (!seconds.ok() || *seconds < 1) {
      return Status::InvalidArgument(
          "\"" + std::string(item).substr(0, 32) +
          "\" is not a duration of at least 1s (give a list such as 7d,1d, or none)");
    }
    out.push_back(*seconds);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

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
  return ValidateLifecycle(config);
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
