// Opens the Store a server is configured for: SQLite in the data folder, or PostgreSQL.
//
// Thread safe (no shared state). The returned store is thread safe.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "store/store.h"

namespace keyward {

struct StoreOptions {
  // The data folder (`--data-dir`). With an empty db_url the database is <data_dir>/keyward.db.
  // The folder must exist: the caller creates it, readable by its owner only (mode 0700).
  std::string data_dir;
  // `--db`: empty for SQLite, or a postgresql:// (or postgres://) URL. May hold a password, so
  // it never appears in an error or a log line.
  std::string db_url;
};

// The store, with its migrations applied. InvalidArgument for a missing data folder, an
// unsupported URL or (for now) any PostgreSQL URL; otherwise the errors of the backend's open
// (Unavailable when the database cannot be opened or stays locked, Internal for the rest).
Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options);

}  // namespace keyward
