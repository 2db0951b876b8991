#include "store/sqlite/backup.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_migrations.h"

namespace keyward::sqlite {
namespace {

namespace fs = std::filesystem;

// How long a copy waits for a source that stays locked (a server recovering its WAL).
constexpr auto kBusyWait = std::chrono::seconds(30);

std::string ErrnoText() { return std::generic_category().message(errno); }

Status CopyFileError(std::string_view what, const std::string& path) {
  return Status::Internal(fmt::format("cannot {} {}: {}", what, path, ErrnoText()));
}

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Handle = std::unique_ptr<sqlite3, Closer>;

// A status for SQLite's `rc` while working on `path`: a file that is not a database, or a
// damaged one, is the caller's argument; a locked one may be retried.
Status SqliteError(int rc, sqlite3* db, const std::string& path) {
  std::string message =
      fmt::format("{}: {}", path, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      return Status::InvalidArgument(path + " is not an SQLite database");
    case SQLITE_CORRUPT:
      return Status::InvalidArgument(message + " (the file is damaged)");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable("the database stays locked, try again", message);
    default:
      return Status::Internal(message);
  }
}

// Opens `path`, never creating it.
Result<Handle> Open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_EXRESCODE, nullptr);
  Handle db(raw);
  if (rc != SQLITE_OK) return SqliteError(rc, raw, path);
  sqlite3_busy_timeout(raw, static_cast<int>(std::chrono::milliseconds(kBusyWait).count()));
  return db;
}

// Runs constant `sql` on `db` and returns the first column of every row.
Result<std::vector<std::string>> Query(sqlite3* db, const char* sql, const std::string& path) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  if (rc != SQLITE_OK) return SqliteError(rc, db, path);
  std::vector<std::string> rows;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(raw, 0);
    rows.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
  }
  if (rc != SQLITE_DONE) return SqliteError(rc, db, path);
  return rows;
}

// Copies the database `from` into the existing file `to` (empty, or a database to replace) in
// one read transaction of `from`, and leaves `to` in rollback journal mode: one file, no -wal.
Status CopyDatabase(const std::string& from, const std::string& to) {
  KW_ASSIGN_OR_RETURN(Handle src, Open(from, SQLITE_OPEN_READONLY));
  KW_ASSIGN_OR_RETURN(Handle dst, Open(to, SQLITE_OPEN_READWRITE));
  sqlite3_backup* backup = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
  if (backup == nullptr) return SqliteError(sqlite3_errcode(dst.get()), dst.get(), to);
  // -1: every page in one step, so in one read transaction of the source.
  const auto deadline = std::chrono::steady_clock::now() + kBusyWait;
  int rc = SQLITE_OK;
  while (true) {
    rc = sqlite3_backup_step(backup, -1);
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || std::chrono::steady_clock::now() > deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    // The step's own code: the source's errors (not a database, damaged) are about `from`.
    return SqliteError(rc, nullptr, from);
  }
  KW_ASSIGN_OR_RETURN(std::vector<std::string> mode,
                      Query(dst.get(), "PRAGMA journal_mode = DELETE", to));
  if (mode.empty() || mode.front() != "delete") {
    return Status::Internal(to + ": cannot leave WAL mode");
  }
  return Status::Ok();
}

// Writes `path`'s data to the disk.
Status SyncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CopyFileError("open", path);
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return CopyFileError("sync", path);
  return Status::Ok();
}

// Makes a rename in `dir` durable.
Status SyncFolder(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return CopyFileError("open", dir);
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return CopyFileError("sync", dir);
  return Status::Ok();
}

