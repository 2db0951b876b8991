// The PostgreSQL backend of Store: one database shared by any number of `keyward serve` nodes.
//
// Thread safe: calls borrow a connection from a bounded pool (pg_pool.h), so up to pool_size of
// them run at once and the rest wait up to acquire_timeout. Each call is atomic: a change of
// several statements runs in BEGIN ... COMMIT, a single statement is a transaction of its own.
// A connection found lost is replaced on the next use (a read, or a transaction that had not
// reached COMMIT, is retried once on a new connection), so a node recovers by itself when the
// server is back. Errors follow store.h: Unavailable (message "the database is unavailable", or
// "... busy, try again" for a timeout or deadlock) whenever the server cannot be reached; the URL
// and its password never appear in a Status or a log line. TouchKeys, like SQLite's, never moves
// a key's last_used_at backwards.
//
// Changes to keys, sessions, users and tags, and added signing keys, are announced to every node
// with NOTIFY in the same transaction (pg_listener.h has the payloads); Subscribe hears them. A
// key's delete, edit or idle revocation announces its current secret and every old one; a
// rotation, the secret it replaced. ClaimDeliveries leases rows with FOR UPDATE SKIP LOCKED, so
// nodes claiming at once never get the same delivery, and locks each webhook's row while it
// claims for it (FOR NO KEY UPDATE), so that they never have two of one webhook in flight.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "store/store.h"

namespace keyward {

struct PostgresStoreOptions {
  // Connections open at most; each call holds one for its duration.
  int pool_size = 4;
  // How long a call waits for a free connection before it fails with Unavailable.
  std::chrono::milliseconds acquire_timeout{5000};
  // Opening a connection that takes longer fails with Unavailable (the URL's connect_timeout
  // does not apply: connections are opened asynchronously under this bound).
  std::chrono::milliseconds connect_timeout{5000};
  // Statements running longer are cancelled and fail with Unavailable; 0: no limit. A URL that
  // sets `options` replaces this.
  std::chrono::milliseconds statement_timeout{30000};
  // The listener's wait between reconnection attempts doubles from min to max.
  std::chrono::milliseconds listen_retry_min{100};
  std::chrono::milliseconds listen_retry_max{2000};
};

// Connects to `url` (postgresql://user:password@host:port/database?..., or key=value pairs) and
// applies the pending migrations under an advisory lock (postgres/postgres_migrations.h), so
// nodes starting together migrate once. InvalidArgument if `url` cannot be parsed; Unavailable if
// the server cannot be reached within connect_timeout; FailedPrecondition if the schema is newer
// than this build; Internal if a migration fails.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 const PostgresStoreOptions& options = {});

}  // namespace keyward
