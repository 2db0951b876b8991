#include "service/canary_alerts.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <iterator>
#include <utility>

#include "common/log.h"
#include "core/audit_event.h"
#include "core/webhook.h"
#include "store/rows.h"

namespace keyward {
namespace {

constexpr std::size_t kMaxMethodBytes = 32;
constexpr std::size_t kMaxPathBytes = 1024;
// Canaries whose recent alerts are remembered before the stale ones are dropped.
constexpr std::size_t kMaxRemembered = 10'000;
// How soon alerts whose events the store refused are tried again, when nothing new comes.
constexpr std::chrono::seconds kRetryInterval{1};

// The path of a request target: up to its query string, which may hold a credential.
std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

WebhookEvent EventOf(const CanaryKey& key, std::string_view address, std::string_view user_agent,
                     std::string_view method, std::string_view path, UnixSeconds at) {
  boost::json::object data;
  data["user"] = key.user_id;
  data["key"] = key.name;
  data["expiration"] = FormatRfc3339(key.expires_at);
  data["name"] = key.name;
  data["address"] = address;
  data["user_agent"] = user_agent;
  data["method"] = method;
  data["path"] = path;
  WebhookEvent event;
  event.type = std::string(event::kKeyCanaryUsed);
  event.time = at;
  event.user_id = key.user_id;
  event.data = boost::json::serialize(data);
  return event;
}

}  // namespace

CanaryAlerts::CanaryAlerts(Store& store, const AuditLog* audit, std::function<void()> on_recorded,
                           CanaryAlertsOptions options)
    : store_(store),
      audit_(audit),
      on_recorded_(std::move(on_recorded)),
      options_(std::move(options)),
      finder_({options_.key_prefix}),
      thread_([this] { Loop(); }) {}

void CanaryAlerts::CanaryUsed(const CanaryKey& key, const ClientInfo& client,
                              UnixSeconds at) const {
  uses_.fetch_add(1, std::memory_order_relaxed);
  std::string id = key.user_id;
  id += '\0';
  id += key.name;
  MutexLock lock(mu_);
  if (stopping_ || queue_.size() + retry_.size() >= options_.max_queued || !Admit(id, at)) {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  queue_.push_back(Alert{
      .key = key,
      .address = ClientText(client.address, kMaxClientAddressBytes),
      .user_agent = ClientText(scan::MaskKeysIn(client.user_agent, finder_), kMaxUserAgentBytes),
      .method = ClientText(client.method, kMaxMethodBytes),
      .path = ClientText(scan::MaskKeysIn(PathOf(client.path), finder_), kMaxPathBytes),
      .at = at});
  ++queued_total_;
  wake_.NotifyOne();
}

bool CanaryAlerts::Admit(const std::string& id, UnixSeconds at) const {
  if (options_.per_minute <= 0) return false;  // no alerts at all: no entry either
  if (recent_.size() >= kMaxRemembered && !recent_.contains(id)) {
    std::erase_if(recent_, [&](const auto& entry) {
      return entry.second.empty() || entry.second.back() <= at - 60;
    });
  }
  Recent& recent = recent_[id];
  while (!recent.empty() && recent.front() <= at - 60) recent.pop_front();
  if (static_cast<std::int64_t>(recent.size()) >= options_.per_minute) return false;
  recent.push_back(at);
  return true;
}

void CanaryAlerts::Loop() {
  MutexLock lock(mu_);
  while (true) {
    const auto ready = [&] {
      mu_.AssertHeld();
      return stopping_ || !queue_.empty();
    };
    if (retry_.empty()) {
      wake_.Wait(mu_, ready);
    } else {
      wake_.WaitFor(mu_, kRetryInterval, ready);
    }
    const bool last = stopping_;  // the last round: what cannot be written now is dropped
    if (last && queue_.empty() && retry_.empty()) return;
    std::deque<Alert> batch;
    batch.swap(retry_);
    const std::size_t n = queue_.size();
    batch.insert(batch.end(), std::make_move_iterator(queue_.begin()),
                 std::make_move_iterator(queue_.end()));
    queue_.clear();
    lock.Unlock();
    const bool written = Write(batch);
    lock.Lock();
    if (!written) {
      // Kept for the next round, within max_queued with what came meanwhile (the oldest go).
      const std::size_t room =
          last ? 0 : options_.max_queued - std::min(options_.max_queued, queue_.size());
      const std::size_t dropped = batch.size() - std::min(batch.size(), room);
      suppressed_.fetch_add(dropped, std::memory_order_relaxed);
      batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(dropped));
      retry_ = std::move(batch);
    }
    written_total_ += n;
    written_.NotifyAll();
    if (last) return;
  }
}

bool CanaryAlerts::Write(std::deque<Alert>& batch) {
  EventList events;
  events.reserve(batch.size());
  for (const Alert& a : batch) {
    events.push_back(EventOf(a.key, a.address, a.user_agent, a.method, a.path, a.at));
  }
  if (auto appended = store_.AppendEvents(events); !appended.ok()) {
    log::Warn("canary keys: {} key.canary_used event(s) could not be recorded, kept to retry: {}",
              batch.size(), appended.status().ToString());
    return false;
  }
  if (audit_ != nullptr) {
    for (const Alert& a : batch) {
      std::string detail = "method=" + a.method + " path=" + a.path;
      audit_->RecordAfter({.action = AuditAction::kKeyCanaryUsed,
                           .actor = "system",
                           .user = a.key.user_id,
                           .target = a.key.name,
                           .address = a.address,
                           .detail = detail},
                          Status::Ok());
    }
  }
  if (on_recorded_) on_recorded_();
  return true;
}

void CanaryAlerts::Flush() const {
  MutexLock lock(mu_);
  const std::uint64_t target = queued_total_;
  written_.Wait(mu_, [&] {
    mu_.AssertHeld();
    return written_total_ >= target;
  });
}

void CanaryAlerts::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_.NotifyAll();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace keyward
