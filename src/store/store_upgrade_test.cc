// Upgrading databases that earlier releases made, on both backends.
//
// Every fixture (upgrade_fixture.h: one per schema version, V001 up to the newest there is, as
// that release's migration runner made the schema and as it wrote the rows) opens, the later
// migrations run once, and every row of before is there unchanged, column by column; every key
// is found by its hash and keeps exactly its state (valid, expired, disabled, a canary, an old
// secret in its grace period); users, tags, the session, audit events, signing keys, webhooks and
// usage read back through the store; a second open runs nothing. "Latest" is the last of the
// embedded migrations, so a new migration needs no change here (only, once another follows it,
// a fixture of its own: EveryEarlierSchemaVersionHasAFixture).
//
// Then what the V002 fixture (the release before scopes) must give: every key made before scopes
// is full access, and no signing key yet. The same database taken to V004 first (the release
// before key lifecycles) keeps its keys through V005, each enabled and unannounced; taken to V005
// (the release before usage counts), through V006 without a rate limit; none becomes a canary
// (V007). SQLite always; PostgreSQL on the server KEYWARD_TEST_PG_URL names (skipped without it;
// `make test` always provides one).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
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
#include "store/upgrade_fixture.h"

namespace keyward {
namespace {

using testdata::FixtureKey;
using testdata::kDriverKey;
using testdata::KeyState;

std::string Repeat(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += text;
  return out;
}

// The tables of a database (schema_migrations aside) with their columns, in order.
using Tables = std::map<std::string, std::vector<std::string>>;
// Each table's rows, every value quoted by the database itself (SQLite quote(), PostgreSQL
// quote_nullable()) and joined with '|', sorted.
using Rows = std::map<std::string, std::vector<std::string>>;

// The SELECT of Dump for `table`: its `columns`, quoted with `quote` and joined.
std::string DumpQuery(const std::string& table, const std::vector<std::string>& columns,
                      const std::string& quote) {
  std::string values;
  for (const std::string& column : columns) {
    values += (values.empty() ? "" : " || '|' || ") + quote + "(\"" + column + "\")";
  }
  return "SELECT " + values + " FROM \"" + table + "\" ORDER BY 1";
}

// A database of one backend holding a fixture (upgrade_fixture.h).
class FixtureDatabase {
 public:
  virtual ~FixtureDatabase() = default;
  // Makes the fixture of schema `version`: its schema by the migration runner, then its rows.
  virtual Status Create(int version) = 0;
  // Opens the store on it as the server does (which applies the pending migrations).
  virtual Result<std::unique_ptr<Store>> Open() = 0;
  // The versions schema_migrations records, in order.
  virtual Result<std::vector<std::int64_t>> Versions() = 0;
  // schema_migrations as "version|name|applied_at" rows, in order of version.
  virtual Result<std::vector<std::string>> Recorded() = 0;
  // Every version this build's migrations of the backend know: 1 to the latest.
  virtual std::vector<std::int64_t> AllVersions() const = 0;
  virtual Result<Tables> ListTables() = 0;
  // The rows of `tables`, those columns only.
  virtual Result<Rows> Dump(const Tables& tables) = 0;
  // Applies the migrations up to `version` (4 or 5) only, as that release did, and adds alice's
  // key "scoped" as the V004 release wrote it (a grant, not full access).
  virtual Status MakeVersion(std::size_t version) = 0;
};

std::vector<std::int64_t> VersionsOf(std::span<const Migration> migrations) {
  std::vector<std::int64_t> versions;
  for (const Migration& migration : migrations) versions.push_back(migration.version);
  return versions;
}

// The key MakeVersion adds: hash 32 bytes of 0x5c, sealed 0x01 0x02.
constexpr char kV004KeyColumns[] =
    "INSERT INTO api_keys (user_id, name, hash, sealed, masked, created_at, expires_at,"
    " last_used_at, scopes, tags, allowed_addresses, full_access) VALUES ('alice', 'scoped', ";
constexpr char kV004KeyValues[] =
    ", 'kw_Scop…ed01', 1750000000, 1760000000, 1750000500, 'keys:read keys:write', NULL,"
    " '10.0.0.0/8', 0)";

class SqliteFixture final : public FixtureDatabase {
 public:
  Status Create(int version) override { return testdata::MakeSqliteFixture(version, path_); }
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
    KW_ASSIGN_OR_RETURN(std::vector<std::string> versions,
                        Column("SELECT version FROM schema_migrations ORDER BY version"));
    std::vector<std::int64_t> out;
    for (const std::string& version : versions) out.push_back(std::stoll(version));
    return out;
  }
  Result<std::vector<std::string>> Recorded() override {
    return Column(
        "SELECT version || '|' || name || '|' || applied_at FROM schema_migrations ORDER BY "
        "version");
  }
  std::vector<std::int64_t> AllVersions() const override {
    return VersionsOf(sqlite::SqliteMigrations());
  }
  Result<Tables> ListTables() override {
    KW_ASSIGN_OR_RETURN(std::vector<std::string> names,
                        Column("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                               "LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name"));
    Tables tables;
    for (const std::string& name : names) {
      KW_ASSIGN_OR_RETURN(
          tables[name],
          Column(("SELECT name FROM pragma_table_info('" + name + "') ORDER BY cid").c_str()));
    }
    return tables;
  }
  Result<Rows> Dump(const Tables& tables) override {
    Rows rows;
    for (const auto& [table, columns] : tables) {
      KW_ASSIGN_OR_RETURN(rows[table], Column(DumpQuery(table, columns, "quote").c_str()));
    }
    return rows;
  }

 private:
  // The first column of every row `sql` selects, as text.
  Result<std::vector<std::string>> Column(const char* sql) {
    KW_ASSIGN_OR_RETURN(auto db, sqlite::Connection::Open(path_, std::chrono::seconds(5)));
    KW_ASSIGN_OR_RETURN(sqlite::Statement select, db->Prepare(sql));
    std::vector<std::string> values;
    while (true) {
      KW_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) return values;
      values.push_back(select.ColumnText(0));
    }
  }

  TempDir dir_;
  std::string path_ = dir_.File("keyward.db");
};

class PostgresFixture final : public FixtureDatabase {
 public:
  Status Create(int version) override {
    KW_RETURN_IF_ERROR(database_.status());
    return testdata::MakePostgresFixture(version, database_.url());
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
  Result<std::vector<std::string>> Recorded() override {
    return Column(
        "SELECT concat_ws('|', version, name, applied_at) FROM schema_migrations ORDER BY "
        "version");
  }
  std::vector<std::int64_t> AllVersions() const override {
    return VersionsOf(pg::PostgresMigrations());
  }
  Result<Tables> ListTables() override {
    KW_ASSIGN_OR_RETURN(
        std::vector<std::string> names,
        Column("SELECT table_name::text FROM information_schema.tables WHERE table_schema = "
               "current_schema() AND table_type = 'BASE TABLE' AND table_name <> "
               "'schema_migrations' ORDER BY 1"));
    Tables tables;
    for (const std::string& name : names) {
      KW_ASSIGN_OR_RETURN(
          pg::Rows rows, database_.Query("SELECT column_name::text FROM information_schema.columns "
                                         "WHERE table_schema = current_schema() AND table_name = "
                                         "$1 ORDER BY ordinal_position",
                                         pg::Params().Text(name)));
      for (int r = 0; r < rows.size(); ++r) tables[name].push_back(rows.Bytes(r, 0));
    }
    return tables;
  }
  Result<Rows> Dump(const Tables& tables) override {
    Rows rows;
    for (const auto& [table, columns] : tables) {
      KW_ASSIGN_OR_RETURN(rows[table], Column(DumpQuery(table, columns, "quote_nullable").c_str()));
    }
    return rows;
  }

 private:
  Result<std::vector<std::string>> Column(const char* sql) {
    KW_ASSIGN_OR_RETURN(pg::Rows rows, database_.Query(sql));
    std::vector<std::string> values;
    for (int r = 0; r < rows.size(); ++r) values.push_back(rows.Bytes(r, 0));
    return values;
  }

  pg::TempDatabase database_;
};

struct UpgradeBackend {
  std::string name;
  std::function<std::unique_ptr<FixtureDatabase>()> make;
  bool needs_postgres = false;
};

void PrintTo(const UpgradeBackend& backend, std::ostream* os) { *os << backend.name; }

const UpgradeBackend kSqlite{"Sqlite", [] { return std::make_unique<SqliteFixture>(); }};
const UpgradeBackend kPostgres{"Postgres", [] { return std::make_unique<PostgresFixture>(); },
                               /*needs_postgres=*/true};

// The V002 fixture, for the tests of what the release before scopes left.
class StoreUpgradeTest : public ::testing::TestWithParam<UpgradeBackend> {
 protected:
  void SetUp() override {
    if (GetParam().needs_postgres && pg::TestServerUrl().empty()) {
      GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (scripts/with-postgres sets it)";
    }
    database_ = GetParam().make();
    KW_ASSERT_OK(database_->Create(2));
    latest_ = database_->AllVersions();
  }

