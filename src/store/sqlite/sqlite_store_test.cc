// SQLite-only behaviour: file modes, pragmas, migrations, locking and threads. The Store
// contract itself is tested by store_conformance_test.cc.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_migrations.h"
#include "store/store_conformance.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::MakeUser;

// A second, independent connection to the same file, as another process would have.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() { sqlite3_close_v2(db_); }

  void Exec(const char* sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }
  // The rows of `sql`, each as its columns joined by '|'.
  std::vector<std::string> Query(const char* sql) {
    std::vector<std::string> rows;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK) << sql;
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const auto* text = sqlite3_column_text(stmt, i);
        row += (i > 0 ? "|" : "") + std::string(text ? reinterpret_cast<const char*>(text) : "");
      }
      rows.push_back(row);
    }
    sqlite3_finalize(stmt);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Sets the umask for one scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(SqliteStoreTest, DatabaseWalAndShmAreOwnerOnlyWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    SCOPED_TRACE(mask);
    TempDir dir;
    const std::string path = dir.File("keyward.db");
    ScopedUmask umask(mask);
    KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
    KW_ASSERT_OK(store->CreateUser(MakeUser("alice")));  // writes to the WAL
    EXPECT_EQ(ModeOf(path), 0600u);
    EXPECT_EQ(ModeOf(path + "-wal"), 0600u);
    EXPECT_EQ(ModeOf(path + "-shm"), 0600u);
  }
}

TEST(SqliteStoreTest, ExistingWideFilesAreTightenedTo0600) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  { KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path)); }
  // Another connection keeps a non-empty WAL open while the files are made world-readable.
  RawDb other(path);
  other.Exec("INSERT INTO users (id, name, type, created_at) VALUES ('a', 'a', 'person', 1)");
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    ASSERT_EQ(::chmod(file.c_str(), 0644), 0) << file;
  }
  KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(path + "-wal"), 0600u);
  EXPECT_EQ(ModeOf(path + "-shm"), 0600u);
}

TEST(SqliteStoreTest, ConnectionUsesWalFullSyncForeignKeysAndBusyTimeout) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
  auto pragma = [&](std::string_view name) {
    Result<std::string> value = SqlitePragmaForTesting(*store, name);
    return value.ok() ? *value : value.status().ToString();
  };
  EXPECT_EQ(pragma("journal_mode"), "wal");
  EXPECT_EQ(pragma("synchronous"), "2");  // FULL
  EXPECT_EQ(pragma("foreign_keys"), "1");
  EXPECT_EQ(pragma("busy_timeout"), "5000");
  KW_EXPECT_CODE(SqlitePragmaForTesting(*store, "writable_schema"), StatusCode::kInvalidArgument);
  // WAL is a property of the file: another connection sees it too.
  RawDb other(path);
  EXPECT_EQ(other.Query("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
}

TEST(SqliteStoreTest, EmbeddedMigrationsStartAtOneAndIncrease) {
  std::span<const Migration> migrations = sqlite::SqliteMigrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations[0].version, 1);
  EXPECT_EQ(migrations[0].name, "init");
  EXPECT_NE(migrations[0].sql.find("CREATE TABLE users"), std::string_view::npos);
  for (std::size_t i = 1; i < migrations.size(); ++i) {
    EXPECT_GT(migrations[i].version, migrations[i - 1].version);
    EXPECT_FALSE(migrations[i].name.empty());
  }
}

TEST(SqliteStoreTest, MigrationsAreRecordedOnceAndNotReappliedOnReopen) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  {
    KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
    KW_ASSERT_OK(store->CreateUser(MakeUser("alice")));
  }
  std::vector<std::string> expected;
  for (const Migration& m : sqlite::SqliteMigrations()) {
    expected.push_back(std::to_string(m.version) + "|" + std::string(m.name) + "|42");
  }
  {
    RawDb raw(path);
    EXPECT_EQ(raw.Query("SELECT COUNT(*) FROM schema_migrations WHERE applied_at > 0"),
              std::vector<std::string>{std::to_string(expected.size())});
    raw.Exec("UPDATE schema_migrations SET applied_at = 42");  // a mark a re-apply would change
  }
  KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
  KW_EXPECT_OK(store->GetUser("alice").status());  // the data survived
  RawDb raw(path);
  EXPECT_EQ(raw.Query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version"),
            expected);
}

