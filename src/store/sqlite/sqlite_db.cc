#include "store/sqlite/sqlite_db.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/log.h"
#include "core/user.h"
#include "store/rows.h"

namespace keyward::sqlite {
namespace {

Status FileError(std::string_view what, const std::string& path) {
  return Status::Unavailable(
      "cannot open the database",
      fmt::format("{} {}: {}", what, path,
                  std::error_code(errno, std::generic_category()).message()));
}

}  // namespace

Status CreateOwnerOnlyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    // A file this call created, so no connection holds a lock on it yet.
    int rc = ::fchmod(fd, 0600);  // the umask may have removed owner bits
    ::close(fd);
    if (rc != 0) return FileError("chmod", path);
    return Status::Ok();
  }
  if (errno != EEXIST) return FileError("create", path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return FileError("stat", path);
  if (!S_ISREG(st.st_mode)) {
    return Status::Unavailable("cannot open the database", path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    log::Warn("store: {} was readable by others; setting its mode to 0600", path);
  }
  return TightenModeIfPresent(path);
}

Status TightenModeIfPresent(const std::string& path) {
  if (::chmod(path.c_str(), 0600) != 0 && errno != ENOENT) return FileError("chmod", path);
  return Status::Ok();
}

bool IsDiskFull(int rc, int system_errno) {
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_FULL:
      return true;
    case SQLITE_IOERR:
      return system_errno == ENOSPC || system_errno == EDQUOT;
    default:
      return false;
  }
}

Status ErrorStatus(int rc, std::string_view what, std::string_view sqlite_message,
                   int system_errno) {
  std::string detail = fmt::format("{}: {} ({})", what, sqlite_message, rc);
  if (system_errno != 0) {
    detail +=
        fmt::format(" [{}]", std::error_code(system_errno, std::generic_category()).message());
  }
  if (IsDiskFull(rc, system_errno)) {
    return Status::InsufficientStorage(kDiskFullMessage, std::move(detail));
  }
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return {StatusCode::kAlreadyExists, "already exists", std::move(detail)};
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return {StatusCode::kNotFound, "user not found", std::move(detail)};
    default:
      break;
  }
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable("the database is busy, try again", std::move(detail));
    default:
      return Status::Internal(std::move(detail));
  }
}

// --- DiskFullLog ---

void DiskFullLog::Refused(const Status& status) {
  ++refused_;
  ++refused_total_;
  const auto now = std::chrono::steady_clock::now();
  if (!full_) {
    full_ = true;
    last_line_ = now;
    refused_ = 0;
    log::Warn(
        "store: the disk holding {} is full: writes (new keys, deletions, sign-ins, audit "
        "records) are refused (the API answers 507) until space is freed, then succeed again "
        "without a restart; stored keys still verify ({})",
        path_, status.detail());
    return;
  }
  if (now - last_line_ < kRemindEvery) return;
  log::Warn("store: the disk holding {} is still full: {} writes refused in the last {} s ({})",
            path_, refused_,
            std::chrono::duration_cast<std::chrono::seconds>(now - last_line_).count(),
            status.detail());
  last_line_ = now;
  refused_ = 0;
}

void DiskFullLog::Recovered() {
  log::Info(
      "store: {} is written again: the disk has room; {} writes were refused while it was full",
      path_, refused_total_);
  full_ = false;
  refused_ = 0;
  refused_total_ = 0;
}

