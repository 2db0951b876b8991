// The SQLite store's group commit of key creates (issue 19; sqlite/group_commit.h): creates
// that queue up while a transaction is written share the next one, each keeps its own outcome,
// and a COMMIT that fails fails the creates it held. To make a batch on purpose, another
// connection holds the write lock (as another process could) while the creates queue up behind
// the leader that waits for it. The rate it buys is sqlite_group_commit_timing_test.cc's.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/full_disk_for_tests.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_conformance.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::MakeKey;
using store_test::MakeUser;

// Another connection to the database file, as another process would have one.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  }
  WriteLockHolder(const WriteLockHolder&) = delete;
  WriteLockHolder& operator=(const WriteLockHolder&) = delete;
  ~WriteLockHolder() { sqlite3_close_v2(db_); }

  void Exec(const char* sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }
  // The single integer `sql` returns.
  std::int64_t Count(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::int64_t count = -1;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) count = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return count;
  }

 private:
  sqlite3* db_ = nullptr;
};

// An event in the key's outbox whose data names the key, so the test can tell whose it is.
WebhookEvent EventOf(const std::string& key_name, std::string only_webhook = {}) {
  WebhookEvent event;
  event.type = "key.created";
  event.time = 1'700'000'100;
  event.user_id = "alice";
  event.data = R"({"key":")" + key_name + R"("})";
  event.only_webhook = std::move(only_webhook);
  return event;
}

struct Create {
  KeyRecord key;
  EventList events;
  Status result;
};

// Runs `first` while `holder` keeps the write lock, so its leader waits for the lock; queues
// `batch` behind it, lets `before_release` run once all of them wait, then releases the lock:
// `first` commits alone, and `batch` as one transaction. Fills in each create's result.
void RunAsOneBatch(Store& store, WriteLockHolder& holder, Create& first, std::vector<Create>& batch,
                   const std::function<void()>& before_release = {}) {
  auto stats = [&] { return SqliteCreateBatchStatsForTesting(store).value(); };
  const std::int64_t batches_before = stats().batches;  // earlier writes of the test count too
  holder.Exec("BEGIN IMMEDIATE");
  std::vector<std::thread> threads;
  threads.emplace_back([&] { first.result = store.CreateKey(first.key, first.events); });
  // The first one leads: it has left the queue for its batch of one, whose BEGIN waits.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (stats().batches <= batches_before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (Create& create : batch) {
    threads.emplace_back([&] { create.result = store.CreateKey(create.key, create.events); });
  }
  const auto queued = static_cast<std::int64_t>(batch.size());
  while (stats().queued < queued && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(stats().queued, queued) << "the creates did not queue up behind the leader in 3 s";
  if (before_release) before_release();
  holder.Exec("ROLLBACK");
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(stats().largest_batch, queued) << "they were not written as one batch";
}

