#include "api/metrics.h"

#include <fmt/format.h>

namespace keyward {
namespace {

constexpr const char* kRouteNames[] = {"auth",    "authorize", "api",   "healthz",
                                       "metrics", "web",       "other", "readyz"};
constexpr const char* kOutcomeNames[] = {"valid", "invalid", "error"};
constexpr std::string_view kDenialNames[] = {"address", "scope", "tag", "rate_limited"};

constexpr const char* kGrantNames[] = {"client_credentials", "token_exchange"};

// keyward_rate_limited_total and keyward_key_uses_total.
void RenderKeyUses(const UsageCounts& totals, std::uint64_t rate_limited, std::string& out) {
  out += "# HELP keyward_rate_limited_total Requests refused for a key's rate limit.\n";
  out += "# TYPE keyward_rate_limited_total counter\n";
  out += fmt::format("keyward_rate_limited_total {}\n", rate_limited);
  out += "# HELP keyward_key_uses_total Presentations of known keys, by outcome.\n";
  out += "# TYPE keyward_key_uses_total counter\n";
  for (std::size_t o = 0; o < kUsageOutcomes; ++o) {
    out += fmt::format("keyward_key_uses_total{{outcome=\"{}\"}} {}\n",
                       UsageOutcomeName(static_cast<UsageOutcome>(o)), totals[o]);
  }
}

}  // namespace

void Metrics::CountTokenIssued(TokenGrant grant) {
  issued_[static_cast<std::size_t>(grant)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CountTokenRefused(std::string_view reason) {
  std::size_t i = 0;
  while (i + 1 < kRefusals.size() && kRefusals[i] != reason) ++i;
  refused_[i].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::ObserveTokenSigning(double seconds) {
  std::size_t b = 0;
  while (b < kSigningBuckets.size() && seconds > kSigningBuckets[b]) ++b;
  signing_buckets_[b].fetch_add(1, std::memory_order_relaxed);
  signing_nanos_.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void Metrics::CountSigningKeyRotation() { rotations_.fetch_add(1, std::memory_order_relaxed); }

void Metrics::RenderTokens(std::string& out) const {
  out += "# HELP keyward_tokens_issued_total Access tokens issued, by grant type.\n";
  out += "# TYPE keyward_tokens_issued_total counter\n";
  for (std::size_t g = 0; g < issued_.size(); ++g) {
    out += fmt::format("keyward_tokens_issued_total{{grant=\"{}\"}} {}\n", kGrantNames[g],
                       issued_[g].load(std::memory_order_relaxed));
  }
  out += "# HELP keyward_tokens_refused_total Token requests refused, by OAuth error code.\n";
  out += "# TYPE keyward_tokens_refused_total counter\n";
  for (std::size_t r = 0; r < refused_.size(); ++r) {
    out += fmt::format("keyward_tokens_refused_total{{reason=\"{}\"}} {}\n", kRefusals[r],
                       refused_[r].load(std::memory_order_relaxed));
  }
  out += "# HELP keyward_token_signing_seconds Time spent signing one access token.\n";
  out += "# TYPE keyward_token_signing_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b <= kSigningBuckets.size(); ++b) {
    cumulative += signing_buckets_[b].load(std::memory_order_relaxed);
    std::string le = b < kSigningBuckets.size() ? fmt::format("{}", kSigningBuckets[b]) : "+Inf";
    out += fmt::format("keyward_token_signing_seconds_bucket{{le=\"{}\"}} {}\n", le, cumulative);
  }
  out += fmt::format("keyward_token_signing_seconds_sum {:.9f}\n",
                     static_cast<double>(signing_nanos_.load(std::memory_order_relaxed)) / 1e9);
  out += fmt::format("keyward_token_signing_seconds_count {}\n", cumulative);
  out +=
      "# HELP keyward_signing_key_rotations_total Signing-key rotations by operators on this "
      "node.\n";
  out += "# TYPE keyward_signing_key_rotations_total counter\n";
  out += fmt::format("keyward_signing_key_rotations_total {}\n",
                     rotations_.load(std::memory_order_relaxed));
}

std::string_view DenialReasonName(DenialReason reason) {
  return kDenialNames[static_cast<std::size_t>(reason)];
}

void Metrics::CountDenial(DenialReason reason) {
  denials_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  if (reason == DenialReason::kRateLimited) CountRateLimited();
}

void Metrics::CountRateLimited() { rate_limited_.fetch_add(1, std::memory_order_relaxed); }

void Metrics::CountRequest(RouteLabel route, int status, std::chrono::nanoseconds took) {
  RouteCounters& r = routes_[static_cast<std::size_t>(route)];
  std::size_t s = kStatuses.size();  // "other"
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) {
      s = i;
      break;
    }
  }
  r.by_status[s].fetch_add(1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(took).count();
  std::size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  r.buckets[b].fetch_add(1, std::memory_order_relaxed);
  r.nanos.fetch_add(static_cast<std::uint64_t>(took.count()), std::memory_order_relaxed);
}

void Metrics::CountVerification(VerifyOutcome outcome) {
  verifications_[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
}

void RenderCanaryCounters(std::uint64_t uses, std::uint64_t suppressed, std::string& out) {
  out += "# HELP keyward_canary_uses_total Presentations of canary keys on this node.\n";
  out += "# TYPE keyward_canary_uses_total counter\n";
  out += fmt::format("keyward_canary_uses_total {}\n", uses);
  out +=
      "# HELP keyward_canary_alerts_suppressed_total Canary uses past the cap of 60 alerts per "
      "key per minute (or a full queue): counted, not recorded.\n";
  out += "# TYPE keyward_canary_alerts_suppressed_total counter\n";
  out += fmt::format("keyward_canary_alerts_suppressed_total {}\n", suppressed);
}

void RenderWebhookCounters(const WebhookCounters& counters, std::string& out) {
  out += "# HELP keyward_webhook_deliveries_total Webhook delivery attempts, by outcome.\n";
  out += "# TYPE keyward_webhook_deliveries_total counter\n";
  out += fmt::format("keyward_webhook_deliveries_total{{outcome=\"delivered\"}} {}\n",
                     counters.delivered);
  out +=
      fmt::format("keyward_webhook_deliveries_total{{outcome=\"retried\"}} {}\n", counters.retried);
  out +=
      fmt::format("keyward_webhook_deliveries_total{{outcome=\"failed\"}} {}\n", counters.failed);
}

std::string Metrics::Render(const KeyCache* cache, const UsageRecorder* usage) const {
  std::string out;
  out += "# HELP keyward_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE keyward_http_requests_total counter\n";
  for (std::size_t r = 0; r < kRoutes; ++r) {
    for (std::size_t s = 0; s < kStatuses.size(); ++s) {
      std::uint64_t n = routes_[r].by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += fmt::format("keyward_http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n",
                         kRouteNames[r], kStatuses[s], n);
    }
    std::uint64_t other = routes_[r].by_status.back().load(std::memory_order_relaxed);
    if (other > 0) {
      out += fmt::format("keyward_http_requests_total{{route=\"{}\",code=\"other\"}} {}\n",
                         kRouteNames[r], other);
    }
  }
  out += "# HELP keyward_http_request_duration_seconds Time spent handling a request.\n";
  out += "# TYPE keyward_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < kRoutes; ++r) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += routes_[r].buckets[b].load(std::memory_order_relaxed);
      std::string le = b < kBuckets.size() ? fmt::format("{}", kBuckets[b]) : "+Inf";
      out +=
          fmt::format("keyward_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                      kRouteNames[r], le, cumulative);
    }
    out += fmt::format("keyward_http_request_duration_seconds_sum{{route=\"{}\"}} {:.9f}\n",
                       kRouteNames[r],
                       static_cast<double>(routes_[r].nanos.load(std::memory_order_relaxed)) / 1e9);
    out += fmt::format("keyward_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                       kRouteNames[r], cumulative);
  }
  out += "# HELP keyward_verifications_total Keys verified, by outcome.\n";
  out += "# TYPE keyward_verifications_total counter\n";
  for (std::size_t o = 0; o < verifications_.size(); ++o) {
    out += fmt::format("keyward_verifications_total{{outcome=\"{}\"}} {}\n", kOutcomeNames[o],
                       verifications_[o].load(std::memory_order_relaxed));
  }
  out +=
      "# HELP keyward_denials_total Valid keys refused by /auth and /api/v1/authorize, by "
      "reason.\n";
  out += "# TYPE keyward_denials_total counter\n";
  for (std::size_t r = 0; r < denials_.size(); ++r) {
    out += fmt::format("keyward_denials_total{{reason=\"{}\"}} {}\n", kDenialNames[r],
                       denials_[r].load(std::memory_order_relaxed));
  }
  RenderKeyUses(usage != nullptr ? usage->totals() : UsageCounts{},
                rate_limited_.load(std::memory_order_relaxed), out);
  RenderTokens(out);
  if (cache != nullptr) {
    out += "# HELP keyward_cache_hits_total Verifications answered by the cache.\n";
    out += "# TYPE keyward_cache_hits_total counter\n";
    out += fmt::format("keyward_cache_hits_total {}\n", cache->hits());
    out += "# HELP keyward_cache_negative_hits_total Unknown keys answered by the cache.\n";
    out += "# TYPE keyward_cache_negative_hits_total counter\n";
    out += fmt::format("keyward_cache_negative_hits_total {}\n", cache->negative_hits());
    out += "# HELP keyward_cache_misses_total Verifications that read the store.\n";
    out += "# TYPE keyward_cache_misses_total counter\n";
    out += fmt::format("keyward_cache_misses_total {}\n", cache->misses());
    out +=
        "# HELP keyward_cache_refreshes_total Cached keys handed to a background reload before "
        "their entry aged out.\n";
    out += "# TYPE keyward_cache_refreshes_total counter\n";
    out += fmt::format("keyward_cache_refreshes_total {}\n", cache->refreshes());
    out += "# HELP keyward_cache_entries Verified keys in the cache.\n";
    out += "# TYPE keyward_cache_entries gauge\n";
    out += fmt::format("keyward_cache_entries {}\n", cache->size());
  }
  return out;
}

}  // namespace keyward
