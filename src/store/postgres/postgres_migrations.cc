#include "store/postgres/postgres_migrations.h"

#include <fmt/format.h>

#include <string>

#include "common/log.h"

namespace keyward::pg {
namespace {

constexpr char kLock[] = "SELECT pg_advisory_lock($1)";
constexpr char kUnlock[] = "SELECT pg_advisory_unlock($1)";
constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";
constexpr char kMaxVersion[] = "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations";
constexpr char kIsApplied[] = "SELECT 1 FROM schema_migrations WHERE version = $1";
constexpr char kRecord[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

// Holds the migration lock for its lifetime (closing the connection releases it too).
class MigrationLock {
 public:
  explicit MigrationLock(Connection& connection) : connection_(connection) {}
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;
  ~MigrationLock() {
    if (held_ && connection_.ok()) {
      Result<Rows> unlocked = connection_.Query(kUnlock, Params().Int(kMigrationLockKey));
      if (!unlocked.ok()) log::Warn("store: {}", unlocked.status().ToString());
    }
  }

  Status Take() {
    KW_RETURN_IF_ERROR(connection_.Query(kLock, Params().Int(kMigrationLockKey)).status());
    held_ = true;
    return Status::Ok();
  }

 private:
  Connection& connection_;
  bool held_ = false;
};

// Applies one migration unless it is already recorded; true if it applied it.
Result<bool> ApplyOne(Connection& connection, const Migration& migration, const Clock& clock) {
  KW_RETURN_IF_ERROR(connection.Script("BEGIN", "begin"));
  Status status = [&]() -> Status {
    KW_ASSIGN_OR_RETURN(Rows applied,
                        connection.Query(kIsApplied, Params().Int(migration.version)));
    if (applied.size() > 0) return Status::NotFound("applied");
    // The script is text compiled into this binary, so Script (several statements) is right.
    std::string sql(migration.sql);
    std::string what = fmt::format("migration V{:03}__{}", migration.version, migration.name);
    KW_RETURN_IF_ERROR(connection.Script(sql.c_str(), what));
    Params record;
    record.Int(migration.version).Text(migration.name).Int(clock.Now());
    return connection.Query(kRecord, record).status();
  }();
  if (status.code() == StatusCode::kNotFound) {  // already applied: nothing to keep
    KW_RETURN_IF_ERROR(connection.Script("ROLLBACK", "rollback"));
    return false;
  }
  if (!status.ok()) {
    if (connection.ok()) (void)connection.Script("ROLLBACK", "rollback");
    return status;
  }
  KW_RETURN_IF_ERROR(connection.Script("COMMIT", "commit"));
  return true;
}

Status ApplyLocked(Connection& connection, std::span<const Migration> migrations,
                   const Clock& clock) {
  KW_RETURN_IF_ERROR(connection.Script(kCreateTable, "create schema_migrations"));
  KW_ASSIGN_OR_RETURN(Rows max, connection.Query(kMaxVersion));
  std::int64_t recorded = max.size() == 1 ? max.Int(0, 0) : 0;
  KW_RETURN_IF_ERROR(CheckSchemaNotNewer(recorded, migrations));
  for (const Migration& migration : migrations) {
    KW_ASSIGN_OR_RETURN(bool applied, ApplyOne(connection, migration, clock));
    if (applied) {
      log::Info("store: applied migration V{:03}__{}", migration.version, migration.name);
    }
  }
  return Status::Ok();
}

}  // namespace

Status ApplyMigrations(Connection& connection, std::span<const Migration> migrations,
                       const Clock& clock) {
  MigrationLock lock(connection);
  Status status = lock.Take();
  if (status.ok()) status = ApplyLocked(connection, migrations, clock);
  // A lost connection or a timeout stays Unavailable, a schema newer than this build
  // FailedPrecondition (CheckSchemaNotNewer); any other failure is Internal.
  if (status.ok() || status.code() == StatusCode::kUnavailable ||
      status.code() == StatusCode::kFailedPrecondition || status.code() == StatusCode::kInternal) {
    return status;
  }
  return Status::Internal(status.detail().empty() ? status.message() : status.detail());
}

}  // namespace keyward::pg
