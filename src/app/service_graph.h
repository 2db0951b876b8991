// The server without its network: over one store, the verification cache, the services, the
// blocking pool and the API handler, wired from a Config. What `keyward serve` runs behind its
// listener (app/server_app.h), and what the fuzz harness and the benchmarks drive directly, so that
// all three run the same object graph.
//
// Lifetimes: the graph owns the store and subscribes the cache to its events (keys revoked and
// users changed on other nodes leave the cache at once); the cache outlives the store's event
// thread. Issue 16: it owns the usage recorder (on unless --usage-counting=false), whose counts
// the last-used writer flushes, and the rate limiter (--rate-limit-nodes); the cache's entries
// hold their meters (KeyCache::AttachMeters) and the housekeeper prunes both. Not copyable or
// movable: the services hold references into it. The accessors are thread safe as the objects they
// return are.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "api/api_handler.h"
#include "api/metrics.h"
#include "api/services.h"
#include "app/config.h"
#include "common/blocking_pool.h"
#include "common/clock.h"
#include "core/master_key.h"
#include "service/audit_log.h"
#include "service/authenticator.h"
#include "service/canary_alerts.h"
#include "service/health_service.h"
#include "service/housekeeper.h"
#include "service/key_cache.h"
#include "service/key_service.h"
#include "service/last_used_writer.h"
#include "service/leak_service.h"
#include "service/rate_limiter.h"
#include "service/sign_in_service.h"
#include "service/signing_key_ring.h"
#include "service/token_service.h"
#include "service/usage_recorder.h"
#include "service/usage_service.h"
#include "service/user_service.h"
#include "service/webhook_dispatcher.h"
#include "service/webhook_service.h"
#include "store/store.h"

namespace keyward {

class ServiceGraph {
 public:
  // `store` must not be null. Without a master key (nullopt) keys cannot be revealed; give one
  // when `config.service.reveal` is on, and when the token issuer is (`config.token.issuer`:
  // it seals the signing keys). `clock` must outlive the graph. Starts the last-used writer's
  // thread and the blocking pool (Config::blocking_threads, resolved as ResolveThreads says).
  ServiceGraph(const Config& config, std::unique_ptr<Store> store,
               std::optional<MasterKey> master_key, const Clock& clock);
  // Calls Stop().
  ~ServiceGraph();
  ServiceGraph(const ServiceGraph&) = delete;
  ServiceGraph& operator=(const ServiceGraph&) = delete;

  // With the token issuer on: the signing-key ring's first Refresh (a failure is returned, and
  // the server must not start), then the thread that refreshes it every TickInterval(). Then
  // the housekeeper's thread (service/housekeeper.h). Call once, before requests are handled.
  Status Start();

  // Stops the housekeeper, the webhook dispatcher's workers and the ring's thread, waits for the
  // blocking pool's tasks, stops the canary alerts' thread (after writing what it holds, the
  // reports of those tasks included), then writes the last last-used times. No request may be
  // handled after. Idempotent.
  void Stop();

  Store& store() { return *store_; }
  KeyCache& cache() { return cache_; }
  UsageRecorder& usage() { return usage_; }
  RateLimiter& limiter() { return limiter_; }
  const Authenticator& authenticator() const { return authenticator_; }
  KeyService& keys() { return keys_; }
  UserService& users() { return users_; }
  WebhookService& webhooks() { return webhooks_; }
  const UsageService& usage_service() const { return usage_service_; }
  const LeakService& leaks() const { return leaks_; }
  WebhookDispatcher& dispatcher() { return *dispatcher_; }
  CanaryAlerts& canary_alerts() { return canary_alerts_; }
  Housekeeper* housekeeper() { return housekeeper_.get(); }  // null before Start()
  SignInService& sign_in() { return sign_in_; }
  SigningKeyRing* signing_keys() { return ring_.get(); }  // null while the issuer is off
  TokenService* tokens() { return tokens_.get(); }        // null while the issuer is off
  ApiHandler& api() { return api_; }
  const ServiceOptions& options() const { return options_; }
  int blocking_threads() const { return blocking_threads_; }

 private:
  // Another node added a signing key (StoreEvents::signing_keys_changed, or a resync): the ring
  // reads the keys on the blocking pool, once for a burst, so that an emergency rotation is seen
  // at once rather than at the next tick. Never after Stop(): the store's event thread outlives
  // the pool and the ring.
  void RefreshSigningKeysSoon();

  // The authenticator's ReuseListener: the key service records the reuse (an event, perhaps
  // the key's deletion), then the dispatcher is nudged to deliver it now.
  class ReuseThenNudge final : public ReuseListener {
   public:
    explicit ReuseThenNudge(ServiceGraph& graph) : graph_(graph) {}
    void ReuseDetected(const KeyRecord& key, const ClientInfo& client) const override {
      graph_.keys_.ReuseDetected(key, client);
      graph_.dispatcher_->Nudge();
    }

   private:
    ServiceGraph& graph_;
  };

  const ServiceOptions options_;
  const WebhookOptions webhook_options_;
  const Clock& clock_;
  std::optional<MasterKey> master_key_;
  // Issue 16: the usage counters and rate-limit buckets the cache's entries hold; before the
  // cache, which they outlive.
  UsageRecorder usage_;
  RateLimiter limiter_;
  KeyCache cache_;  // before the store: outlives its event thread
  // Before the store too: RefreshSigningKeysSoon's guard against the event thread.
  Mutex events_mu_;
  bool stopped_ GUARDED_BY(events_mu_) = false;
  std::atomic<bool> ring_refresh_queued_{false};
  std::unique_ptr<Store> store_;
  LastUsedWriter last_used_;
  Metrics metrics_;
  Authenticator authenticator_;
  // Issue 19: reloads cached keys off the request path (ForwardAuth hands them over); stopped
  // by Stop() before the last-used writer.
  KeyRefresher refresher_;
  AuditLog audit_;
  // Delivers the webhook outbox from construction to Stop(); after the store, before what
  // enqueues (the services nudge it).
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  // Issue 17: the uses of canary keys the Authenticator reports, written as audit records and
  // events on its own thread, which nudges the dispatcher; after it and the audit log.
  CanaryAlerts canary_alerts_;
  KeyService keys_;
  UserService users_;
  SignInService sign_in_;
  WebhookService webhooks_;
  UsageService usage_service_;
  LeakService leaks_;
  HealthService health_;
  const TokenOptions token_options_;
  std::unique_ptr<SigningKeyRing> ring_;  // null while the issuer is off
  std::unique_ptr<TokenService> tokens_;  // null while the issuer is off
  Services services_;
  const int blocking_threads_;
  BlockingPool blocking_;
  ApiHandler api_;
  std::unique_ptr<SigningKeyTicker> ticker_;  // the ring's refreshes, from Start() to Stop()
  std::unique_ptr<Housekeeper> housekeeper_;  // from Start() to Stop()
  const ReuseThenNudge reuse_listener_{*this};
};

}  // namespace keyward
