// A thread that calls a function periodically until stopped: the loop LastUsedWriter and
// SigningKeyTicker share.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include "common/thread_annotations.h"

namespace keyward {

class PeriodicThread {
 public:
  struct Options {
    // Call `tick` once more after Stop() woke the thread (to write what is left).
    bool tick_on_stop = false;
    // Run the thread at nice 10: bookkeeping, never urgent.
    bool low_priority = false;
  };

  // Starts the thread at once. It waits `interval()` (asked again before every wait), or until
  // Stop(), then calls `tick`; again and again until Stop(). `tick` runs without any lock held.
  PeriodicThread(std::function<std::chrono::milliseconds()> interval, std::function<void()> tick,
                 Options options);
  ~PeriodicThread() { Stop(); }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Wakes the thread and joins it; a second call returns at once.
  void Stop();

 private:
  void Loop();

  const std::function<std::chrono::milliseconds()> interval_;
  const std::function<void()> tick_;
  const Options options_;
  Mutex mu_;
  CondVar wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts when everything above is set
};

}  // namespace keyward
