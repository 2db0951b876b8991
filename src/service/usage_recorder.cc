#include "service/usage_recorder.h"

#include <atomic>

// Memory ordering (the argument the tests and tsan check):
//
// Count  (hot path):  [rotate: start CAS acq_rel]  count fetch_add release  →  pending_ store
//                     release.
// TakeInto (writer):  pending_ exchange(false) acquire  →  count exchange(0) acquire  →  start
//                     load.
//
// 1. No count is lost ("count then mark; take the mark then the counts"): if the exchange of
//    pending_ reads a Count's mark, that Count's increment happens before the exchange of the
//    counts, which takes it. If it does not, the mark comes later in pending_'s order, stays
//    set, and the next TakeInto takes the increment. So pending_ is false only when every
//    count before its last clearing has been taken.
// 2. Counts land in their hour: a Count that moves an hour's place to a new hour does so (CAS)
//    before its increment (release); a TakeInto whose exchange takes that increment (acquire)
//    then reads the new start after it. Counts still in the place from two hours before (no
//    flush for an hour) go with them into the new hour: the documented approximation.
// 3. A slot only its recorder's map holds (use_count() == 1, under the shard lock that SlotFor
//    needs to hand it out) cannot be counted any more: the last owner's counts happen before its
//    reference's release (the shared_ptr decrement is acq_rel), and the acquire fence after
//    reading use_count() makes them visible to the final TakeInto; the slot is then forgotten.
namespace keyward {

void UsageSlot::Count(UsageOutcome outcome, UnixSeconds now) noexcept {
  const UnixSeconds hour = HourStart(now);
  Hour& h = hours_[IndexOf(hour)];
  UnixSeconds start = h.start.load(std::memory_order_acquire);
  // Once an hour per place: move it on to this hour (never back: a clock that stepped back
  // counts in the later hour the place holds).
  while (start < hour && !h.start.compare_exchange_weak(start, hour, std::memory_order_acq_rel,
                                                        std::memory_order_acquire)) {
  }
  const auto i = static_cast<std::size_t>(outcome);
  h.counts[i].fetch_add(1, std::memory_order_release);
  if (totals_ != nullptr) (*totals_)[i].fetch_add(1, std::memory_order_relaxed);
  // Written only when it changes: a busy key's requests then share the line without writing it.
  if (!pending_.load(std::memory_order_relaxed)) pending_.store(true, std::memory_order_release);
}

bool UsageSlot::WantsClient(UnixSeconds now) const noexcept {
  return client_at_.load(std::memory_order_relaxed) < now;
}

void UsageSlot::SetClient(std::string_view address, std::string_view user_agent, UnixSeconds now) {
  {
    MutexLock lock(client_mu_);
    if (client_at_.load(std::memory_order_relaxed) >= now) return;  // another thread was first
    address_.assign(address);
    user_agent_.assign(user_agent);
    client_at_.store(now, std::memory_order_relaxed);
  }
  pending_.store(true, std::memory_order_release);
}

void UsageSlot::Record(UsageOutcome outcome, UnixSeconds now, std::string_view address,
                       std::string_view user_agent) {
  Count(outcome, now);
  // An unknown address (an authorize call that names none) leaves the last known client as is.
  if (!address.empty() && WantsClient(now)) SetClient(address, user_agent, now);
}

bool UsageSlot::TakeInto(std::vector<UsageDelta>& out) {
  if (!pending_.exchange(false, std::memory_order_acquire)) return false;
  const std::size_t first = out.size();
  for (Hour& h : hours_) {
    UsageCounts counts{};
    bool any = false;
    for (std::size_t i = 0; i < kUsageOutcomes; ++i) {
      if (h.counts[i].load(std::memory_order_relaxed) == 0) continue;
      counts[i] = h.counts[i].exchange(0, std::memory_order_acquire);
      any = any || counts[i] != 0;
    }
    if (!any) continue;
    UsageDelta delta;
    delta.hash = hash_;
    delta.hour_start = h.start.load(std::memory_order_acquire);  // after the counts: see 2.
    delta.counts = counts;
    out.push_back(std::move(delta));
  }
  if (out.size() == first + 2 && out[first].hour_start > out[first + 1].hour_start) {
    std::swap(out[first], out[first + 1]);  // ascending, so the latest hour comes last
  }
  MutexLock lock(client_mu_);
  const UnixSeconds seen_at = client_at_.load(std::memory_order_relaxed);
  if (seen_at > client_taken_) {
    client_taken_ = seen_at;
    if (out.size() == first) {  // a client without counts (SetClient alone)
      UsageDelta delta;
      delta.hash = hash_;
      delta.hour_start = HourStart(seen_at);
      out.push_back(std::move(delta));
    }
    UsageDelta& latest = out.back();
    latest.seen_at = seen_at;
    latest.last_address = address_;
    latest.last_user_agent = user_agent_;
  }
  return out.size() > first;
}

std::shared_ptr<UsageSlot> UsageRecorder::SlotFor(std::string_view hash) {
  if (!enabled_ || hash.size() != 32) return nullptr;
  Shard& shard = shards_[static_cast<unsigned char>(hash[8]) % kShards];
  MutexLock lock(shard.mu);
  auto [it, inserted] = shard.slots.try_emplace(std::string(hash));
  if (inserted) it->second = std::make_shared<UsageSlot>(it->first, &totals_);
  return it->second;
}

std::vector<UsageDelta> UsageRecorder::Take() {
  std::vector<UsageDelta> out;
  if (!enabled_) return out;
  for (Shard& shard : shards_) {
    MutexLock lock(shard.mu);
    for (auto it = shard.slots.begin(); it != shard.slots.end();) {
      const bool idle = it->second.use_count() == 1;  // no owner: nobody can count on it (3.)
      std::atomic_thread_fence(std::memory_order_acquire);
      it->second->TakeInto(out);
      it = idle ? shard.slots.erase(it) : std::next(it);
    }
  }
  return out;
}

std::size_t UsageRecorder::size() const {
  std::size_t n = 0;
  for (const Shard& shard : shards_) {
    MutexLock lock(shard.mu);
    n += shard.slots.size();
  }
  return n;
}

UsageCounts UsageRecorder::totals() const {
  UsageCounts counts{};
  for (std::size_t i = 0; i < kUsageOutcomes; ++i) {
    counts[i] = totals_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

}  // namespace keyward
