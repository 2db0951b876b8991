// Upgrading a database that a previous release made (schema V002, before scopes) on both
// backends: the store opens it, V003 and V004 run once, and the data is all there, every key made
// before scopes being full access, and no signing key yet. SQLite always; PostgreSQL on the server
// KEYWARD_TEST_PG_URL names (skipped without it; `make test` always provides one).
//
// The V002 database is made as the previous release made it (v002_fixture.h): the migration
// runner applies the V001 and V002 files themselves, then testdata/v002_<backend>.sql adds the
// rows.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/api_key.h"
#include "store/postgres/pg_test_util.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "store/store_test_util.h"
#include "store/v002_fixture.h"

namespace keyward {
namespace {

using testdata::kV002DriverKey;

// A database of one backend holding the fixture at schema V002.
class V002Database {
 public:
  virtual ~V002Database() = default;
  // Makes the V002 schema with the migration runner, then adds the fixture's rows.
  virtual Status Create() = 0;
  // Opens the store on it as the server does (which applies the pending migrations).
  virtual Result<std::unique_ptr<Store>> Open() = 0;
  // The versions schema_migrations records, in order.
  virtual Result<std::vector<std::int64_t>> Versions() = 0;
};

class SqliteV002 final : public V002Database {
 public:
  Status Create() override { return testdata::MakeSqliteV002(path_); }
  Result<std::unique_ptr<Store>> Open() override { return OpenSqliteStore(path_); }
  Result<std::vector<std::int64_t>> Versions() override {
    KW_ASSIGN_OR_RETURN(auto db, sqlite::Connection::Open(path_, std::chrono::seconds(5)));
    KW_ASSIGN_OR_RETURN(sqlite::Statement select,
                        db->Prepare("SELECT version FROM schema_migrations ORDER BY version"));
    std::vector<std::int64_t> versions;
    while (true) {
      KW_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) return versions;
      versions.push_back(select.ColumnInt(0));
    }
  }

 private:
  TempDir dir_;
  std::string path_ = dir_.File("keyward.db");
};

class PostgresV002 final : public V002Database {
 public:
  Status Create() override {
    KW_RETURN_IF_ERROR(database_.status());
    return testdata::MakePostgresV002(database_.url());
  }
  Result<std::unique_ptr<Store>> Open() override { return OpenPostgresStore(database_.url()); }
  Result<std::vector<std::int64_t>> Versions() override {
    KW_ASSIGN_OR_RETURN(pg::Rows rows,
                        database_.Query("SELECT version FROM schema_migrations ORDER BY version"));
    std::vector<std::int64_t> versions;
    versions.reserve(rows.size());
    for (int r = 0; r < rows.size(); ++r) versions.push_back(rows.Int(r, 0));
    return versions;
  }

 private:
  pg::TempDatabase database_;
};

struct Backend {
  std::string name;
  std::function<std::unique_ptr<V002Database>()> make;
  bool needs_postgres = false;
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

class StoreUpgradeTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().needs_postgres && pg::TestServerUrl().empty()) {
      GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (scripts/with-postgres sets it)";
    }
    database_ = GetParam().make();
    KW_ASSERT_OK(database_->Create());
  }

  std::unique_ptr<V002Database> database_;
};

const std::vector<std::int64_t> kV002 = {1, 2};
const std::vector<std::int64_t> kLatest = {1, 2, 3, 4};

void ExpectDriverKey(const KeyRecord& key) {
  EXPECT_EQ(key.user_id, "alice");
  EXPECT_EQ(key.name, "driver-key");
  EXPECT_EQ(key.hash, HashKey(kV002DriverKey));
  EXPECT_EQ(key.sealed.size(), 27u);
  EXPECT_EQ(key.masked, MaskKey(kV002DriverKey));
  EXPECT_EQ(key.created_at, 1'700'000'100);
  EXPECT_EQ(key.expires_at, 4'102'444'800);
  EXPECT_EQ(key.last_used_at, 1'700'000'200);
  // Made before scopes: its owner's full power, and nothing in the lists.
  EXPECT_EQ(key.grant, FullAccess());
  EXPECT_TRUE(key.grant.full_access);
}

TEST_P(StoreUpgradeTest, V002DataOpensAndItsKeysAreFoundAndListedAsFullAccess) {
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::int64_t> before, database_->Versions());
  ASSERT_EQ(before, kV002);
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, database_->Open());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::int64_t> after, database_->Versions());
  EXPECT_EQ(after, kLatest);
  // V004's table exists, and no key is made by the upgrade: the token issuer makes the first.
  KW_ASSERT_OK_AND_ASSIGN(std::vector<SigningKeyRecord> signing_keys, store->ListSigningKeys());
  EXPECT_TRUE(signing_keys.empty());

  // The key works: the hash of the key as presented finds it, as the Authenticator looks it up.
  ASSERT_TRUE(IsWellFormedKey(kV002DriverKey, "kw"));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord found, store->FindKeyByHash(HashKey(kV002DriverKey)));
  ExpectDriverKey(found);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_name, store->GetKey("alice", "driver-key"));
  ExpectDriverKey(by_name);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> alices, store->ListKeys("alice"));
  ASSERT_EQ(alices.size(), 1u);
  ExpectDriverKey(alices[0]);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> bobs, store->ListKeys("bob"));
  ASSERT_EQ(bobs.size(), 1u);
  EXPECT_EQ(bobs[0].name, "old");
  EXPECT_EQ(bobs[0].sealed, "");
  EXPECT_EQ(bobs[0].expires_at, 1'700'000'070);
  EXPECT_EQ(bobs[0].grant, FullAccess());
}

