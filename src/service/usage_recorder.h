// Counts every presentation of a known key in memory, per key per hour (issue 16), for the
// last-used writer to write in batches (Store::RecordUsage).
//
// The hot path holds a UsageSlot (the verification cache keeps one in each entry, shared by the
// entries of the same secret over time) and counts with relaxed atomics: no lock, no
// allocation. A slot keeps two hours of counts (the current hour and the one before), so a flush
// that runs at least once an hour splits counts exactly at hour boundaries. The client of the
// latest presentation is copied at most once per second per slot, under the slot's own mutex.
// The recorder also keeps global totals per outcome (for /metrics), counted by every slot.
// Thread safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "core/usage.h"

namespace keyward {

// The counters of one presented secret (a key's current or old secret; a token issued from a
// key counts on its key's slot).
// Counts per outcome, as atomics (UsageRecorder::totals).
using AtomicUsageCounts = std::array<std::atomic<std::int64_t>, kUsageOutcomes>;

class UsageSlot {
 public:
  // `totals`, when not null, is counted too (it must outlive the slot).
  explicit UsageSlot(std::string hash, AtomicUsageCounts* totals = nullptr)
      : hash_(std::move(hash)), totals_(totals) {}
  const std::string& hash() const { return hash_; }

  // One presentation at `now` with that outcome. Lock-free and allocation-free.
  void Count(UsageOutcome outcome, UnixSeconds now) noexcept;
  // True when the client of a presentation at `now` should be recorded (SetClient): at most
  // once per second. Lock-free.
  bool WantsClient(UnixSeconds now) const noexcept;
  void SetClient(std::string_view address, std::string_view user_agent, UnixSeconds now);
  // Both at once: Count, and SetClient when WantsClient.
  void Record(UsageOutcome outcome, UnixSeconds now, std::string_view address,
              std::string_view user_agent);

  // Moves the counts (and the client, if set since the last call) into `out`, one delta per
  // hour with counts; returns false when there was nothing. For UsageRecorder::Take.
  // Counts of an hour not taken before its place is reused (two hours later) are taken as the
  // later hour's: a flush at least once an hour keeps every count in its hour.
  bool TakeInto(std::vector<UsageDelta>& out);

 private:
  struct Hour {
    std::atomic<UnixSeconds> start{0};
    AtomicUsageCounts counts{};
  };
  static std::size_t IndexOf(UnixSeconds hour_start) {
    return static_cast<std::size_t>((hour_start / kSecondsPerHour) & 1);
  }
  const std::string hash_;
  AtomicUsageCounts* const totals_;
  std::array<Hour, 2> hours_;  // by (hour_start / 3600) % 2
  // Set after every count (and client), cleared by TakeInto before it takes: see Count.
  std::atomic<bool> pending_{false};
  std::atomic<UnixSeconds> client_at_{0};
  Mutex client_mu_;
  std::string address_ GUARDED_BY(client_mu_);
  std::string user_agent_ GUARDED_BY(client_mu_);
  UnixSeconds client_taken_ GUARDED_BY(client_mu_) = 0;  // client_at_ when last taken
};

class UsageRecorder {
 public:
  // `enabled` false (the --usage-counting=false of the benchmarks): SlotFor gives null and
  // Take nothing.
  explicit UsageRecorder(bool enabled = true) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }

  // The slot of `hash` (32 bytes), made on first use and kept while counts are unwritten or an
  // owner (a cache entry) holds it. Takes a shard lock: call when a cache entry is made, or on
  // a slow path, never per cached request. Null when disabled or `hash` is not 32 bytes.
  std::shared_ptr<UsageSlot> SlotFor(std::string_view hash);

  // Everything counted since the last call, for Store::RecordUsage; forgets slots nobody holds
  // any more whose counts are taken.
  std::vector<UsageDelta> Take();

  // Slots held (for tests and metrics).
  std::size_t size() const;
  // Every presentation counted since start, per outcome (keyward_key_uses_total). Lock-free.
  UsageCounts totals() const;

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    mutable Mutex mu;
    std::unordered_map<std::string, std::shared_ptr<UsageSlot>> slots GUARDED_BY(mu);
  };
  const bool enabled_;
  AtomicUsageCounts totals_{};  // counted by the slots (UsageSlot::totals_)
  std::array<Shard, kShards> shards_;
};

}  // namespace keyward
