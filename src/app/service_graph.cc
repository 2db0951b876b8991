#include "app/service_graph.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "common/cpus.h"
#include "common/log.h"
#include "web/web_assets.h"

namespace keyward {
namespace {

// The service settings, with how late the last-used writer may record a use: its interval in
// whole seconds, rounded up, at least 1 (old secrets retiring when idle wait for it).
ServiceOptions ServiceOptionsOf(const Config& config) {
  ServiceOptions options = config.service;
  const std::int64_t millis = config.last_used_interval.count();
  options.last_used_lag_seconds = std::max<std::int64_t>(1, (millis + 999) / 1000);
  return options;
}

}  // namespace

ServiceGraph::ServiceGraph(const Config& config, std::unique_ptr<Store> store,
                           std::optional<MasterKey> master_key, const Clock& clock)
    : options_(ServiceOptionsOf(config)),
      webhook_options_(config.webhooks),
      clock_(clock),
      master_key_(std::move(master_key)),
      usage_(config.usage_counting),
      limiter_(config.rate_limit_nodes),
      cache_(config.cache),
      store_(std::move(store)),
      last_used_(cache_, *store_, config.last_used_interval, &usage_),
      authenticator_(*store_, options_, clock, &cache_),
      refresher_(authenticator_),
      audit_(*store_, clock),
      dispatcher_(std::make_unique<WebhookDispatcher>(
          *store_, master_key_ ? &*master_key_ : nullptr, webhook_options_, clock)),
      canary_alerts_(*store_, &audit_, [this] { dispatcher_->Nudge(); },
                     {.key_prefix = options_.key_prefix}),
      keys_(*store_, master_key_ ? &*master_key_ : nullptr, options_, clock, &cache_, &audit_),
      users_(*store_, clock, &cache_, &audit_),
      sign_in_(*store_, options_, clock, &cache_, &audit_, master_key_ ? &*master_key_ : nullptr),
      webhooks_(*store_, master_key_ ? &*master_key_ : nullptr, webhook_options_, clock, &audit_,
                dispatcher_.get()),
      usage_service_(*store_, clock),
      leaks_(*store_, keys_, options_, clock, &cache_, &audit_),
      health_(*store_),
      token_options_(config.token),
      ring_(token_options_.issuer.empty() || !master_key_
                ? nullptr
                : std::make_unique<SigningKeyRing>(*store_, *master_key_, token_options_, clock,
                                                   audit_)),
      tokens_(ring_ == nullptr ? nullptr
                               : std::make_unique<TokenService>(token_options_, authenticator_,
                                                                *ring_, *store_, &cache_, clock)),
      services_{.options = options_,
                .authenticator = authenticator_,
                .keys = keys_,
                .users = users_,
                .sign_in = sign_in_,
                .metrics = metrics_,
                .cache = &cache_,
                .allow_query_key = config.allow_query_key,
                .secure_cookie = !config.tls_cert.empty(),
                .web_assets = &WebAssets(),
                .audit = &audit_,
                .trusted_proxies = config.trusted_proxies,
                .metrics_allow = config.metrics_allow,
                .tokens = tokens_.get(),
                .signing_keys = ring_.get(),
                .webhooks = &webhooks_,
                .dispatcher = dispatcher_.get(),
                .usage = &usage_,
                .clock = &clock,
                .usage_service = &usage_service_,
                .leaks = &leaks_,
                .canary_alerts = &canary_alerts_,
                .health = &health_,
                .refresher = &refresher_},
      // ServerApp hands over the count it resolved; the CPUs are counted here only for a graph
      // made without one (the fuzz harness, the benchmarks, tests).
      blocking_threads_(config.blocking_threads > 0
                            ? config.blocking_threads
                            : ResolveThreads(config, CountUsableCpus()).blocking),
      blocking_(blocking_threads_, config.blocking_queue),
      api_(services_, blocking_) {
  // The cache's entries, and the Authenticator (which uses the cache's), meter keys with these.
  cache_.AttachMeters(&usage_, &limiter_);
  // A retired old secret presented after a rotation is reported to the key service (reuse).
  authenticator_.set_reuse_listener(&reuse_listener_);
  // Every use of a canary key raises key.canary_used (service/canary_alerts.h).
  authenticator_.set_canary_listener(&canary_alerts_);
  store_->Subscribe(
      StoreEvents{.key_revoked = [this](std::string_view hash) { cache_.Erase(hash); },
                  .user_changed = [this](std::string_view user_id) { cache_.EraseUser(user_id); },
                  .resync =
                      [this] {
                        cache_.Clear();
                        RefreshSigningKeysSoon();  // a new signing key may be among what was missed
                      },
                  .signing_keys_changed = [this] { RefreshSigningKeysSoon(); }});
}

void ServiceGraph::RefreshSigningKeysSoon() {
  MutexLock lock(events_mu_);
  if (stopped_ || ring_ == nullptr || ring_refresh_queued_.exchange(true)) return;
  const bool queued = blocking_.TrySubmit([this] {
    ring_refresh_queued_.store(false);  // a change heard from now on reads again
    if (Status s = ring_->Refresh(); !s.ok()) {
      log::Warn("signing keys: refresh on another node's change failed: {}", s.ToString());
    }
  });
  if (!queued) {
    ring_refresh_queued_.store(false);
    log::Warn("signing keys: the blocking pool is full; the next tick reads the new key");
  }
}

ServiceGraph::~ServiceGraph() { Stop(); }

Status ServiceGraph::Start() {
  if (!token_options_.issuer.empty()) {
    if (ring_ == nullptr) {
      return Status::InvalidArgument("the token issuer needs the master key (--master-key-file)");
    }
    if (Status s = ring_->Refresh(); !s.ok()) {
      return Status(s.code(), "the token issuer cannot load or create its signing keys: " +
                                  std::string(s.message()));
    }
    if (ticker_ == nullptr) ticker_ = std::make_unique<SigningKeyTicker>(*ring_);
  }
  if (housekeeper_ == nullptr) {
    housekeeper_ = std::make_unique<Housekeeper>(*store_, options_, clock_, &cache_, &audit_,
                                                 [this] { dispatcher_->Nudge(); });
    housekeeper_->set_rate_limiter(&limiter_);
  }
  return Status::Ok();
}

void ServiceGraph::Stop() {
  {
    MutexLock lock(events_mu_);  // the store's event thread submits no refresh from now on
    stopped_ = true;
  }
  // Background work that writes to the store ends first: the pool and the store outlive it.
  if (housekeeper_ != nullptr) housekeeper_->Stop();
  dispatcher_->Stop();
  ticker_.reset();
  refresher_.Stop();  // reads the store and marks keys used: before the last-used writer's end
  blocking_.Join();
  // After the pool: an Authenticate still running there may report a canary use, which is
  // written now (its nudge of the stopped dispatcher is harmless; the delivery waits for the
  // next start).
  canary_alerts_.Stop();
  last_used_.Stop();
}

}  // namespace keyward
