// A bounded pool of threads for blocking work (store I/O, Argon2id), so that network threads
// never block.
//
// At most `max_queued` tasks wait or run at once; TrySubmit refuses more, so overload becomes a
// fast 503 rather than an unbounded queue. Thread safe. The destructor waits for running tasks.
#pragma once

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>

namespace keyward {

class BlockingPool {
 public:
  BlockingPool(int threads, std::size_t max_queued)
      : pool_(static_cast<std::size_t>(threads)), max_queued_(max_queued) {}
  ~BlockingPool() { pool_.join(); }
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs `task` on one of the pool's threads; false (and `task` is dropped) when the pool is full.
  template <typename Task>
  bool TrySubmit(Task&& task) {
    if (pending_.fetch_add(1) >= max_queued_) {
      pending_.fetch_sub(1);
      return false;
    }
    boost::asio::post(pool_, [this, t = std::forward<Task>(task)]() mutable {
      t();
      pending_.fetch_sub(1);
    });
    return true;
  }

  // Waits for every submitted task to finish; no new task may be submitted after.
  void Join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
  const std::size_t max_queued_;
  std::atomic<std::size_t> pending_{0};
};

}  // namespace keyward