TEST_P(StoreUpgradeTest, V002UsersSessionsAndAuditEventsAreIntact) {
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, database_->Open());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<User> users, store->ListUsers());
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].id, "alice");
  EXPECT_EQ(users[0].name, "Alice Example");
  EXPECT_EQ(users[0].type, UserType::kPerson);
  EXPECT_EQ(users[0].password_hash, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g");
  EXPECT_EQ(users[0].created_at, 1'700'000'000);
  EXPECT_EQ(users[0].tags, (std::vector<std::string>{"roles:id:operator", "team:a"}));
  EXPECT_EQ(users[1].id, "bob");
  EXPECT_EQ(users[1].type, UserType::kApplication);
  EXPECT_EQ(users[1].tags, std::vector<std::string>{"team:b"});

  std::string session_hash;
  for (int i = 0; i < 8; ++i) session_hash += "\x5e\x55\x10\x11";
  KW_ASSERT_OK_AND_ASSIGN(SessionRecord session, store->FindSessionByHash(session_hash));
  EXPECT_EQ(session.user_id, "alice");
  EXPECT_EQ(session.expires_at, 4'102'444'800);

  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> events, store->ListAudit({}));
  ASSERT_EQ(events.size(), 3u);  // newest first
  EXPECT_EQ(events[2].action, AuditAction::kSignIn);
  EXPECT_EQ(events[1].time, 1'700'000'100);
  EXPECT_EQ(events[1].actor, "alice");
  EXPECT_EQ(events[1].action, AuditAction::kKeyCreate);
  EXPECT_EQ(events[1].user, "alice");
  EXPECT_EQ(events[1].target, "driver-key");
  EXPECT_EQ(events[1].address, "2001:db8::7");
  EXPECT_TRUE(events[1].success);
  EXPECT_EQ(events[1].detail, "");  // V003 gives old events an empty detail
  EXPECT_EQ(events[0].action, AuditAction::kKeyReveal);
  EXPECT_FALSE(events[0].success);
  EXPECT_EQ(events[0].reason, "no such user or key");
  EXPECT_LT(events[1].id, events[0].id);
  // New events still get ids after the old ones and keep their detail.
  AuditEvent next = events[0];
  next.detail = "scopes=keys:read tags=*";
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t id, store->AppendAudit(next));
  EXPECT_GT(id, events[0].id);
}

// The column default marks only the rows V003 found: keys created afterwards carry their own
// grant, and a second start changes nothing.
TEST_P(StoreUpgradeTest, KeysCreatedAfterTheUpgradeAreNotFullAccessAndReopeningKeepsAll) {
  {
    KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, database_->Open());
    KeyRecord key;
    key.user_id = "alice";
    key.name = "new-key";
    key.hash = HashKey("kw_new");
    key.masked = "kw_new…";
    key.created_at = 1'800'000'000;
    key.expires_at = 1'900'000'000;
    KW_ASSERT_OK(store->CreateKey(key));  // the default grant: no scopes, live tags
    KeyRecord scoped = key;
    scoped.name = "scoped-key";
    scoped.hash = HashKey("kw_scoped");
    scoped.grant.scopes = {"keys:read"};
    scoped.grant.tags = std::vector<std::string>{"team:a"};
    KW_ASSERT_OK(store->CreateKey(scoped));
  }
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, database_->Open());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::int64_t> versions, database_->Versions());
  EXPECT_EQ(versions, kLatest);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord fresh, store->FindKeyByHash(HashKey("kw_new")));
  EXPECT_EQ(fresh.grant, Grant{});
  EXPECT_FALSE(fresh.grant.full_access);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store->ListKeys("alice"));
  ASSERT_EQ(keys.size(), 3u);  // by creation time
  ExpectDriverKey(keys[0]);
  EXPECT_EQ(keys[1].name, "new-key");
  EXPECT_FALSE(keys[1].grant.full_access);
  EXPECT_EQ(keys[2].name, "scoped-key");
  EXPECT_FALSE(keys[2].grant.full_access);
  EXPECT_EQ(keys[2].grant.scopes, std::vector<std::string>{"keys:read"});
  EXPECT_EQ(keys[2].grant.tags, std::vector<std::string>{"team:a"});
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreUpgradeTest,
    ::testing::Values(Backend{"Sqlite", [] { return std::make_unique<SqliteV002>(); }},
                      Backend{"Postgres", [] { return std::make_unique<PostgresV002>(); },
                              /*needs_postgres=*/true}),
    [](const ::testing::TestParamInfo<Backend>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace keyward
