// The SQLite backend of Store: one database file, for a single `keyward serve` node.
//
// Thread safe: one connection, used under a mutex, so calls from several blocking threads are
// serialised (other processes may open the same file; SQLite's locks and the busy timeout
// arbitrate). Every write is committed with synchronous=FULL in WAL mode, so a method that
// returns OK has reached the disk. Errors follow store.h; in addition TouchKeys never moves a
// key's last_used_at backwards (batches from several sources may arrive out of order).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace keyward {

struct SqliteStoreOptions {
  // How long a call waits for another connection's lock before it gives up with Unavailable.
  std::chrono::milliseconds busy_timeout{5000};
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

}  // namespace keyward
