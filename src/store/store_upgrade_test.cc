// Upgrading a database that a previous release made (schema V002, before scopes) on both
// backends: the store opens it, V003 to V007 run once, and the data is all there, every key made
// before scopes being full access, and no signing key yet. The same database taken to V004 first
// (the release before key lifecycles) keeps its keys through V005, each enabled and unannounced;
// taken to V005 (the release before usage counts), through V006 without a rate limit; none becomes
// a canary (V007). SQLite always; PostgreSQL on the server KEYWARD_TEST_PG_URL names (skipped
// without it; `make test` always provides one).
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

#include "common/clock.h"
#include "core/api_key.h"
#include "store/postgres/pg_test_util.h"
#include "store/postgres/postgres_migrations.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_migrations.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "store/store_test_util.h"
#include "store/v002_fixture.h"

namespace keyward {
namespace {

using testdata::kV002DriverKey;

std::string Repeat(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += text;
  return out;
}

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
  // Applies the migrations up to `version` (4 or 5) only, as that release did, and adds alice's
  // key "scoped" as the V004 release wrote it (a grant, not full access).
  virtual Status MakeVersion(std::size_t version) = 0;
};

// The key MakeVersion adds: hash 32 bytes of 0x5c, sealed 0x01 0x02.
constexpr char kV004KeyColumns[] =
    "INSERT INTO api_keys (user_id, name, hash, sealed, masked, created_at, expires_at,"
    " last_used_at, scopes, tags, allowed_addresses, full_access) VALUES ('alice', 'scoped', ";
constexpr char kV004KeyValues[] =
    ", 'kw_Scop…ed01', 1750000000, 1760000000, 1750000500, 'keys:read keys:write', NULL,"
    " '10.0.0.0/8', 0)";

class SqliteV002 final : public V002Database {
 public:
  Status Create() override { return testdata::MakeSqliteV002(path_); }
  Result<std::unique_ptr<Store>> Open() override { return OpenSqliteStore(path_); }
  Status MakeVersion(std::size_t version) override {
    KW_ASSIGN_OR_RETURN(auto db, sqlite::Connection::Open(path_, std::chrono::seconds(5)));
    KW_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON", "enable foreign keys"));
    KW_RETURN_IF_ERROR(
        sqlite::ApplyMigrations(*db, sqlite::SqliteMigrations().first(version), Clock::System()));
    static const std::string insert =
        std::string(kV004KeyColumns) + "X'" + Repeat("5c", 32) + "', X'0102'" + kV004KeyValues;
    return db->Exec(insert.c_str(), "V004 key");
  }
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
  Status MakeVersion(std::size_t version) override {
    pg::ConnectOptions options;
    options.application_name = "keyward-test";
    KW_ASSIGN_OR_RETURN(auto conn, pg::Connection::Open(database_.url(), options));
    KW_RETURN_IF_ERROR(
        pg::ApplyMigrations(*conn, pg::PostgresMigrations().first(version), Clock::System()));
    static const std::string insert = std::string(kV004KeyColumns) + "'\\x" + Repeat("5c", 32) +
                                      "'::BYTEA, '\\x0102'::BYTEA" + kV004KeyValues;
    return conn->Script(insert.c_str(), "V004 key");
  }
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

struct UpgradeBackend {
  std::string name;
  std::function<std::unique_ptr<V002Database>()> make;
  bool needs_postgres = false;
};

void PrintTo(const UpgradeBackend& backend, std::ostream* os) { *os << backend.name; }

class StoreUpgradeTest : public ::testing::TestWithParam<UpgradeBackend> {
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
const std::vector<std::int64_t> kV004 = {1, 2, 3, 4};
const std::vector<std::int64_t> kV005 = {1, 2, 3, 4, 5};
const std::vector<std::int64_t> kLatest = {1, 2, 3, 4, 5, 6, 7, 8};

// What V005 gives every key that existed before it: the lifecycle of keys made before.
void ExpectLifecycleDefaults(const KeyRecord& key) {
  EXPECT_EQ(key.description, "");
  EXPECT_FALSE(key.disabled);
  EXPECT_EQ(key.validity, 0);
  EXPECT_EQ(key.idle_timeout, 0);
  EXPECT_FALSE(key.revoke_on_reuse);
  EXPECT_EQ(key.rotated_at, 0);
  EXPECT_EQ(key.announced_within, -1);
  EXPECT_EQ(key.revision, 0);
  EXPECT_TRUE(key.old_secrets.empty());
  EXPECT_FALSE(key.by_old_secret);
  // V006: no rate limit, never counted.
  EXPECT_FALSE(key.rate_limit.enabled());
  EXPECT_EQ(key.rate_limit, RateLimit{});
  EXPECT_EQ(key.first_used_at, 0);
  EXPECT_EQ(key.last_address, "");
  EXPECT_EQ(key.last_user_agent, "");
  // V007: not a canary.
  EXPECT_FALSE(key.canary);
}

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
  ExpectLifecycleDefaults(key);
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

TEST_P(StoreUpgradeTest, V004KeysKeepEverythingThroughV005AndCanBeRotated) {
  KW_ASSERT_OK(database_->MakeVersion(4));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::int64_t> before, database_->Versions());
  ASSERT_EQ(before, kV004);
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, database_->Open());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::int64_t> after, database_->Versions());
  EXPECT_EQ(after, kLatest);

