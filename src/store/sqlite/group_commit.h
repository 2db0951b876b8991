// Leader/follower group commit, for the SQLite store's key creates and audit records
// (sqlite_store.cc): writes
// that arrive while a transaction is being written and synced queue up; when it is done, the
// first of them becomes the next leader and writes everything queued, up to a bound, in one
// transaction of its own, then hands every caller its own result. A caller that finds nobody
// writing leads at once, alone: nothing waits for a timer, so a lone write costs what it did
// without batching, and only what piled up behind a commit shares the next one.
//
// The queue is FIFO and a leader writes from its front, so the leader's own request is always
// the first of its batch; a caller returns only once a leader (maybe itself) has set its result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "common/thread_annotations.h"

namespace keyward::sqlite {

// What a GroupCommit has done since it was made (tests and the figures of the docs).
struct GroupCommitStats {
  std::int64_t batches = 0;   // transactions written by leaders
  std::int64_t requests = 0;  // requests in them
  std::int64_t largest_batch = 0;
  std::int64_t queued = 0;  // requests waiting now, not yet taken by a leader
};

template <typename Request>
class GroupCommit {
 public:
  // `limit`: the most requests one batch takes (at least 1).
  explicit GroupCommit(std::size_t limit) : limit_(limit < 1 ? 1 : limit) {}
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Returns once `request` is written (or refused) by a batch: `write(const
  // std::vector<Request*>&)` writes a batch in one transaction and sets each request's own
  // result. It is called by one thread at a time, without this object's lock, and must not throw.
  template <typename Write>
  void Submit(Request& request, Write&& write) EXCLUDES(mu_) {
    Slot me(request);
    MutexLock lock(mu_);
    queue_.push_back(&me);
    if (leading_) {
      // Woken when a leader has written this request, or hands the lead over to it.
      me.wake.Wait(mu_, [&] {
        mu_.AssertHeld();
        return me.done || me.lead;
      });
      if (me.done) return;
    }
    leading_ = true;
    std::vector<Slot*> slots;
    std::vector<Request*> batch;
    while (!queue_.empty() && slots.size() < limit_) {
      slots.push_back(queue_.front());
      batch.push_back(queue_.front()->request);
      queue_.pop_front();
    }
    ++stats_.batches;
    stats_.requests += static_cast<std::int64_t>(batch.size());
    if (static_cast<std::int64_t>(batch.size()) > stats_.largest_batch) {
      stats_.largest_batch = static_cast<std::int64_t>(batch.size());
    }
    lock.Unlock();
    write(batch);  // meanwhile, new requests queue up for the next batch
    lock.Lock();
    // Notified under the lock: a follower cannot return, and destroy its slot, before this
    // leader is done with it.
    for (Slot* slot : slots) {
      slot->done = true;
      if (slot != &me) slot->wake.NotifyOne();
    }
    if (queue_.empty()) {
      leading_ = false;
    } else {
      queue_.front()->lead = true;  // the oldest waiter writes the next batch
      queue_.front()->wake.NotifyOne();
    }
  }

  GroupCommitStats stats() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    GroupCommitStats stats = stats_;
    stats.queued = static_cast<std::int64_t>(queue_.size());
    return stats;
  }

 private:
  // One caller's place in the queue, on its stack. `done` and `lead` are guarded by mu_.
  struct Slot {
    explicit Slot(Request& r) : request(&r) {}

    Request* request;
    bool done = false;  // its request was written (or refused): its result is set
    bool lead = false;  // the previous leader handed the lead to it
    CondVar wake;
  };

  const std::size_t limit_;
  Mutex mu_;
  std::deque<Slot*> queue_ GUARDED_BY(mu_);
  bool leading_ GUARDED_BY(mu_) =
      false;  // a leader is writing; never false while queue_ is not empty
  GroupCommitStats stats_ GUARDED_BY(mu_);
};

}  // namespace keyward::sqlite