std::string FolderOf(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// A new empty file "<base>XXXXXX" of mode 0600, removed when this is destroyed unless Keep().
class TempFile {
 public:
  static Result<TempFile> Create(const std::string& base) {
    std::string name = base + "XXXXXX";
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);  // mode 0600
    if (fd < 0) return CopyFileError("create a file beside", base);
    ::close(fd);
    return TempFile(std::move(name));
  }
  TempFile(TempFile&& other) noexcept : path_(std::exchange(other.path_, "")) {}
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (path_.empty()) return;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((path_ + suffix).c_str());
  }
  const std::string& path() const { return path_; }
  void Keep() { path_.clear(); }

 private:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Run as root on a folder another user owns (`keyward restore` by an operator on the
// service's folder), the file `fd` gets the folder's owner, or the server could not open it.
Status GiveToFolderOwner(int fd, const std::string& dir, const std::string& path) {
  if (::geteuid() != 0) return Status::Ok();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return CopyFileError("stat", dir);
  if (st.st_uid == 0) return Status::Ok();
  if (::fchown(fd, st.st_uid, st.st_gid) != 0) return CopyFileError("change the owner of", path);
  return Status::Ok();
}

Status GiveToFolderOwner(const std::string& path, const std::string& dir) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return CopyFileError("open", path);
  Status status = GiveToFolderOwner(fd, dir, path);
  ::close(fd);
  return status;
}

Result<std::int64_t> FileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return CopyFileError("stat", path);
  return static_cast<std::int64_t>(st.st_size);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Whether `a` and `b` name the same existing file.
bool SameFile(const std::string& a, const std::string& b) {
  std::error_code error;
  return fs::equivalent(a, b, error) && !error;
}

// Moves what the old database's WAL holds into it, so that removing the WAL loses nothing
// should the rename that follows never happen. Best effort: a damaged old database is what a
// restore replaces.
void CheckpointQuietly(const std::string& db_path) {
  Result<Handle> db = Open(db_path, SQLITE_OPEN_READWRITE);
  if (!db.ok()) return;
  sqlite3_busy_timeout(db->get(), 1000);
  (void)Query(db->get(), "PRAGMA wal_checkpoint(TRUNCATE)", db_path);
}

}  // namespace

std::string DatabasePath(const std::string& data_dir) {
  return (fs::path(data_dir) / "keyward.db").string();
}

std::string LockPath(const std::string& data_dir) {
  return (fs::path(data_dir) / "keyward.lock").string();
}

// --- DataDirLock ---

Result<DataDirLock> DataDirLock::Acquire(const std::string& data_dir) {
  const std::string path = LockPath(data_dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return CopyFileError("open the lock file", path);
  DataDirLock lock(fd);
  int rc = 0;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK) {
      return Status::FailedPrecondition(
          fmt::format("another keyward process is using the data folder {} (it holds {}): a "
                      "server runs on it, or a restore",
                      data_dir, path));
    }
    return CopyFileError("lock", path);
  }
  KW_RETURN_IF_ERROR(GiveToFolderOwner(fd, data_dir, path));
  return lock;
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

// --- Checks, backup, restore ---

Result<std::int64_t> CheckKeywardDatabase(const std::string& path) {
  KW_ASSIGN_OR_RETURN(Handle db, Open(path, SQLITE_OPEN_READONLY));
  KW_ASSIGN_OR_RETURN(std::vector<std::string> integrity,
                      Query(db.get(), "PRAGMA integrity_check(10)", path));
  if (integrity.size() != 1 || integrity.front() != "ok") {
    return Status::InvalidArgument(
        fmt::format("{} fails PRAGMA integrity_check: {}", path,
                    integrity.empty() ? std::string("no answer") : integrity.front()));
  }
  KW_ASSIGN_OR_RETURN(
      std::vector<std::string> table,
      Query(db.get(),
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            path));
  const std::string not_keyward = path + " is an SQLite database but not a Keyward one";
  if (table.empty()) return Status::InvalidArgument(not_keyward + " (no schema_migrations)");
  KW_ASSIGN_OR_RETURN(std::vector<std::string> recorded,
                      Query(db.get(),
                            "SELECT printf('%d %s', version, name) FROM schema_migrations "
                            "ORDER BY version",
                            path));
  if (recorded.empty()) return Status::InvalidArgument(not_keyward + " (no migration recorded)");
  const std::span<const Migration> known = SqliteMigrations();
  std::int64_t newest = 0;
  for (const std::string& row : recorded) {
    const std::size_t space = row.find(' ');
    const std::int64_t version = std::strtoll(row.c_str(), nullptr, 10);
    const std::string name = row.substr(space + 1);
    if (version > static_cast<std::int64_t>(known.size())) {
      return Status::FailedPrecondition(fmt::format(
          "{} has schema version {} but this build knows only up to {}; restore it with a newer "
          "keyward",
          path, version, known.size()));
    }
    if (version < 1 || known[static_cast<std::size_t>(version - 1)].name != name) {
      return Status::InvalidArgument(
          fmt::format("{} (its schema_migrations records V{:03}__{}, which Keyward never had)",
                      not_keyward, version, name));
    }
    newest = version;
  }
  return newest;
}

