// Writes the keys' last-used times to the store in batches, every `interval`, never one write
// per request; with a usage recorder (issue 16), also the usage counted since the last flush
// (UsageRecorder::Take → Store::RecordUsage), so that a node killed with kill -9 loses at most
// one interval of counts. Owns one thread; Stop() (or the destructor) writes what is left and
// joins it.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"
#include "service/key_cache.h"
#include "service/periodic_thread.h"
#include "service/usage_recorder.h"
#include "store/store.h"

namespace keyward {

class LastUsedWriter {
 public:
  LastUsedWriter(KeyCache& cache, Store& store, std::chrono::milliseconds interval)
      : LastUsedWriter(cache, store, interval, nullptr) {}
  // `usage` may be null (no usage written); it must outlive the writer.
  LastUsedWriter(KeyCache& cache, Store& store, std::chrono::milliseconds interval,
                 UsageRecorder* usage);
  ~LastUsedWriter() { Stop(); }
  LastUsedWriter(const LastUsedWriter&) = delete;
  LastUsedWriter& operator=(const LastUsedWriter&) = delete;

  // Writes the pending batch now, with what earlier flushes could not write (the store was
  // down: a use must not be lost, or an old secret in steady use could look idle and retire);
  // returns how many keys' last-used marks it held. At most kMaxRetained unwritten marks are
  // kept. Then writes the usage deltas the recorder holds (and those earlier flushes could not
  // write) in chunks; a chunk that fails is kept for the next flush, at most kMaxRetained deltas
  // (beyond that, counts are dropped with a warning). Both in small transactions.
  std::size_t Flush();
  static constexpr std::size_t kMaxRetained = 100'000;
  // Usage deltas kept from failed writes (for tests and metrics).
  std::size_t unwritten_usage() const;
  void Stop();

 private:
  void FlushUsage() REQUIRES(mu_);

  KeyCache& cache_;
  Store& store_;
  UsageRecorder* const usage_;
  mutable Mutex mu_;  // Flush runs on the thread, and from Stop() or a test
  std::vector<std::pair<std::string, UnixSeconds>> unwritten_ GUARDED_BY(mu_);
  std::vector<UsageDelta> unwritten_usage_ GUARDED_BY(mu_);
  PeriodicThread periodic_;  // last: its thread calls Flush
};

}  // namespace keyward
