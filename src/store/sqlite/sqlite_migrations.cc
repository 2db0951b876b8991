#include "store/sqlite/sqlite_migrations.h"

#include <fmt/format.h>

#include <string>

#include "common/log.h"

namespace keyward::sqlite {
namespace {

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL)";
constexpr char kMaxVersion[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr char kIsApplied[] = "SELECT 1 FROM schema_migrations WHERE version = ?1";
constexpr char kRecord[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)";

Result<std::int64_t> MaxVersion(Connection& connection) {
  KW_ASSIGN_OR_RETURN(Statement statement, connection.Prepare(kMaxVersion));
  KW_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return Status::Internal("schema_migrations: no result");
  return statement.ColumnInt(0);
}

// Applies one migration unless it is already recorded; true if it applied it.
Result<bool> ApplyOne(Connection& connection, const Migration& migration, const Clock& clock) {
  Transaction transaction(connection);
  // Taking the write lock before the check makes check-and-apply atomic across processes.
  KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
  {
    KW_ASSIGN_OR_RETURN(Statement check, connection.Prepare(kIsApplied));
    check.BindInt(1, migration.version);
    KW_ASSIGN_OR_RETURN(bool applied, check.Step());
    if (applied) return false;  // the destructor ends the (empty) transaction
  }
  // The script is text compiled into this binary, so Exec (not a prepared statement) is right.
  std::string sql(migration.sql);
  std::string what = fmt::format("migration V{:03}__{}", migration.version, migration.name);
  KW_RETURN_IF_ERROR(connection.Exec(sql.c_str(), what));
  {
    KW_ASSIGN_OR_RETURN(Statement record, connection.Prepare(kRecord));
    record.BindInt(1, migration.version);
    record.BindText(2, migration.name);
    record.BindInt(3, clock.Now());
    KW_RETURN_IF_ERROR(record.Run());
  }
  KW_RETURN_IF_ERROR(transaction.Commit());
  return true;
}

}  // namespace

Status ApplyMigrations(Connection& connection, std::span<const Migration> migrations,
                       const Clock& clock) {
  KW_RETURN_IF_ERROR(connection.Exec(kCreateTable, "create schema_migrations"));
  KW_ASSIGN_OR_RETURN(std::int64_t recorded, MaxVersion(connection));
  KW_RETURN_IF_ERROR(CheckSchemaNotNewer(recorded, migrations));
  for (const Migration& migration : migrations) {
    // Statements that fail (any code) are reported as Internal except a busy database.
    Result<bool> applied = ApplyOne(connection, migration, clock);
    if (!applied.ok()) {
      Status status = applied.status();
      if (status.code() == StatusCode::kUnavailable) return status;
      return Status::Internal(status.detail().empty() ? status.message() : status.detail());
    }
    if (*applied) {
      log::Info("store: applied migration V{:03}__{}", migration.version, migration.name);
    }
  }
  return Status::Ok();
}

}  // namespace keyward::sqlite
