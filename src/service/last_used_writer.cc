#include "service/last_used_writer.h"

#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"

namespace keyward {

LastUsedWriter::LastUsedWriter(KeyCache& cache, Store& store, std::chrono::milliseconds interval)
    : cache_(cache), store_(store), interval_(interval), thread_([this] { Loop(); }) {}

std::size_t LastUsedWriter::Flush() {
  auto batch = cache_.TakeUsed();
  if (batch.empty()) return 0;
  if (Status s = store_.TouchKeys(batch); !s.ok()) {
    log::Warn("could not record last-used times of {} keys: {}", batch.size(), s.ToString());
  }
  return batch.size();
}

void LastUsedWriter::Loop() {
  // Bookkeeping, never urgent: on a busy core the threads answering requests go first.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    lock.unlock();
    Flush();
    lock.lock();
  }
}

void LastUsedWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace keyward
