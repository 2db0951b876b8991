// Writes the keys' last-used times to the store in batches, every `interval`, never one write
// per request. Owns one thread; Stop() (or the destructor) writes what is left and joins it.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"
#include "service/key_cache.h"
#include "service/periodic_thread.h"
#include "store/store.h"

namespace keyward {

class LastUsedWriter {
 public:
  LastUsedWriter(KeyCache& cache, Store& store, std::chrono::milliseconds interval);
  ~LastUsedWriter() { Stop(); }
  LastUsedWriter(const LastUsedWriter&) = delete;
  LastUsedWriter& operator=(const LastUsedWriter&) = delete;

  // Writes the pending batch now, with what earlier flushes could not write (the store was
  // down: a use must not be lost, or an old secret in steady use could look idle and retire);
  // returns how many keys it held. At most kMaxRetained unwritten marks are kept.
  std::size_t Flush();
  static constexpr std::size_t kMaxRetained = 100'000;
  void Stop();

 private:
  KeyCache& cache_;
  Store& store_;
  Mutex mu_;  // Flush runs on the thread, and from Stop() or a test
  std::vector<std::pair<std::string, UnixSeconds>> unwritten_ GUARDED_BY(mu_);
  PeriodicThread periodic_;  // last: its thread calls Flush
};

}  // namespace keyward