  std::unique_ptr<FixtureDatabase> database_;
  std::vector<std::int64_t> latest_;  // 1 to the last embedded migration
};

const std::vector<std::int64_t> kV002 = {1, 2};
const std::vector<std::int64_t> kV004 = {1, 2, 3, 4};
const std::vector<std::int64_t> kV005 = {1, 2, 3, 4, 5};

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
  EXPECT_EQ(key.hash, HashKey(kDriverKey));
  EXPECT_EQ(key.sealed.size(), 27u);
  EXPECT_EQ(key.masked, MaskKey(kDriverKey));
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
  EXPECT_EQ(after, latest_);
  // V004's table exists, and no key is made by the upgrade: the token issuer makes the first.
  KW_ASSERT_OK_AND_ASSIGN(std::vector<SigningKeyRecord> signing_keys, store->ListSigningKeys());
  EXPECT_TRUE(signing_keys.empty());

  // The key works: the hash of the key as presented finds it, as the Authenticator looks it up.
  ASSERT_TRUE(IsWellFormedKey(kDriverKey, "kw"));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord found, store->FindKeyByHash(HashKey(kDriverKey)));
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
  EXPECT_EQ(versions, latest_);
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
  EXPECT_EQ(after, latest_);

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
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord driver, store->FindKeyByHash(HashKey(kDriverKey)));
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
  EXPECT_EQ(after, latest_);

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

INSTANTIATE_TEST_SUITE_P(Backends, StoreUpgradeTest, ::testing::Values(kSqlite, kPostgres),
                         [](const ::testing::TestParamInfo<UpgradeBackend>& param_info) {
                           return param_info.param.name;
                         });

// Every schema version before the latest has a fixture on both backends, and the backends agree
// on the versions: a migration added after the latest needs a fixture of the latest.
TEST(StoreUpgradeFixtures, EveryEarlierSchemaVersionHasAFixture) {
  const std::vector<std::int64_t> versions = VersionsOf(sqlite::SqliteMigrations());
  ASSERT_EQ(versions, VersionsOf(pg::PostgresMigrations()));
  ASSERT_FALSE(versions.empty());
  const std::span<const int> fixtures = testdata::FixtureVersions();
  for (std::int64_t version = 1; version < versions.back(); ++version) {
    EXPECT_NE(std::find(fixtures.begin(), fixtures.end(), version), fixtures.end())
        << "no upgrade fixture of schema V" << version << " (src/store/upgrade_fixture.h)";
  }
  for (const int version : fixtures) EXPECT_LE(version, versions.back());
}

// One fixture on one backend.
class StoreFixtureUpgradeTest : public ::testing::TestWithParam<std::tuple<UpgradeBackend, int>> {
 protected:
  void SetUp() override {
    if (backend().needs_postgres && pg::TestServerUrl().empty()) {
      GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (scripts/with-postgres sets it)";
    }
    database_ = backend().make();
    KW_ASSERT_OK(database_->Create(version()));
  }