TEST(SqliteGroupCommitTest, EachCreateOfABatchGetsItsOwnOutcome) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
  KW_ASSERT_OK(store->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store->CreateKey(MakeKey("alice", "taken", 1), {EventOf("taken")}));
  WriteLockHolder holder(path);

  Create first{MakeKey("alice", "first", 2), {EventOf("first")}, {}};
  std::vector<Create> batch;
  batch.push_back({MakeKey("alice", "b", 3), {EventOf("b")}, {}});
  batch.push_back({MakeKey("alice", "taken", 4), {EventOf("taken again")}, {}});  // name taken
  batch.push_back({MakeKey("nobody", "c", 5), {EventOf("c")}, {}});               // no such user
  // Its key row is written before its event fails: the savepoint must undo both.
  batch.push_back({MakeKey("alice", "d", 6), {EventOf("d", "no-such-webhook")}, {}});
  batch.push_back({MakeKey("alice", std::string("bad\xff", 4), 7), {}, {}});  // not UTF-8
  batch.push_back({MakeKey("alice", "e", 8), {EventOf("e")}, {}});
  RunAsOneBatch(*store, holder, first, batch);

  KW_EXPECT_OK(first.result);
  KW_EXPECT_OK(batch[0].result);
  EXPECT_THAT(batch[1].result, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(batch[2].result, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(batch[3].result, StatusIs(StatusCode::kNotFound, "webhook not found"));
  EXPECT_THAT(batch[4].result, StatusIs(StatusCode::kInvalidArgument));
  KW_EXPECT_OK(batch[5].result);

  // The ones that succeeded are stored with their events, and nothing of the others.
  KW_ASSERT_OK_AND_ASSIGN(auto keys, store->ListKeys("alice"));
  std::set<std::string> names;
  for (const KeyRecord& key : keys) names.insert(key.name);
  EXPECT_EQ(names, (std::set<std::string>{"b", "e", "first", "taken"}));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord taken, store->GetKey("alice", "taken"));
  EXPECT_EQ(taken.hash, store_test::Hash(1));  // the first one, not the refused one
  KW_EXPECT_CODE(store->FindKeyByHash(store_test::Hash(6)), StatusCode::kNotFound);
  EXPECT_EQ(holder.Count("SELECT COUNT(*) FROM webhook_events"), 4);
  for (const char* name : {"taken", "first", "b", "e"}) {
    const std::string sql =
        std::string("SELECT COUNT(*) FROM webhook_events WHERE data = '{\"key\":\"") + name +
        "\"}'";
    EXPECT_EQ(holder.Count(sql.c_str()), 1) << name;
  }

  // And so does a new connection: it was committed, not just visible to this one.
  store.reset();
  KW_ASSERT_OK_AND_ASSIGN(store, OpenSqliteStore(path));
  KW_ASSERT_OK_AND_ASSIGN(keys, store->ListKeys("alice"));
  EXPECT_EQ(keys.size(), 4u);
}

TEST(SqliteGroupCommitTest, AFailedCommitFailsEveryCreateOfTheBatchAndStoresNone) {
  std::string why;
  auto tmpfs = TmpfsMount::Make("2m", &why);
  if (tmpfs == nullptr) {
    if (UnderCi()) FAIL() << why << " (CI=true: this test must run; make test runs as root)";
    GTEST_SKIP() << why;
  }
  const std::string path = tmpfs->path() + "/keyward.db";
  KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
  KW_ASSERT_OK(store->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store->CreateKey(MakeKey("alice", "taken", 1), {EventOf("taken")}));
  WriteLockHolder holder(path);

  Create first{MakeKey("alice", "first", 2), {EventOf("first")}, {}};
  std::vector<Create> batch;
  for (int i = 0; i < 5; ++i) {
    const std::string name = "k" + std::to_string(i);
    batch.push_back({MakeKey("alice", name, 10 + i), {EventOf(name)}, {}});
  }
  // Refused on its own before the COMMIT: it keeps its own reason.
  batch.push_back({MakeKey("alice", "taken", 20), {EventOf("taken again")}, {}});
  const std::string filler = tmpfs->path() + "/filler";
  // The rows fit in SQLite's page cache: the disk is first needed by the COMMIT.
  RunAsOneBatch(*store, holder, first, batch, [&] { ASSERT_EQ(FillUp(filler), 0); });

  const auto full = StatusIs(StatusCode::kInsufficientStorage, sqlite::kDiskFullMessage);
  EXPECT_THAT(first.result, full);
  for (int i = 0; i < 5; ++i) EXPECT_THAT(batch[i].result, full) << i;
  EXPECT_THAT(batch[5].result, StatusIs(StatusCode::kAlreadyExists));

  // None of them is there, on this connection or a new one, and writes work again with room.
  ASSERT_TRUE(std::filesystem::remove(filler));
  for (bool reopen : {false, true}) {
    if (reopen) {
      store.reset();
      KW_ASSERT_OK_AND_ASSIGN(store, OpenSqliteStore(path));
    }
    KW_ASSERT_OK_AND_ASSIGN(auto keys, store->ListKeys("alice"));
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys.front().name, "taken");
    EXPECT_EQ(holder.Count("SELECT COUNT(*) FROM webhook_events"), 1);
  }
  KW_EXPECT_OK(store->CreateKey(batch[0].key, batch[0].events));
}

