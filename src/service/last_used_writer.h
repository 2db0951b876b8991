// Writes the keys' last-used times to the store in batches, every `interval`, never one write
// per request. Owns one thread; Stop() (or the destructor) writes what is left and joins it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

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
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace keyward