Result<CopyInfo> Backup(const std::string& data_dir, const std::string& to, bool force) {
  const std::string db = DatabasePath(data_dir);
  if (!Exists(db)) {
    return Status::NotFound(
        fmt::format("no Keyward database in {} ({} does not exist)", data_dir, db));
  }
  if (SameFile(db, to)) return Status::InvalidArgument(to + " is the database itself");
  if (!force && Exists(to)) {
    return Status::AlreadyExists(to + " exists; give --force to replace it");
  }
  KW_ASSIGN_OR_RETURN(TempFile temp, TempFile::Create(to + ".tmp-"));
  KW_RETURN_IF_ERROR(CopyDatabase(db, temp.path()));
  KW_ASSIGN_OR_RETURN(const std::int64_t version, CheckKeywardDatabase(temp.path()));
  KW_RETURN_IF_ERROR(SyncFile(temp.path()));
  if (force) {
    if (::rename(temp.path().c_str(), to.c_str()) != 0) return CopyFileError("write", to);
  } else if (::renameat2(AT_FDCWD, temp.path().c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) !=
             0) {
    if (errno == EEXIST) return Status::AlreadyExists(to + " exists; give --force to replace it");
    return CopyFileError("write", to);
  }
  temp.Keep();
  KW_RETURN_IF_ERROR(SyncFolder(FolderOf(to)));
  KW_ASSIGN_OR_RETURN(const std::int64_t bytes, FileSize(to));
  return CopyInfo{.bytes = bytes, .schema_version = version};
}

Result<CopyInfo> Restore(const std::string& from, const std::string& data_dir, bool force) {
  if (!Exists(from)) return Status::NotFound(fmt::format("{} does not exist", from));
  KW_ASSIGN_OR_RETURN(DataDirLock lock, DataDirLock::Acquire(data_dir));
  const std::string db = DatabasePath(data_dir);
  if (SameFile(db, from)) return Status::InvalidArgument(from + " is the database itself");
  const bool replacing = Exists(db);
  if (replacing && !force) {
    return Status::AlreadyExists(
        fmt::format("{} already holds a database ({}); give --force to replace it", data_dir, db));
  }
  KW_ASSIGN_OR_RETURN(TempFile temp, TempFile::Create(db + ".restore-"));
  KW_RETURN_IF_ERROR(CopyDatabase(from, temp.path()));
  KW_ASSIGN_OR_RETURN(const std::int64_t version, CheckKeywardDatabase(temp.path()));
  KW_RETURN_IF_ERROR(GiveToFolderOwner(temp.path(), data_dir));
  KW_RETURN_IF_ERROR(SyncFile(temp.path()));
  if (replacing) CheckpointQuietly(db);
  // A WAL or journal left beside the new file would be replayed into it: gone first.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    const std::string stale = db + suffix;
    if (::unlink(stale.c_str()) != 0 && errno != ENOENT) return CopyFileError("remove", stale);
  }
  if (::rename(temp.path().c_str(), db.c_str()) != 0) return CopyFileError("write", db);
  temp.Keep();
  KW_RETURN_IF_ERROR(SyncFolder(data_dir));
  KW_ASSIGN_OR_RETURN(const std::int64_t bytes, FileSize(db));
  return CopyInfo{.bytes = bytes, .schema_version = version};
}

}  // namespace keyward::sqlite
