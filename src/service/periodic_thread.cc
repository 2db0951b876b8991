#include "service/periodic_thread.h"

#include <sys/resource.h>
#include <unistd.h>

#include <utility>

namespace keyward {

PeriodicThread::PeriodicThread(std::function<std::chrono::milliseconds()> interval,
                               std::function<void()> tick, Options options)
    : interval_(std::move(interval)),
      tick_(std::move(tick)),
      options_(options),
      thread_([this] { Loop(); }) {}

void PeriodicThread::Loop() {
  // On a busy core the threads answering requests go first.
  if (options_.low_priority) ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  MutexLock lock(mu_);
  while (!stopping_) {
    wake_.WaitFor(mu_, interval_(), [this] {
      mu_.AssertHeld();
      return stopping_;
    });
    if (stopping_ && !options_.tick_on_stop) break;
    lock.Unlock();
    tick_();
    lock.Lock();
  }
}

void PeriodicThread::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

}  // namespace keyward