// Many threads create keys at once, two threads racing for each name, while another reads and
// deletes: every create gets the outcome the stored rows show (one winner per name, its event
// with it), and creates were batched. Run under ThreadSanitizer too (scripts/test-all).
TEST(SqliteGroupCommitTest, ManyThreadsRacingForNamesGetTheOutcomesTheRowsShow) {
  TempDir dir;
  const std::string path = dir.File("keyward.db");
  KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
  KW_ASSERT_OK(store->CreateUser(MakeUser("alice")));
  constexpr int kThreads = 16;
  constexpr int kPerThread = 40;
  // Threads 2j and 2j+1 create the same names, with hashes of their own.
  auto name_of = [](int thread, int i) {
    return "n" + std::to_string(i * kThreads / 2 + thread / 2);
  };
  std::vector<std::vector<Status>> results(kThreads);
  std::atomic<int> creators_left{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string name = name_of(t, i);
        results[t].push_back(
            store->CreateKey(MakeKey("alice", name, i * kThreads + t), {EventOf(name)}));
      }
      --creators_left;
    });
  }
  // Reads and deletes meanwhile take the same connection between batches. Bounded: it stops
  // when the creators are done, or after 10,000 rounds.
  int deleted = 0;
  threads.emplace_back([&] {
    for (int round = 0; round < 10'000 && creators_left > 0; ++round) {
      EXPECT_TRUE(store->ListKeys("alice").ok());
      if (round % 10 == 0) {
        KW_EXPECT_OK(store->CreateKey(MakeKey("alice", "tmp", 60'000), {}));
        KW_EXPECT_OK(store->DeleteKey("alice", "tmp", {}));
        ++deleted;
      }
    }
  });
  for (std::thread& thread : threads) thread.join();

  std::map<std::string, int> wins;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), static_cast<std::size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) {
      const Status& result = results[t][i];
      if (result.ok()) {
        ++wins[name_of(t, i)];
      } else {
        EXPECT_THAT(result, StatusIs(StatusCode::kAlreadyExists)) << t << " " << i;
      }
    }
  }
  constexpr int kNames = kThreads * kPerThread / 2;
  EXPECT_EQ(wins.size(), static_cast<std::size_t>(kNames));
  for (const auto& [name, count] : wins) EXPECT_EQ(count, 1) << name;
  KW_ASSERT_OK_AND_ASSIGN(auto keys, store->ListKeys("alice"));
  EXPECT_EQ(keys.size(), static_cast<std::size_t>(kNames));
  for (const KeyRecord& key : keys) {
    const int n = static_cast<unsigned char>(key.hash[1]) |
                  (static_cast<unsigned char>(key.hash[2]) << 8);  // store_test::Hash
    EXPECT_EQ(key.name, name_of(n % kThreads, n / kThreads)) << "a loser's row was stored";
  }
  WriteLockHolder reader(path);
  EXPECT_EQ(reader.Count("SELECT COUNT(*) FROM webhook_events"), kNames);
  KW_ASSERT_OK_AND_ASSIGN(auto stats, SqliteCreateBatchStatsForTesting(*store));
  EXPECT_EQ(stats.creates, kThreads * kPerThread + deleted);
  EXPECT_GT(stats.largest_batch, 1) << "16 threads creating at once never shared a commit";
  EXPECT_LT(stats.batches, stats.creates);
  EXPECT_EQ(stats.queued, 0);
}

}  // namespace
}  // namespace keyward
