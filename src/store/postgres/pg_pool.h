// A bounded pool of PostgreSQL connections, shared by the threads that call one PostgresStore.
//
// Thread safe. Connections are opened on demand, up to `size`; a caller borrows one (a Lease)
// for one Store call and the Lease gives it back. A connection returned broken, or inside a
// transaction, is closed instead of kept, so after an outage the pool heals by itself: the next
// caller gets a new connection. Every Lease must be gone before the pool is destroyed.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/postgres/pg_connection.h"

namespace keyward::pg {

struct PoolOptions {
  // Connections open at most (borrowed and idle together). At least 1.
  int size = 4;
  // How long Acquire waits for a borrowed connection to come back.
  std::chrono::milliseconds acquire_timeout{5000};
  // For each new connection.
  ConnectOptions connect;
};

class Pool {
 public:
  // One borrowed connection; gives it back to the pool when destroyed. Movable.
  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)),
          conn_(std::move(other.conn_)),
          reused_(other.reused_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->Release(std::move(conn_));
    }

    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }
    // True if the connection was idle in the pool (it may have died meanwhile), false if it was
    // opened for this lease.
    bool reused() const { return reused_; }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Connection> conn, bool reused)
        : pool_(pool), conn_(std::move(conn)), reused_(reused) {}

    Pool* pool_;
    std::unique_ptr<Connection> conn_;
    bool reused_;
  };

  // `url` is kept for reconnecting; it is never logged.
  Pool(std::string url, PoolOptions options);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() = default;

  // An idle connection, or a new one while fewer than `size` are open; otherwise waits up to
  // acquire_timeout for one to come back. Unavailable if none comes back in time or a new
  // connection cannot be opened (connection.h).
  Result<Lease> Acquire();
  // Closes every idle connection: called when one was found lost, as the others likely are too.
  void DiscardIdle();

 private:
  void Release(std::unique_ptr<Connection> conn);

  const std::string url_;
  const PoolOptions options_;
  Mutex mu_;
  CondVar returned_;
  std::vector<std::unique_ptr<Connection>> idle_ GUARDED_BY(mu_);
  int borrowed_ GUARDED_BY(mu_) = 0;  // includes those opening
};

}  // namespace keyward::pg
