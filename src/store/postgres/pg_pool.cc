#include "store/postgres/pg_pool.h"

#include <fmt/format.h>

#include <algorithm>

namespace keyward::pg {

Pool::Pool(std::string url, PoolOptions options)
    : url_(std::move(url)), options_(std::move(options)) {}

Result<Pool::Lease> Pool::Acquire() {
  int size = std::max(options_.size, 1);
  {
    MutexLock lock(mu_);
    bool free = returned_.WaitFor(mu_, options_.acquire_timeout, [&] {
      mu_.AssertHeld();
      return !idle_.empty() || borrowed_ + static_cast<int>(idle_.size()) < size;
    });
    if (!free) {
      return Status::Unavailable(
          kBusyMessage, fmt::format("no free database connection within {} ms (pool size {})",
                                    options_.acquire_timeout.count(), size));
    }
    ++borrowed_;
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn), /*reused=*/true);
    }
  }
  // A slot is reserved (borrowed_ counts it): connect without holding the lock.
  Result<std::unique_ptr<Connection>> conn = Connection::Open(url_, options_.connect);
  if (!conn.ok()) {
    {
      MutexLock lock(mu_);
      --borrowed_;
    }
    returned_.NotifyOne();
    return conn.status();
  }
  return Lease(this, std::move(*conn), /*reused=*/false);
}

void Pool::DiscardIdle() {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    MutexLock lock(mu_);
    closing.swap(idle_);
  }
  returned_.NotifyAll();
  // `closing` is destroyed here, outside the lock (closing a connection does network I/O).
}

void Pool::Release(std::unique_ptr<Connection> conn) {
  bool keep = conn != nullptr && conn->ok() && conn->idle();
  {
    MutexLock lock(mu_);
    --borrowed_;
    if (keep) idle_.push_back(std::move(conn));
  }
  returned_.NotifyOne();
  // A connection not kept is closed here, outside the lock.
}

}  // namespace keyward::pg
