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
  // `--db`: empty for SQLite, or a postgresql:// (or postgres://, any case) URL. May hold a
  // password, so it never appears in an error or a log line.
  std::string db_url;
};

// The store, with its migrations applied. With a postgresql:// (or postgres://) URL, PostgreSQL
// (postgres/postgres_store.h, default options) and data_dir is not used; otherwise SQLite in
// data_dir. InvalidArgument for a missing data folder, an unsupported or malformed URL;
// otherwise the errors of the backend's open (Unavailable when the database cannot be reached or
// stays locked, FailedPrecondition when its schema is newer than this build, Internal for the
// rest).
Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options);

}  // namespace keyward
