// Writes the keys' last-used times to the store in batches, every `interval`, never one write
// per request. Owns one thread; Stop() (or the destructor) writes what is left and joins it.
#pragma once

#include <chrono>
#include <thread>

#include "common/thread_annotations.h"
#include "service/key_cache.h"
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
  void Loop();

  KeyCache& cache_;
  Store& store_;
  const std::chrono::milliseconds interval_;
  Mutex mu_;
  CondVar wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace keyward