  const UpgradeBackend& backend() const { return std::get<0>(GetParam()); }
  int version() const { return std::get<1>(GetParam()); }

  std::unique_ptr<FixtureDatabase> database_;
};

// `key`, found by the hash of `fixture`'s secret, is that key in exactly the state it had: what
// the authenticator decides on (tests/integration/upgrade_test.cc asks the server itself).
void ExpectState(const FixtureKey& fixture, const KeyRecord& key, UnixSeconds now) {
  SCOPED_TRACE(std::string(fixture.user) + "/" + fixture.name +
               (fixture.old_secret ? " (old secret)" : ""));
  EXPECT_EQ(key.user_id, fixture.user);
  EXPECT_EQ(key.name, fixture.name);
  EXPECT_EQ(key.by_old_secret, fixture.old_secret);
  if (fixture.old_secret) {
    ASSERT_EQ(key.old_secrets.size(), 1u);
    EXPECT_EQ(key.old_secrets[0].hash, HashKey(fixture.secret));
    EXPECT_EQ(key.old_secrets[0].masked, MaskKey(fixture.secret));
    EXPECT_GT(key.old_secrets[0].AcceptedUntil(0), now);  // still in its grace period
  } else {
    EXPECT_EQ(key.hash, HashKey(fixture.secret));
    EXPECT_EQ(key.masked, MaskKey(fixture.secret));
  }
  EXPECT_EQ(key.disabled, fixture.state == KeyState::kDisabled);
  EXPECT_EQ(key.canary, fixture.state == KeyState::kCanary);
  if (fixture.state == KeyState::kExpired) {
    EXPECT_LE(key.expires_at, now);
  } else {
    EXPECT_GT(key.expires_at, now);
  }
  if (fixture.state == KeyState::kCanary) {
    EXPECT_EQ(key.grant, Grant{});
  }
}

// The fixture opens, the migrations after its version run once and are recorded after its own
// (which keep the time they were applied), and every row of every table is there unchanged in
// every column it had: a migration that loses or rewrites data fails here, whatever it is.
TEST_P(StoreFixtureUpgradeTest, UpgradesInPlaceOnceAndKeepsEveryRow) {
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::string> recorded, database_->Recorded());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::int64_t> before, database_->Versions());
  const std::vector<std::int64_t> all = database_->AllVersions();
  ASSERT_EQ(before, std::vector<std::int64_t>(all.begin(), all.begin() + version()));
  KW_ASSERT_OK_AND_ASSIGN(Tables tables, database_->ListTables());
  KW_ASSERT_OK_AND_ASSIGN(Rows rows, database_->Dump(tables));
  ASSERT_GT(rows["api_keys"].size(), 0u);  // the fixture's rows were added

  { KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, database_->Open()); }
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::int64_t> after, database_->Versions());
  EXPECT_EQ(after, all);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::string> recorded_after, database_->Recorded());
  ASSERT_EQ(recorded_after.size(), all.size());
  EXPECT_EQ(std::vector<std::string>(recorded_after.begin(), recorded_after.begin() + version()),
            recorded);
  KW_ASSERT_OK_AND_ASSIGN(Rows kept, database_->Dump(tables));
  for (const auto& [table, values] : rows) EXPECT_EQ(kept[table], values) << table;

  // Opening again runs nothing and changes nothing.
  KW_ASSERT_OK_AND_ASSIGN(Tables upgraded, database_->ListTables());
  KW_ASSERT_OK_AND_ASSIGN(Rows upgraded_rows, database_->Dump(upgraded));
  { KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, database_->Open()); }
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::string> recorded_again, database_->Recorded());
  EXPECT_EQ(recorded_again, recorded_after);
  KW_ASSERT_OK_AND_ASSIGN(Tables tables_again, database_->ListTables());
  EXPECT_EQ(tables_again, upgraded);
  KW_ASSERT_OK_AND_ASSIGN(Rows rows_again, database_->Dump(upgraded));
  EXPECT_EQ(rows_again, upgraded_rows);
}