  const std::string hash(32, '\x5c');
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord key, store->FindKeyByHash(hash));
  EXPECT_EQ(key.user_id, "alice");
  EXPECT_EQ(key.name, "scoped");
  EXPECT_EQ(key.sealed, "\x01\x02");
  EXPECT_EQ(key.masked, "kw_Scop…ed01");
  EXPECT_EQ(key.created_at, 1'750'000'000);
  EXPECT_EQ(key.expires_at, 1'760'000'000);
  EXPECT_EQ(key.last_used_at, 1'750'000'500);
  EXPECT_EQ(key.grant.scopes, (std::vector<std::string>{"keys:read", "keys:write"}));
  EXPECT_FALSE(key.grant.tags.has_value());
  EXPECT_EQ(key.grant.allowed_addresses, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_FALSE(key.grant.full_access);
  ExpectLifecycleDefaults(key);
  EXPECT_EQ(key.RenewedValidity(), 10'000'000);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord driver, store->FindKeyByHash(HashKey(kV002DriverKey)));
  ExpectDriverKey(driver);

  // Keys that expired long before the upgrade are never announced; one expiring soon is.
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> due,
                          store->ListKeysToWarn(1'759'990'000, 86'400, 100));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].name, "scoped");
  KW_ASSERT_OK_AND_ASSIGN(due, store->ListKeysExpiredUnannounced(1'759'990'000, 100));
  EXPECT_EQ(due.size(), 0u);

  // The upgraded key rotates like a new one.
  KeyRecord next = key;
  next.hash = std::string(32, '\x6d');
  next.rotated_at = 1'755'000'000;
  next.expires_at = next.rotated_at + key.RenewedValidity();
  OldSecret old{.hash = hash,
                .masked = key.masked,
                .rotated_at = next.rotated_at,
                .grace_until = next.rotated_at + 3600,
                .retire_when_idle = 0,
                .last_used_at = 0,
                .expires_at = key.expires_at};
  KW_ASSERT_OK(store->RotateKey("alice", "scoped", hash, next, old, {}));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord rotated, store->GetKey("alice", "scoped"));
  EXPECT_EQ(rotated.hash, next.hash);
  EXPECT_EQ(rotated.grant, key.grant);
  ASSERT_EQ(rotated.old_secrets.size(), 1u);
  EXPECT_EQ(rotated.old_secrets[0].hash, hash);
}

// The release before usage counts: its keys come through V006 without a rate limit, and their
// use is counted from then on.
TEST_P(StoreUpgradeTest, V005KeysKeepEverythingThroughV006WithoutARateLimit) {
  KW_ASSERT_OK(database_->MakeVersion(5));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::int64_t> before, database_->Versions());
  ASSERT_EQ(before, kV005);
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, database_->Open());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::int64_t> after, database_->Versions());
  EXPECT_EQ(after, kLatest);

  const std::string hash(32, '\x5c');
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord key, store->FindKeyByHash(hash));
  EXPECT_EQ(key.name, "scoped");
  EXPECT_EQ(key.last_used_at, 1'750'000'500);
  EXPECT_EQ(key.grant.scopes, (std::vector<std::string>{"keys:read", "keys:write"}));
  ExpectLifecycleDefaults(key);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> alices, store->ListKeys("alice"));
  ASSERT_EQ(alices.size(), 2u);
  ExpectDriverKey(alices[0]);
  ExpectLifecycleDefaults(alices[1]);

  UsageCounts counts{};
  counts[0] = 4;
  KW_ASSERT_OK(store->RecordUsage({{.hash = hash,
                                    .hour_start = 1'750'003'200,
                                    .counts = counts,
                                    .seen_at = 1'750'003'300,
                                    .last_address = "10.0.0.1",
                                    .last_user_agent = "ua"}}));
  KW_ASSERT_OK_AND_ASSIGN(KeyUsage usage,
                          store->GetUsage("alice", "scoped", 1'750'000'000, 1'760'000'000));
  ASSERT_EQ(usage.hours.size(), 1u);
  EXPECT_EQ(usage.hours[0].counts, counts);
  EXPECT_EQ(usage.first_used_at, 1'750'003'300);
  KeyUpdate limit;
  limit.rate_limit = RateLimit{.requests = 3, .per = 1};
  KW_ASSERT_OK(store->UpdateKey("alice", "scoped", 0, limit, {}));
  KW_ASSERT_OK_AND_ASSIGN(key, store->GetKey("alice", "scoped"));
  EXPECT_EQ(key.rate_limit, (RateLimit{.requests = 3, .per = 1}));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreUpgradeTest,
    ::testing::Values(UpgradeBackend{"Sqlite", [] { return std::make_unique<SqliteV002>(); }},
                      UpgradeBackend{"Postgres", [] { return std::make_unique<PostgresV002>(); },
                                     /*needs_postgres=*/true}),
    [](const ::testing::TestParamInfo<UpgradeBackend>& param_info) {
      return param_info.param.name;
    });

}  // namespace
}  // namespace keyward