// The key flags are 0 or 1 in the file itself (V005, V007), whatever writes it.
TEST(SqliteStoreTest, KeyFlagsAreZeroOrOne) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
  KW_ASSERT_OK(store->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store->CreateKey(store_test::MakeKey("alice", "ci", 1)));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  for (const char* column : {"canary", "disabled", "revoke_on_reuse"}) {
    const std::string sql = std::string("UPDATE api_keys SET ") + column + " = 2";
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_CONSTRAINT)
        << column;
  }
  sqlite3_close_v2(db);
}

TEST(SqliteStoreTest, RunnerAppliesOnlyPendingMigrationsAndRollsBackAFailedOne) {
  TempDir dir;
  const std::string path = dir.File("test.db");
  { KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path)); }  // creates the file
  KW_ASSERT_OK_AND_ASSIGN(auto db, sqlite::Connection::Open(path, std::chrono::seconds(1)));
  const ManualClock clock(7);
  const Migration one{1000, "one", "CREATE TABLE one (x INTEGER)"};
  const Migration two{1001, "two", "CREATE TABLE two (x INTEGER); INSERT INTO two VALUES (2)"};
  const Migration bad{1002, "bad",
                      "CREATE TABLE three (x INTEGER); INSERT INTO nowhere VALUES (1)"};
  const Migration first[] = {one};
  const Migration all[] = {one, two, bad};
  KW_ASSERT_OK(sqlite::ApplyMigrations(*db, first, clock));
  Status failed = sqlite::ApplyMigrations(*db, all, clock);
  EXPECT_THAT(failed, StatusIs(StatusCode::kInternal));
  EXPECT_NE(failed.detail().find("V1002__bad"), std::string::npos) << failed.detail();

  RawDb raw(path);
  EXPECT_EQ(
      raw.Query("SELECT version, name, applied_at FROM schema_migrations WHERE version >= 1000"),
      (std::vector<std::string>{"1000|one|7", "1001|two|7"}));
  EXPECT_EQ(raw.Query("SELECT x FROM two"), std::vector<std::string>{"2"});
  EXPECT_TRUE(raw.Query("SELECT name FROM sqlite_schema WHERE name = 'three'").empty());
}

// Not Internal: the operator is told which versions disagree and what to do (keyward serve exits
// 2 with this line: tests/integration/upgrade_test.cc).
TEST(SqliteStoreTest, DatabaseFromANewerBuildIsRefused) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  { KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path)); }
  RawDb(path).Exec("INSERT INTO schema_migrations VALUES (999999, 'future', 1)");
  Result<std::unique_ptr<Store>> refused = OpenSqliteStore(path);
  KW_EXPECT_CODE(refused, StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "the database has schema version 999999 but this keyward knows only up to " +
                std::to_string(sqlite::SqliteMigrations().back().version) +
                "; use a newer keyward");
}