// Through the store after the upgrade: every key of the fixture is found by the hash of the key
// as presented and keeps exactly its state, and nothing else is there; users, tags, the session,
// audit events, signing keys, webhooks with their deliveries and usage read back, as many as the
// tables held before.
TEST_P(StoreFixtureUpgradeTest, EveryKeyKeepsItsStateAndEveryRecordReadsBack) {
  KW_ASSERT_OK_AND_ASSIGN(Tables tables, database_->ListTables());
  KW_ASSERT_OK_AND_ASSIGN(Rows rows, database_->Dump(tables));
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, database_->Open());
  const UnixSeconds now = Clock::System().Now();

  const std::vector<FixtureKey> keys = testdata::FixtureKeys(version());
  std::vector<std::string> names;
  std::size_t current = 0;
  for (const FixtureKey& fixture : keys) {
    ASSERT_TRUE(IsWellFormedKey(fixture.secret, "kw")) << fixture.name;
    Result<KeyRecord> key = store->FindKeyByHash(HashKey(fixture.secret));
    ASSERT_TRUE(key.ok()) << fixture.user << "/" << fixture.name << ": " << key.status().ToString();
    ExpectState(fixture, *key, now);
    if (!fixture.old_secret) {
      names.push_back(std::string(fixture.user) + "/" + fixture.name);
      ++current;
    }
  }
  std::vector<std::string> listed;
  std::size_t hours = 0;
  for (const char* user : {"alice", "bob"}) {
    KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> listed_keys, store->ListKeys(user));
    for (const KeyRecord& key : listed_keys) {
      listed.push_back(key.user_id + "/" + key.name);
      KW_ASSERT_OK_AND_ASSIGN(KeyUsage usage,
                              store->GetUsage(key.user_id, key.name, 0, 4'102'444'800));
      hours += usage.hours.size();
    }
  }
  std::sort(names.begin(), names.end());
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, names);
  EXPECT_EQ(current, rows["api_keys"].size());
  EXPECT_EQ(hours, rows["key_usage"].size());

  KW_ASSERT_OK_AND_ASSIGN(std::vector<User> users, store->ListUsers());
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].id, "alice");
  EXPECT_EQ(users[0].type, UserType::kPerson);
  EXPECT_EQ(users[0].password_hash, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g");
  EXPECT_EQ(users[0].tags, (std::vector<std::string>{"roles:id:operator", "team:a"}));
  EXPECT_EQ(users[1].id, "bob");
  EXPECT_EQ(users[1].type, UserType::kApplication);
  EXPECT_EQ(users[1].tags, std::vector<std::string>{"team:b"});
  KW_ASSERT_OK_AND_ASSIGN(SessionRecord session,
                          store->FindSessionByHash(Repeat("\x5e\x55\x10\x11", 8)));
  EXPECT_EQ(session.user_id, "alice");
  EXPECT_EQ(session.expires_at, 4'102'444'800);

  AuditFilter many;
  many.limit = 1000;
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> events, store->ListAudit(many));
  EXPECT_EQ(events.size(), rows["audit_events"].size());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<SigningKeyRecord> signing, store->ListSigningKeys());
  EXPECT_EQ(signing.size(), rows["signing_keys"].size());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<Webhook> webhooks, store->ListWebhooks());
  EXPECT_EQ(webhooks.size(), rows["webhooks"].size());
  std::size_t deliveries = 0;
  for (const Webhook& webhook : webhooks) {
    KW_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> listed_deliveries,
                            store->ListDeliveries(webhook.id, 1000));
    deliveries += listed_deliveries.size();
  }
  EXPECT_EQ(deliveries, rows["webhook_deliveries"].size());
}

std::vector<std::tuple<UpgradeBackend, int>> EveryFixture() {
  std::vector<std::tuple<UpgradeBackend, int>> params;
  for (const UpgradeBackend& backend : {kSqlite, kPostgres}) {
    for (const int version : testdata::FixtureVersions()) params.emplace_back(backend, version);
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(
    EveryEarlierVersion, StoreFixtureUpgradeTest, ::testing::ValuesIn(EveryFixture()),
    [](const ::testing::TestParamInfo<std::tuple<UpgradeBackend, int>>& param_info) {
      return fmt::format("{}V{:03}", std::get<0>(param_info.param).name,
                         std::get<1>(param_info.param));
    });

}  // namespace
}  // namespace keyward
