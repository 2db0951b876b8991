// The PostgreSQL schema migrations and the runner that applies them.
//
// Not thread safe per connection; any number of nodes may run ApplyMigrations on the same
// database at once (an advisory lock serialises them).
#pragma once

#include <cstdint>
#include <span>

#include "common/clock.h"
#include "common/status.h"
#include "store/migration.h"
#include "store/postgres/pg_connection.h"

namespace keyward::pg {

// The key of the session-level advisory lock held while migrating ("keyward" in ASCII).
inline constexpr std::int64_t kMigrationLockKey = 0x6b657977617264;

// src/store/migrations/postgres/*.sql, ordered by version. Defined in a file generated at build
// time by embed_migrations.cmake.
std::span<const Migration> PostgresMigrations();

// Takes pg_advisory_lock(kMigrationLockKey) on `connection` (waiting for a node that migrates at
// the same time), creates schema_migrations(version, name, applied_at) if needed, applies each
// migration whose version it does not record, in order, each in its own transaction together
// with its row in schema_migrations, then releases the lock. So nodes starting together migrate
// exactly once. Unavailable if the connection is lost or the lock wait times out
// (statement_timeout); FailedPrecondition, applying nothing, if the database records a version
// newer than the last one given (a newer build wrote it); Internal if a script fails.
Status ApplyMigrations(Connection& connection, std::span<const Migration> migrations,
                       const Clock& clock);

}  // namespace keyward::pg
