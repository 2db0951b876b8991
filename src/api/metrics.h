// Counters for GET /metrics, in the Prometheus text format (version 0.0.4).
//
//   keyward_http_requests_total{route, code}     requests answered, by route and status
//   keyward_http_request_duration_seconds{route} histogram, handler time
//   keyward_verifications_total{outcome}         valid | invalid | error
//   keyward_denials_total{reason}                valid keys refused by /auth and
//                                                /api/v1/authorize: scope | tag | address |
//                                                rate_limited
//   keyward_rate_limited_total                   requests refused for a key's rate limit: /auth,
//                                                /api/v1/authorize and the token endpoint
//   keyward_key_uses_total{outcome}              presentations of known keys counted on this
//                                                node (service/usage_recorder.h): allowed |
//                                                expired | revoked | disabled | scope | tag |
//                                                address | rate_limited
//   keyward_cache_hits_total, _misses_total, _negative_hits_total, keyward_cache_entries
//   keyward_cache_refreshes_total                cached keys handed to a background reload in
//                                                their entry's last second(s) (KeyRefresher)
//   keyward_tokens_issued_total{grant}           client_credentials | token_exchange
//   keyward_tokens_refused_total{reason}         the OAuth error code (invalid_request, …)
//   keyward_token_signing_seconds                histogram, time signing one token
//   keyward_signing_key_rotations_total          operators' rotations on this node
//   keyward_webhook_deliveries_total{outcome}    webhook attempts on this node: delivered |
//                                                retried (failed, tried again) | failed (given up)
//   keyward_canary_uses_total                    presentations of canary keys on this node (issue
//   17) keyward_canary_alerts_suppressed_total       of those, past the 60-per-minute cap: not
//   recorded
//
// Lock-free: relaxed atomics only, so counting costs the hot path a few nanoseconds. Thread
// safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "service/key_cache.h"
#include "service/usage_recorder.h"
#include "service/webhook_dispatcher.h"

namespace keyward {

enum class RouteLabel { kAuth, kAuthorize, kApi, kHealthz, kMetrics, kWeb, kOther, kReadyz };
enum class VerifyOutcome { kValid, kInvalid, kError };
// Why a valid key was refused (api/requirements.h, api/admission.h); the names are
// X-Keyward-Reason's values: address, scope, tag, rate_limited.
enum class DenialReason { kAddress, kScope, kTag, kRateLimited };
std::string_view DenialReasonName(DenialReason reason);
enum class TokenGrant { kClientCredentials, kTokenExchange };

// Appends keyward_webhook_deliveries_total (the dispatcher's counters) to `out`.
void RenderWebhookCounters(const WebhookCounters& counters, std::string& out);
// Appends keyward_canary_uses_total (every presentation of a canary key on this node) and
// keyward_canary_alerts_suppressed_total (uses past the per-key cap, not written) to `out`.
void RenderCanaryCounters(std::uint64_t uses, std::uint64_t suppressed, std::string& out);

class Metrics {
 public:
  void CountRequest(RouteLabel route, int status, std::chrono::nanoseconds took);
  void CountVerification(VerifyOutcome outcome);
  // kRateLimited counts keyward_rate_limited_total too.
  void CountDenial(DenialReason reason);
  // A request refused for a rate limit elsewhere (the token endpoint).
  void CountRateLimited();
  void CountTokenIssued(TokenGrant grant);
  // `reason`: an RFC 6749 / 8693 error code; an unknown one is counted as "other".
  void CountTokenRefused(std::string_view reason);
  void ObserveTokenSigning(double seconds);
  void CountSigningKeyRotation();
  // `cache` may be null (its lines are then left out); `usage` too (its counters then read 0).
  std::string Render(const KeyCache* cache, const UsageRecorder* usage = nullptr) const;

 private:
  static constexpr std::size_t kRoutes = 8;
  static constexpr std::array<int, 15> kStatuses = {200, 201, 202, 204, 400, 401, 403, 404,
                                                    405, 409, 413, 429, 431, 500, 503};
  static constexpr std::array<double, 12> kBuckets = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0};
  struct alignas(64) RouteCounters {
    std::array<std::atomic<std::uint64_t>, kStatuses.size() + 1> by_status{};  // last: other
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};     // last: +Inf
    std::atomic<std::uint64_t> nanos{0};
  };
  std::array<RouteCounters, kRoutes> routes_{};
  std::array<std::atomic<std::uint64_t>, 3> verifications_{};
  std::array<std::atomic<std::uint64_t>, 4> denials_{};
  std::atomic<std::uint64_t> rate_limited_{0};
  void RenderTokens(std::string& out) const;
  static constexpr std::array<std::string_view, 9> kRefusals = {
      "invalid_request",         "invalid_client", "unauthorized_client",
      "invalid_scope",           "invalid_target", "unsupported_grant_type",
      "temporarily_unavailable", "server_error",   "other"};
  static constexpr std::array<double, 10> kSigningBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                             0.005,  0.01,    0.025,  0.05,  0.1};
  std::array<std::atomic<std::uint64_t>, 2> issued_{};
  std::array<std::atomic<std::uint64_t>, kRefusals.size()> refused_{};
  std::array<std::atomic<std::uint64_t>, kSigningBuckets.size() + 1> signing_buckets_{};
  std::atomic<std::uint64_t> signing_nanos_{0};
  std::atomic<std::uint64_t> rotations_{0};
};

}  // namespace keyward
