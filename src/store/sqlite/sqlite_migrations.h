// The SQLite schema migrations and the runner that applies them.
//
// Not thread safe: called once per connection, at open, before the store is shared.
#pragma once

#include <span>

#include "common/clock.h"
#include "common/status.h"
#include "store/migration.h"
#include "store/sqlite/sqlite_db.h"

namespace keyward::sqlite {

// src/store/migrations/sqlite/*.sql, ordered by version. Defined in a file generated at build
// time by embed_migrations.cmake.
std::span<const Migration> SqliteMigrations();

// Creates schema_migrations(version, name, applied_at) if needed, then applies each migration
// whose version it does not record, in order, each in its own write transaction together with
// its row in schema_migrations. Safe when several processes open the same file at once.
// FailedPrecondition, applying nothing, if the database records a version newer than the last
// one given (a newer build wrote it); Internal if a script fails; Unavailable if the database
// stays locked.
Status ApplyMigrations(Connection& connection, std::span<const Migration> migrations,
                       const Clock& clock);

}  // namespace keyward::sqlite
