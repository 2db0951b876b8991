// Backup and restore of the SQLite store (`keyward backup`, `keyward restore`), and the lock
// that keeps a restore away from a running server.
//
// A server holds an exclusive flock(2) on <data dir>/keyward.lock for as long as it runs
// (DataDirLock); a restore takes the same lock, so it never replaces a database under a running
// server, and a second server on the same folder refuses to start. A backup needs no lock: it
// reads the database with SQLite's online backup API in one read transaction, which a server
// in WAL mode keeps writing beside.
//
// Thread safe (no shared state); each call blocks on file I/O.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace keyward::sqlite {

// The SQLite store's file in a data folder: <data_dir>/keyward.db.
std::string DatabasePath(const std::string& data_dir);
// <data_dir>/keyward.lock.
std::string LockPath(const std::string& data_dir);

// An exclusive flock on <data_dir>/keyward.lock, released when destroyed (or when the process
// ends, however it ends). The file itself stays: removing it would let two processes lock two
// different files of the same name.
class DataDirLock {
 public:
  // The folder must exist. FailedPrecondition when another process holds the lock (a server
  // runs on the folder, or a restore); Internal when the file cannot be created or locked.
  // Never waits.
  static Result<DataDirLock> Acquire(const std::string& data_dir);

  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// What a backup or a restore wrote.
struct CopyInfo {
  std::int64_t bytes = 0;       // the size of the file written
  std::int64_t schema_version;  // the newest migration the database records
};

// Copies the database of `data_dir` into the file `to` with SQLite's online backup API, in one
// read transaction: the copy is the database as of one commit, with every transaction committed
// before the call began, while a server goes on writing. The copy is a single file (rollback
// journal mode, no -wal) of mode 0600, checked with PRAGMA integrity_check, written to a
// temporary file beside `to`, synced and renamed onto it.
// NotFound when the folder holds no database; AlreadyExists when `to` exists and `force` is
// false; InvalidArgument when `to` is the database itself; Unavailable when the database stays
// locked; Internal for the rest (SQLite's or the file system's error in the message).
Result<CopyInfo> Backup(const std::string& data_dir, const std::string& to, bool force);

// Checks that the SQLite file `path` is a Keyward database this build can run: PRAGMA
// integrity_check says ok, and its schema_migrations table records versions and names of this
// build's migrations (an older schema is fine: the server migrates it). Opens it read-only.
// InvalidArgument when it is not an SQLite database, fails the check or is not Keyward's;
// FailedPrecondition when a newer keyward made it. Returns the schema version it records.
Result<std::int64_t> CheckKeywardDatabase(const std::string& path);

// Replaces the database of `data_dir` (which must exist) with the backup `from`: takes the
// folder's lock (FailedPrecondition while a server runs on it), copies `from` to a temporary
// file in the folder with the backup API and checks the copy (CheckKeywardDatabase), then,
// unless `force` is false and a database exists (AlreadyExists), syncs it, removes the old
// database's -wal and -shm files (after checkpointing what they hold, should the rename never
// happen) and renames the copy onto keyward.db, mode 0600. Run as root on a folder owned by
// another user, the new file gets the folder's owner. NotFound when `from` does not exist.
Result<CopyInfo> Restore(const std::string& from, const std::string& data_dir, bool force);

}  // namespace keyward::sqlite
