// The service objects the API handlers call; owned by main, borrowed here.
#pragma once

#include <vector>

#include "api/metrics.h"
#include "core/grant.h"
#include "http/static_files.h"
#include "service/audit_log.h"
#include "service/authenticator.h"
#include "service/canary_alerts.h"
#include "service/health_service.h"
#include "service/key_refresher.h"
#include "service/key_service.h"
#include "service/leak_service.h"
#include "service/options.h"
#include "service/sign_in_service.h"
#include "service/signing_key_ring.h"
#include "service/token_service.h"
#include "service/usage_recorder.h"
#include "service/usage_service.h"
#include "service/user_service.h"
#include "service/webhook_dispatcher.h"
#include "service/webhook_service.h"

namespace keyward {

struct Services {
  const ServiceOptions& options;
  Authenticator& authenticator;
  KeyService& keys;
  UserService& users;
  SignInService& sign_in;
  Metrics& metrics;
  KeyCache* cache;               // may be null
  bool allow_query_key = false;  // accept ?apikey= (keys then reach URLs and access logs)
  bool secure_cookie = false;    // the session cookie is Secure: the server speaks HTTPS
  const std::vector<http::StaticFile>* web_assets = nullptr;  // the UI, served at /
  const AuditLog* audit = nullptr;  // GET /api/v1/audit; null: that route answers 503
  // Peers whose X-Forwarded-For / X-Real-IP name the client (api/client_address.h); empty: none.
  std::vector<Cidr> trusted_proxies = {};
  // Issue 17: the clients (as above) that may read /metrics; empty: everyone; others get 403.
  std::vector<Cidr> metrics_allow = {};
  // The token issuer (service/token_service.h); both null while it is off (no --issuer): its
  // routes then answer 404 and /auth treats a JWT as an unknown key.
  TokenService* tokens = nullptr;
  SigningKeyRing* signing_keys = nullptr;
  // Issue 15: the webhook use cases (null: the webhook routes answer 503) and the dispatcher,
  // nudged after a change to a key has enqueued events (may be null: it polls anyway).
  WebhookService* webhooks = nullptr;
  WebhookDispatcher* dispatcher = nullptr;
  // Issue 16: the usage counters (their totals for /metrics; may be null) and the clock usage is
  // counted by (null: the system clock).
  const UsageRecorder* usage = nullptr;
  const Clock* clock = nullptr;
  // Issue 16: the usage routes (null: they answer 503).
  const UsageService* usage_service = nullptr;
  // Issue 17: the check and leak-report routes (null: they answer 503).
  const LeakService* leaks = nullptr;
  // Issue 17: the canary alerts, for keyward_canary_uses_total (null: left out of /metrics).
  const CanaryAlerts* canary_alerts = nullptr;
  // Issue 18: GET /readyz (null: it answers 503).
  const HealthService* health = nullptr;
  // Issue 19: reloads keys in use before their cache entries age out (null: none are, and a key
  // in steady use is a miss every --cache-ttl).
  KeyRefresher* refresher = nullptr;
};

// The clock usage is counted by: services.clock, or the system clock.
inline const Clock& ClockOf(const Services& services) {
  return services.clock != nullptr ? *services.clock : Clock::System();
}

}  // namespace keyward