// Issue 19: the bookkeeping batches commit at synchronous=NORMAL; FULL is back afterwards, so
// every other commit still waits for the disk — also after a batch that failed.
TEST(SqliteStoreTest, BookkeepingBatchesLeaveTheConnectionAtFullSync) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  KW_ASSERT_OK_AND_ASSIGN(auto store,
                          OpenSqliteStore(path, {.busy_timeout = std::chrono::milliseconds(50)}));
  KW_ASSERT_OK(store->CreateUser(MakeUser("alice")));
  const KeyRecord key = store_test::MakeKey("alice", "ci", 1);
  KW_ASSERT_OK(store->CreateKey(key));
  KW_ASSERT_OK(store->TouchKeys({{key.hash, 1'700'000'000}}));
  EXPECT_EQ(SqlitePragmaForTesting(*store, "synchronous").value(), "2");  // FULL
  KW_ASSERT_OK(store->RecordUsage({UsageDelta{.hash = key.hash, .hour_start = 1'699'999'200}}));
  EXPECT_EQ(SqlitePragmaForTesting(*store, "synchronous").value(), "2");
  RawDb other(path);
  other.Exec("BEGIN IMMEDIATE");  // holds the write lock: the next batch fails (busy)
  KW_EXPECT_CODE(store->TouchKeys({{key.hash, 1'700'000'001}}), StatusCode::kUnavailable);
  other.Exec("ROLLBACK");
  EXPECT_EQ(SqlitePragmaForTesting(*store, "synchronous").value(), "2");
}

TEST(SqliteStoreTest, OpenInMissingFolderIsUnavailable) {
  TempDir dir;
  KW_EXPECT_CODE(OpenSqliteStore(dir.File("missing/keyward.db")), StatusCode::kUnavailable);
}

TEST(SqliteStoreTest, LockedDatabaseIsUnavailableForWritesButStillReadable) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  KW_ASSERT_OK_AND_ASSIGN(auto store,
                          OpenSqliteStore(path, {.busy_timeout = std::chrono::milliseconds(50)}));
  KW_ASSERT_OK(store->CreateUser(MakeUser("alice")));
  RawDb other(path);
  other.Exec("BEGIN IMMEDIATE");  // holds the write lock
  KW_EXPECT_CODE(store->CreateUser(MakeUser("bob")), StatusCode::kUnavailable);
  KW_EXPECT_CODE(store->AddTag("alice", "t"), StatusCode::kUnavailable);
  KW_EXPECT_OK(store->GetUser("alice").status());  // WAL readers do not wait for the writer
  other.Exec("ROLLBACK");
  KW_EXPECT_OK(store->CreateUser(MakeUser("bob")));
}

TEST(SqliteStoreTest, BackendFailureIsInternalWithSqliteMessageInDetail) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
  RawDb(path).Exec("DROP TABLE sessions");
  Result<SessionRecord> found = store->FindSessionByHash(std::string(32, 'h'));
  EXPECT_THAT(found, StatusIs(StatusCode::kInternal));
  EXPECT_EQ(found.status().message(), "internal error");
  EXPECT_NE(found.status().detail().find("no such table: sessions"), std::string::npos)
      << found.status().detail();
}

// 8 threads create users, keys and sessions at once; with `stores` > 1 they share the file
// through separate connections, as several processes would.
void RunConcurrentCreates(int stores) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  std::vector<std::unique_ptr<Store>> opened;
  for (int i = 0; i < stores; ++i) {
    KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
    opened.push_back(std::move(store));
  }
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& store = *opened[t % stores];
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = "u" + std::to_string(t) + "-" + std::to_string(i);
        std::string hash = id + std::string(32 - id.size(), '\0');
        KeyRecord key;
        key.user_id = id;
        key.name = "k";
        key.hash = hash;
        SessionRecord session;
        session.user_id = id;
        session.hash = hash;
        session.expires_at = 9;
        bool ok = store.CreateUser(MakeUser(id)).ok() && store.CreateKey(key).ok() &&
                  store.TouchKeys({{hash, 10 + i}}).ok() && store.FindKeyByHash(hash).ok() &&
                  store.CreateSession(session).ok();
        if (!ok) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t users, opened[0]->CountUsers());
  EXPECT_EQ(users, kThreads * kPerThread);
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t sessions, opened[0]->DeleteExpiredSessions(10));
  EXPECT_EQ(sessions, kThreads * kPerThread);
}

TEST(SqliteStoreTest, ConcurrentCreatesFromEightThreadsAllSucceed) { RunConcurrentCreates(1); }

TEST(SqliteStoreTest, ConcurrentCreatesThroughTwoConnectionsAllSucceed) { RunConcurrentCreates(2); }

}  // namespace
}  // namespace keyward
