// Writes the keys' last-used times to the store in batches, every `interval`, never one write
// per request. Owns one thread; Stop() (or the destructor) writes what is left and joins it.
#pragma once

#include <chrono>

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

  // Writes the pending batch now; returns how many keys it held.
  std::size_t Flush();
  void Stop();

 private:
  KeyCache& cache_;
  Store& store_;
  PeriodicThread periodic_;  // last: its thread calls Flush
};

}  // namespace keyward
