#include "service/key_refresher.h"

#include <sys/resource.h>
#include <unistd.h>

#include <utility>

namespace keyward {

KeyRefresher::KeyRefresher(const Authenticator& authenticator, std::size_t max_queued)
    : authenticator_(authenticator), max_queued_(max_queued), thread_([this] { Run(); }) {}

void KeyRefresher::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.NotifyOne();
  MutexLock lock(join_mu_);
  if (thread_.joinable()) thread_.join();
}

bool KeyRefresher::Submit(std::string hash) {
  {
    MutexLock lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(hash));
  }
  wake_.NotifyOne();
  return true;
}

void KeyRefresher::Run() {
  // On a busy core the threads answering requests go first.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
  MutexLock lock(mu_);
  while (true) {
    wake_.Wait(mu_, [this] {
      mu_.AssertHeld();
      return stopping_ || !queue_.empty();
    });
    if (stopping_) return;
    std::string hash = std::move(queue_.front());
    queue_.pop_front();
    lock.Unlock();
    authenticator_.Refresh(hash);
    lock.Lock();
  }
}

}  // namespace keyward
