// Thin RAII layer over the SQLite C API, used by the SQLite Store backend only.
//
// Connection owns one sqlite3* and a cache of its prepared statements; Statement borrows one of
// them for one use; Transaction rolls back unless committed. Values are only ever bound as
// parameters, never spliced into SQL text. Not thread safe: the owner serialises all use of a
// Connection and of everything borrowed from it (SqliteStore holds a mutex around each call).
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/status.h"

namespace keyward::sqlite {

// Creates the database file at `path` with mode 0600 whatever the umask, or, if it exists, sets
// its mode to 0600 (logging a warning if it was readable by others). Works by name on an existing
// file: closing a descriptor would drop the POSIX locks other connections of this process hold.
// Unavailable if the file cannot be created or changed, or is not a regular file.
Status CreateOwnerOnlyFile(const std::string& path);
// Sets the mode of `path` to 0600 if the file exists (for the -wal and -shm files).
Status TightenModeIfPresent(const std::string& path);

// Whether an (extended) result code and the OS error SQLite saw with it (sqlite3_system_errno)
// mean that the disk is full or over quota. The unix VFS turns ENOSPC from write() into
// SQLITE_FULL, but EDQUOT from write(), and either from growing the -shm file or from
// ftruncate(), into an SQLITE_IOERR_* code (_WRITE, _SHMSIZE, _TRUNCATE, ...), in a statement, in
// the WAL's COMMIT or in a checkpoint alike.
bool IsDiskFull(int rc, int system_errno);

// The message of a write refused for a full disk (IsDiskFull). A failed statement or COMMIT
// leaves nothing of its transaction behind (Transaction rolls back what SQLite has not), so
// "nothing was changed" holds; the service names what was not done (ExplainDiskFull).
inline constexpr char kDiskFullMessage[] =
    "the server's disk is full: nothing was changed; retry later";

// Maps an SQLite result code to a Status: a UNIQUE or PRIMARY KEY violation is AlreadyExists, a
// FOREIGN KEY violation is NotFound (the row it names, a user or a key, is absent), BUSY and
// LOCKED are Unavailable, a full disk (IsDiskFull, with `system_errno`) is InsufficientStorage,
// anything else is Internal. detail() holds `what`, SQLite's message and the OS error if any.
Status ErrorStatus(int rc, std::string_view what, std::string_view sqlite_message,
                   int system_errno = 0);

class Connection;

// Tells the operator about a full disk once, not once per refused write: a warning when a write
// first fails for lack of space, a reminder with the count of refused writes at most every
// `kRemindEvery` while they go on failing, and a line when a write succeeds again. Neither
// ever holds a value of a row. Not thread safe (used under its Connection's owner's lock).
class DiskFullLog {
 public:
  static constexpr std::chrono::seconds kRemindEvery{60};

  explicit DiskFullLog(std::string path) : path_(std::move(path)) {}
  // A write failed with `status` (InsufficientStorage).
  void Refused(const Status& status);
  // A write reached the database.
  void Wrote() {
    if (full_) Recovered();
  }

 private:
  void Recovered();

  std::string path_;  // the database file, named in the lines
  bool full_ = false;
  std::int64_t refused_ = 0;        // since the last line
  std::int64_t refused_total_ = 0;  // since the disk filled
  std::chrono::steady_clock::time_point last_line_{};
};

// A prepared statement borrowed from a Connection for one use; resets it and clears its
// bindings when destroyed. Movable, not copyable.
class Statement {
 public:
  Statement(Connection& connection, sqlite3* db, sqlite3_stmt* stmt)
      : connection_(&connection), db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept
      : connection_(other.connection_),
        db_(other.db_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        bind_error_(other.bind_error_),
        invalid_text_(other.invalid_text_) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1. Errors are reported by the next Step() or Run(): text that
  // is not valid UTF-8 or holds NUL as InvalidText() (store/rows.h).
  void BindText(int index, std::string_view value);
  void BindBlob(int index, std::string_view bytes);  // empty binds a zero-length blob, not NULL
  void BindInt(int index, std::int64_t value);
  void BindNull(int index);

  // True when a row is available, false when done.
  Result<bool> Step();
  // Steps a statement that returns no rows.
  Status Run();

  // Columns are numbered from 0.
  std::string ColumnText(int index) const;
  std::string ColumnBlob(int index) const;
  std::int64_t ColumnInt(int index) const;
  bool ColumnIsNull(int index) const;

  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  std::int64_t Changes() const { return sqlite3_changes64(db_); }

 private:
  void NoteBindError(int rc);

  Connection* connection_;  // borrowed, as db_ is
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = SQLITE_OK;
  bool invalid_text_ = false;
};

// One open database connection.
class Connection {
 public:
  // Opens an existing file read-write (never creates it: the caller does, to set its mode).
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  std::chrono::milliseconds busy_timeout);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // The cached statement for `sql`, which must be a string literal: the cache is keyed by its
  // address (equal literals may or may not share an entry; both are correct). Internal if it does
  // not compile, or if it is already in use.
  Result<Statement> Prepare(const char* sql);
  // Runs trusted, constant SQL (pragmas, migration scripts); never pass values through here.
  Status Exec(const char* sql, std::string_view what);
  // The single-value result of a constant query such as "PRAGMA journal_mode".
  Result<std::string> QueryText(const char* sql);

  sqlite3* raw() { return db_; }

  // The Status of a call that failed with `rc` (ErrorStatus, with the OS error SQLite saw);
  // a full disk is also told to the operator, once (DiskFullLog).
  Status Failure(int rc, std::string_view what, std::string_view sqlite_message);
  // Rows changed reached the database (a change committed): the disk has room again, if it was
  // full.
  void Wrote() { disk_full_log_.Wrote(); }

 private:
  struct StatementDeleter {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

  Connection(sqlite3* db, std::string path) : db_(db), disk_full_log_(std::move(path)) {}

  sqlite3* db_;  // owned; closed in the destructor after the statements are finalised
  DiskFullLog disk_full_log_;
  std::unordered_map<const char*, StatementPtr> statements_;
};

// BEGIN ... COMMIT; rolls back in the destructor unless Commit() succeeded.
class Transaction {
 public:
  enum class Mode {
    kRead,   // BEGIN (deferred): a consistent snapshot for several reads
    kWrite,  // BEGIN IMMEDIATE: takes the write lock first, so later statements cannot get BUSY
  };

  explicit Transaction(Connection& connection) : connection_(connection) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();  // NOLINT(bugprone-exception-escape): see sqlite_db.cc

  Status Begin(Mode mode);
  // After a failed COMMIT the transaction may still be open (SQLite keeps it on BUSY and may
  // on a full disk); the destructor then rolls it back, so a failed write leaves nothing.
  Status Commit();

 private:
  Connection& connection_;
  bool open_ = false;
  std::int64_t changes_at_begin_ = 0;  // sqlite3_total_changes64 when it began
};

}  // namespace keyward::sqlite