// --- Statement ---

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::NoteBindError(int rc) {
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void Statement::BindText(int index, std::string_view value) {
  if (!IsUtf8Text(value)) invalid_text_ = true;
  // A non-null pointer even for an empty view, so the value is '' and never NULL.
  const char* data = value.empty() ? "" : value.data();
  NoteBindError(
      sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Statement::BindBlob(int index, std::string_view bytes) {
  if (bytes.empty()) {
    NoteBindError(sqlite3_bind_zeroblob(stmt_, index, 0));
  } else {
    NoteBindError(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
  }
}

void Statement::BindInt(int index, std::int64_t value) {
  NoteBindError(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::BindNull(int index) { NoteBindError(sqlite3_bind_null(stmt_, index)); }

Result<bool> Statement::Step() {
  if (invalid_text_) return InvalidText(fmt::format("bind: {}", sqlite3_sql(stmt_)));
  if (bind_error_ != SQLITE_OK) {
    return ErrorStatus(bind_error_, "bind", sqlite3_errstr(bind_error_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    // A change outside BEGIN commits as its statement completes: rows changed reached the file.
    // (A statement that changed none wrote nothing, so it says nothing about the disk; COMMIT
    // counts as read-only here, and Transaction::Commit reports it.)
    if (!sqlite3_stmt_readonly(stmt_) && sqlite3_get_autocommit(db_) != 0 &&
        sqlite3_changes64(db_) > 0) {
      connection_->Wrote();
    }
    return false;
  }
  return connection_->Failure(rc, sqlite3_sql(stmt_), sqlite3_errmsg(db_));
}

Status Statement::Run() {
  KW_ASSIGN_OR_RETURN(bool row, Step());
  if (row) return Status::Internal(fmt::format("{}: returned a row", sqlite3_sql(stmt_)));
  return Status::Ok();
}

std::string Statement::ColumnText(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);  // before _bytes, as SQLite asks
  int size = sqlite3_column_bytes(stmt_, index);
  if (text == nullptr || size <= 0) return {};
  return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)};
}

std::string Statement::ColumnBlob(int index) const {
  const void* data = sqlite3_column_blob(stmt_, index);  // null for a zero-length blob
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr || size <= 0) return {};
  return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

std::int64_t Statement::ColumnInt(int index) const { return sqlite3_column_int64(stmt_, index); }

bool Statement::ColumnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

// --- Connection ---

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     std::chrono::milliseconds busy_timeout) {
  sqlite3* raw = nullptr;
  // NOMUTEX: the owner serialises access. No URI filenames, and never SQLITE_OPEN_CREATE.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // Even on failure SQLite usually returns a handle that must be closed.
  std::unique_ptr<Connection> connection(new Connection(raw, path));
  if (rc != SQLITE_OK) {
    std::string message = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return Status::Unavailable("cannot open the database",
                               fmt::format("{}: {} ({})", path, message, rc));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
  // Refuse writes that could corrupt the file even from SQL (e.g. writable_schema).
  sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  return connection;
}

Connection::~Connection() {
  statements_.clear();  // finalise every statement before closing
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Result<Statement> Connection::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      // Not ErrorStatus: a statement that does not compile is a bug or a broken schema, even
      // when the cause is a constraint-like code.
      return Status::Internal(fmt::format("prepare {}: {} ({})", sql, sqlite3_errmsg(db_), rc));
    }
    it = statements_.emplace(sql, StatementPtr(stmt)).first;
  }
  if (sqlite3_stmt_busy(it->second.get())) {
    return Status::Internal(fmt::format("statement already in use: {}", sql));
  }
  return Statement(*this, db_, it->second.get());
}

Status Connection::Failure(int rc, std::string_view what, std::string_view sqlite_message) {
  Status status = ErrorStatus(rc, what, sqlite_message, sqlite3_system_errno(db_));
  if (status.code() == StatusCode::kInsufficientStorage) disk_full_log_.Refused(status);
  return status;
}

Status Connection::Exec(const char* sql, std::string_view what) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = error != nullptr ? error : sqlite3_errmsg(db_);
  sqlite3_free(error);
  return Failure(rc, what, message);
}

Result<std::string> Connection::QueryText(const char* sql) {
  KW_ASSIGN_OR_RETURN(Statement statement, Prepare(sql));
  KW_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return Status::Internal(fmt::format("{}: no result", sql));
  return statement.ColumnText(0);
}

// --- Transaction ---

namespace {

// Runs one of the cached transaction-control statements.
Status RunControl(Connection& connection, const char* sql) {
  KW_ASSIGN_OR_RETURN(Statement statement, connection.Prepare(sql));
  return statement.Run();
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only the log line can throw (out of memory).
Transaction::~Transaction() {
  if (!open_) return;
  // An I/O or memory error may already have rolled back; ROLLBACK would then fail.
  if (sqlite3_get_autocommit(connection_.raw()) != 0) return;
  Status status = RunControl(connection_, "ROLLBACK");
  if (!status.ok()) log::Error("sqlite rollback failed: {}", status.detail());
}

Status Transaction::Begin(Mode mode) {
  KW_RETURN_IF_ERROR(
      RunControl(connection_, mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  open_ = true;
  changes_at_begin_ = sqlite3_total_changes64(connection_.raw());
  return Status::Ok();
}

Status Transaction::Commit() {
  KW_RETURN_IF_ERROR(RunControl(connection_, "COMMIT"));
  open_ = false;
  // Only a transaction that changed rows wrote to the file: one that changed none (an UPDATE
  // that matched nothing) commits on a full disk too, and must not be taken for room again.
  if (sqlite3_total_changes64(connection_.raw()) != changes_at_begin_) connection_.Wrote();
  return Status::Ok();
}

}  // namespace keyward::sqlite
