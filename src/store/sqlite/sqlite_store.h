// The SQLite backend of Store: one database file, for a single `keyward serve` node.
//
// Thread safe: one connection for writes (and most reads), used under a mutex, so calls from
// several blocking threads are serialised, and a second, read-only one for the lookups that
// verify a credential (FindKeyByHash, FindSessionByHash, GetUser), which in WAL mode never wait
// for the writer (other processes may open the same file; SQLite's locks and the busy timeout
// arbitrate). Every write is committed with synchronous=FULL in WAL mode, so a method that
// returns OK has reached the disk — except TouchKeys and RecordUsage, bookkeeping committed at
// synchronous=NORMAL: they survive the process being killed, and a power cut loses what they
// wrote since the last FULL commit. Key creates and audit records are group-committed
// (sqlite/group_commit.h): those that queue up while one transaction is being written share the
// next one, each in a SAVEPOINT of its own, so each still gets its own outcome (AlreadyExists,
// NotFound, ...); a failed COMMIT fails every write it held, and none of them is stored. Errors
// follow store.h; in addition TouchKeys never moves a key's last_used_at backwards (batches from
// several sources may arrive out of order).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace keyward {

struct SqliteStoreOptions {
  // How long a call waits for another connection's lock before it gives up with Unavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // The most key creates and audit records one transaction holds (group commit). 1 writes each
  // in a transaction of its own, as before issue 19: for tests and benchmarks that compare them.
  std::size_t creates_per_commit = 64;
};

// Opens the database at `path`, creating the file readable by its owner only (mode 0600, like
// its -wal and -shm files; an existing file is set to 0600 too). Its directory must exist.
// Applies the pending migrations (sqlite/sqlite_migrations.h).
// Unavailable if the file cannot be opened or stays locked; FailedPrecondition if the schema is
// newer than this build; Internal if a migration fails.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& options = {});

// For tests and diagnostics: the value of `PRAGMA <name>` on the store's own connection, for
// the names journal_mode, synchronous, foreign_keys and busy_timeout. InvalidArgument for any
// other name or a store that is not an SQLite store.
Result<std::string> SqlitePragmaForTesting(Store& store, std::string_view name);

// For tests and benchmarks: what the store's group commit of key creates has done (batches
// written, creates in them, the largest, creates queued now). InvalidArgument for a store that
// is not an SQLite store; all zero when creates_per_commit is 1.
struct SqliteCreateBatchStats {
  std::int64_t batches = 0;
  std::int64_t creates = 0;
  std::int64_t largest_batch = 0;
  std::int64_t queued = 0;
};
Result<SqliteCreateBatchStats> SqliteCreateBatchStatsForTesting(Store& store);

}  // namespace keyward
