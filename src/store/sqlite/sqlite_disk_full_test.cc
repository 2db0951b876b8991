// The SQLite store on a full disk: which result codes mean one, and a real tmpfs filled up
// under an open store (common/full_disk_for_tests.h; needs root, as `make test` runs). Every
// write gives InsufficientStorage and leaves nothing behind, reads go on, and the same
// connection writes again once space is freed. tests/integration/disk_full_test.cc is the same
// through the server's API.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "common/full_disk_for_tests.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_conformance.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::Hash;
using store_test::MakeKey;
using store_test::MakeSession;
using store_test::MakeUser;

TEST(SqliteDiskFullTest, TheCodesOfAFullDisk) {
  using sqlite::IsDiskFull;
  EXPECT_TRUE(IsDiskFull(SQLITE_FULL, 0));  // ENOSPC from write(): the VFS clears errno
  EXPECT_TRUE(IsDiskFull(SQLITE_IOERR_WRITE, EDQUOT));
  EXPECT_TRUE(IsDiskFull(SQLITE_IOERR_WRITE, ENOSPC));
  EXPECT_TRUE(IsDiskFull(SQLITE_IOERR_SHMSIZE, ENOSPC));  // growing the -shm file
  EXPECT_TRUE(IsDiskFull(SQLITE_IOERR_TRUNCATE, ENOSPC));
  EXPECT_TRUE(IsDiskFull(SQLITE_IOERR_FSYNC, EDQUOT));
  EXPECT_FALSE(IsDiskFull(SQLITE_IOERR_READ, EIO));
  EXPECT_FALSE(IsDiskFull(SQLITE_IOERR_WRITE, EIO));
  EXPECT_FALSE(IsDiskFull(SQLITE_BUSY, ENOSPC));  // a stale errno beside another error
  EXPECT_FALSE(IsDiskFull(SQLITE_CONSTRAINT_UNIQUE, 0));

  Status full = sqlite::ErrorStatus(SQLITE_IOERR_WRITE, "COMMIT", "disk I/O error", EDQUOT);
  EXPECT_THAT(full, StatusIs(StatusCode::kInsufficientStorage, sqlite::kDiskFullMessage));
  EXPECT_NE(full.detail().find("COMMIT: disk I/O error"), std::string::npos) << full.detail();
  EXPECT_THAT(sqlite::ErrorStatus(SQLITE_IOERR_READ, "SELECT", "disk I/O error", EIO),
              StatusIs(StatusCode::kInternal));
}

TEST(SqliteDiskFullTest, WritesAreRefusedWholeReadsGoOnAndItRecovers) {
  std::string why;
  auto tmpfs = TmpfsMount::Make("2m", &why);
  if (tmpfs == nullptr) {
    if (UnderCi()) FAIL() << why << " (CI=true: this test must run; make test runs as root)";
    GTEST_SKIP() << why;
  }
  const std::string path = tmpfs->path() + "/keyward.db";
  KW_ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
  KW_ASSERT_OK(store->CreateUser(MakeUser("alice")));
  constexpr int kKept = 10;
  for (int i = 0; i < kKept; ++i) {
    KW_ASSERT_OK(store->CreateKey(MakeKey("alice", "k" + std::to_string(i), i), {}));
  }

  const std::string filler = tmpfs->path() + "/filler";
  ASSERT_EQ(FillUp(filler), 0);

  const auto full = StatusIs(StatusCode::kInsufficientStorage, sqlite::kDiskFullMessage);
  EXPECT_THAT(store->CreateKey(MakeKey("alice", "refused", 100), {}), full);
  EXPECT_THAT(store->CreateUser(MakeUser("bob", {"t1", "t2"})), full);  // a user and its tags
  EXPECT_THAT(store->AddTag("alice", "t"), full);
  EXPECT_THAT(store->CreateSession(MakeSession("alice", 200, 2'000'000'000)), full);
  EXPECT_THAT(store->DeleteKey("alice", "k0", {}), full);
  EXPECT_THAT(store->TouchKeys({{Hash(1), 1'800'000'000}}), full);
  AuditEvent event;
  event.time = 1'700'000'000;
  event.actor = "alice";
  event.user = "alice";
  EXPECT_THAT(store->AppendAudit(event), full);
  // The connection is not stuck in some other state: the same write is refused the same way.
  EXPECT_THAT(store->CreateKey(MakeKey("alice", "refused", 100), {}), full);

  // Reads go on, on the same connection.
  for (int i = 0; i < kKept; ++i) KW_EXPECT_OK(store->FindKeyByHash(Hash(i)).status());
  KW_ASSERT_OK_AND_ASSIGN(auto listed, store->ListKeys("alice"));
  EXPECT_EQ(listed.size(), static_cast<std::size_t>(kKept));

  // Space again: the same connection writes, and nothing of a refused write is there.
  ASSERT_TRUE(std::filesystem::remove(filler));
  KW_EXPECT_OK(store->CreateKey(MakeKey("alice", "after", 101), {}));
  KW_EXPECT_OK(store->CreateUser(MakeUser("bob", {"t1", "t2"})));
  KW_ASSERT_OK_AND_ASSIGN(User bob, store->GetUser("bob"));
  EXPECT_EQ(bob.tags, (std::vector<std::string>{"t1", "t2"}));
  KW_ASSERT_OK_AND_ASSIGN(User alice, store->GetUser("alice"));
  EXPECT_TRUE(alice.tags.empty());
  KW_EXPECT_CODE(store->FindKeyByHash(Hash(100)), StatusCode::kNotFound);
  KW_EXPECT_CODE(store->FindSessionByHash(Hash(200)), StatusCode::kNotFound);
  KW_ASSERT_OK_AND_ASSIGN(auto audit, store->ListAudit(AuditFilter()));
  EXPECT_TRUE(audit.empty());

  // And a new connection finds the same: the kept keys, the one made after, nothing refused.
  store.reset();
  KW_ASSERT_OK_AND_ASSIGN(store, OpenSqliteStore(path));
  KW_ASSERT_OK_AND_ASSIGN(listed, store->ListKeys("alice"));
  EXPECT_EQ(listed.size(), static_cast<std::size_t>(kKept + 1));
  KW_EXPECT_OK(store->FindKeyByHash(Hash(0)).status());  // its delete was refused
}

}  // namespace
}  // namespace keyward
