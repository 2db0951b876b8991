// Reads cached keys again before their cache entries age out (KeyCache::ClaimRefresh), off the
// request path, on one thread of its own at nice 19.
//
// Why a thread of its own and not the blocking pool: keys cached together (a gateway's keys at
// start-up, after a restart) come due together, a ttl later and every ttl after that. A
// thousand reloads handed to the pool at once took its four threads and the request thread's
// core for tens of milliseconds, and /auth's p99 with them (2.8-4.0 ms against 2.0). One
// low-priority thread reads them one after another while the request thread keeps the core: the
// reloads land within the entries' last second either way, and requests never wait for one.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <thread>

#include "common/thread_annotations.h"
#include "service/authenticator.h"

namespace keyward {

class KeyRefresher {
 public:
  // `authenticator` must outlive this object.
  explicit KeyRefresher(const Authenticator& authenticator, std::size_t max_queued = 100'000);
  ~KeyRefresher() { Stop(); }
  // Ends the thread once the reload under way is done; what is still queued is dropped (those
  // entries age out), and Submit drops from then on. Idempotent.
  void Stop() EXCLUDES(mu_);
  KeyRefresher(const KeyRefresher&) = delete;
  KeyRefresher& operator=(const KeyRefresher&) = delete;

  // Queues Authenticator::Refresh(hash). Never blocks; false (dropped) when the queue is full:
  // the entry then ages out and the next request reads the store itself.
  bool Submit(std::string hash) EXCLUDES(mu_);

 private:
  void Run() EXCLUDES(mu_);

  const Authenticator& authenticator_;
  const std::size_t max_queued_;
  Mutex mu_;
  CondVar wake_;
  std::deque<std::string> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  Mutex join_mu_;       // Stop() from two threads joins once
  std::thread thread_;  // last: it runs Run
};

}  // namespace keyward
