// Upgrades with the real binary, on SQLite and on PostgreSQL.
//
// Every earlier schema version (the fixtures of src/store/upgrade_fixture.h, V001 up to the
// newest, each as its release made the schema and wrote the rows): `keyward serve` starts on it,
// applies the later migrations once (and a second start none), and answers /auth for each of the
// fixture's keys as before the upgrade: 200 for the valid ones (an old secret in its grace
// period too), 401 for the expired, the disabled and the canary. The latest version comes from
// the embedded migrations, so a new migration needs no change here.
//
// The release before scopes (issue 13, acceptance 5): on the V002 fixture (alice with the
// operator tag and her key "driver-key", bob and his expired key, audit events) the keys made then
// keep working with their owner's full power and list as full access (`"full_access": true`),
// while keys made afterwards are not.
//
// A database a newer keyward has migrated is refused: `keyward serve` exits 2 with one line
// naming both versions and saying to use a newer keyward, and changes nothing.
//
// The PostgreSQL variants need the server `scripts/with-postgres` starts (make test runs ctest
// under it) and run on a database of their own; without KEYWARD_TEST_PG_URL they are skipped.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "backend_fixture.h"
#include "harness.h"
#include "store/sqlite/sqlite_migrations.h"
#include "store/store_factory.h"
#include "store/upgrade_fixture.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

using keyward::testdata::FixtureKey;
using keyward::testdata::kDriverKey;
using keyward::testdata::KeyState;

// Member `name` of object `v`, or the string "<missing>" (so a missing member fails an
// expectation instead of throwing).
json::value Member(const json::value& v, const char* name) {
  const json::value* member = v.as_object().if_contains(name);
  return member != nullptr ? *member : json::value("<missing>");
}

const json::value* FindByName(const json::value& list, const std::string& name) {
  for (const auto& item : list.as_array()) {
    if (item.at("name").as_string() == name) return &item;
  }
  return nullptr;
}

class UpgradeTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    for (const FixtureKey& key : testdata::FixtureKeys(2)) {
      RememberSecret(key.secret);  // never in a log or a database
    }
    home_ = MakeTempDir();
    std::vector<std::string> args;
    std::string data_dir = home_ + "/data";
    if (GetParam() == Backend::kPostgres) {
      if (!db_.Create("kw_upgrade_")) {
        GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (make test sets it)";
      }
      const std::string url = db_.url();
      Status made = testdata::MakePostgresFixture(2, url);
      ASSERT_TRUE(made.ok()) << made.ToString();
      args = {"--db", url, "--master-key-file", home_ + "/master.key"};
    } else {
      std::filesystem::create_directory(data_dir);
      std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all);
      Status made = testdata::MakeSqliteFixture(2, data_dir + "/keyward.db");
      ASSERT_TRUE(made.ok()) << made.ToString();
    }
    server_ = ServerProcess::Start(args, data_dir);
    ASSERT_GT(server_->port(), 0);
  }

  void TearDown() override {
    StopAndScan(server_, GetParam() == Backend::kSqlite);
    db_.Drop();
    if (!home_.empty()) RemoveTree(home_);
  }

  HttpResult Auth(const std::string& key) {
    return Call(server_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + key}});
  }

  std::string home_;
  PostgresTestDatabase db_;  // PostgreSQL: this test's database, dropped in TearDown
  std::unique_ptr<ServerProcess> server_;
};

// What works with the server as it was: the old key authenticates, at /auth and in the API, with
// all of alice's power (her operator tag included), and the old records are all there.
TEST_P(UpgradeTest, KeyMadeBeforeScopesKeepsWorkingWithItsOwnersFullPower) {
  EXPECT_NE(server_->Log().find("applied migration V003__key_grants"), std::string::npos);
  HttpResult auth = Auth(kDriverKey);
  ASSERT_EQ(auth.status, 200) << auth.body;
  EXPECT_EQ(auth.Header("x-keyward-user"), "alice");
  EXPECT_EQ(auth.Header("x-keyward-tags"), "roles:id:operator,team:a");
  EXPECT_EQ(auth.Header("x-keyward-key-name"), "driver-key");

  HttpResult me = server_->As(kDriverKey, "GET", "/api/v1/users/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Json().at("id").as_string(), "alice");
  // Operator powers: every user, and the audit log with the events of before.
  HttpResult users = server_->As(kDriverKey, "GET", "/api/v1/users");
  ASSERT_EQ(users.status, 200) << users.body;
  EXPECT_EQ(users.Json().as_array().size(), 2u);
  HttpResult bobs = server_->As(kDriverKey, "GET", "/api/v1/users/bob/apikeys");
  ASSERT_EQ(bobs.status, 200) << bobs.body;
  ASSERT_NE(FindByName(bobs.Json(), "old"), nullptr) << bobs.body;
  HttpResult audit = server_->As(kDriverKey, "GET", "/api/v1/audit");
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_EQ(audit.Json().at("events").as_array().size(), 3u) << audit.body;

  EXPECT_EQ(Auth(WithTypo(kDriverKey)).status, 401);
}

// The grant as the API shows it (docs/api.md, "Scopes"): the old key is full access, a key
// created afterwards is not.
TEST_P(UpgradeTest, KeyMadeBeforeScopesListsAsFullAccessAndNewKeysDoNot) {
  EXPECT_EQ(Auth(kDriverKey).Header("x-keyward-scopes"), "*");
  const std::string fresh = server_->NewKey(kDriverKey, "alice", "after-upgrade");
  ASSERT_FALSE(fresh.empty());

  HttpResult list = server_->As(kDriverKey, "GET", "/api/v1/users/me/apikeys");
  ASSERT_EQ(list.status, 200) << list.body;
  const json::value listed = list.Json();
  const json::value* old_key = FindByName(listed, "driver-key");
  ASSERT_NE(old_key, nullptr) << list.body;
  EXPECT_EQ(Member(*old_key, "full_access"), json::value(true)) << *old_key;
  EXPECT_EQ(old_key->at("token").as_string(), "kw_W2wQ…9feP");
  const json::value* new_key = FindByName(listed, "after-upgrade");
  ASSERT_NE(new_key, nullptr) << list.body;
  EXPECT_EQ(Member(*new_key, "full_access"), json::value(false)) << *new_key;
  EXPECT_EQ(Member(*new_key, "scopes"), json::array()) << *new_key;
  EXPECT_EQ(Auth(fresh).status, 200);  // a key without scopes still authenticates
}

INSTANTIATE_TEST_SUITE_P(Backends, UpgradeTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

// The single value `sql` selects from the SQLite database `path`, as text; "" and a test
// failure if it cannot.
std::string SqliteValue(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* select = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &select, nullptr) == SQLITE_OK &&
        sqlite3_step(select) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(select, 0);
      value = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    } else {
      ADD_FAILURE() << path << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(select);
  } else {
    ADD_FAILURE() << "cannot open " << path;
  }
  sqlite3_close(db);
  return value;
}

// The last schema version this build knows (both backends have the same: the store's
// EveryEarlierSchemaVersionHasAFixture checks it).
int LatestVersion() { return sqlite::SqliteMigrations().back().version; }

// A fixture database of the test's own on one backend, and what `keyward serve` needs for it.
class FixtureHome {
 public:
  explicit FixtureHome(Backend backend) : backend_(backend), home_(MakeTempDir()) {}
  ~FixtureHome() {
    db_.Drop();
    RemoveTree(home_);
  }

  // False, making nothing, when the backend is PostgreSQL and KEYWARD_TEST_PG_URL is unset.
  bool Available() {
    if (backend_ == Backend::kSqlite) return true;
    return !db_.url().empty() || db_.Create("kw_upgrade_");
  }
  // Makes the fixture of schema `version`.
  Status Make(int version) {
    if (backend_ == Backend::kPostgres) return testdata::MakePostgresFixture(version, db_.url());
    std::filesystem::create_directory(data_dir());
    std::filesystem::permissions(data_dir(), std::filesystem::perms::owner_all);
    return testdata::MakeSqliteFixture(version, data_dir() + "/keyward.db");
  }
  // `keyward serve`'s flags for the database, beyond --listen and --data-dir.
  std::vector<std::string> Args() const {
    if (backend_ == Backend::kSqlite) return {};
    return {"--db", db_.url(), "--master-key-file", home_ + "/master.key"};
  }
  std::string data_dir() const { return home_ + "/data"; }
  // The single value `sql` selects from the database, as text.
  std::string Value(const std::string& sql) const {
    return backend_ == Backend::kSqlite ? SqliteValue(data_dir() + "/keyward.db", sql)
                                        : Psql(db_.url(), sql);
  }
  // Runs `sql` on the database, failing the test if it does not succeed.
  void Exec(const std::string& sql) const {
    if (backend_ == Backend::kSqlite) {
      SqliteExec(data_dir() + "/keyward.db", sql);
    } else {
      Psql(db_.url(), sql);
    }
  }
  // Opens the store on it as the server does, applying every pending migration.
  Status Migrate() const {
    StoreOptions options{.data_dir = data_dir(), .db_url = db_.url()};
    return OpenStore(options).status();
  }

 private:
  Backend backend_;
  std::string home_;
  PostgresTestDatabase db_;
};

std::string BackendName(Backend backend) {
  return backend == Backend::kSqlite ? "Sqlite" : "Postgres";
}

class FixtureUpgradeTest : public ::testing::TestWithParam<std::tuple<Backend, int>> {
 protected:
  void SetUp() override {
    home_ = std::make_unique<FixtureHome>(backend());
    if (!home_->Available()) GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (make test sets it)";
    for (const FixtureKey& key : testdata::FixtureKeys(version())) RememberSecret(key.secret);
    Status made = home_->Make(version());
    ASSERT_TRUE(made.ok()) << made.ToString();
  }

  void TearDown() override {
    StopAndScan(server_, backend() == Backend::kSqlite);
    home_.reset();
  }

  Backend backend() const { return std::get<0>(GetParam()); }
  int version() const { return std::get<1>(GetParam()); }

  void Start() {
    server_ = ServerProcess::Start(home_->Args(), home_->data_dir());
    ASSERT_GT(server_->port(), 0) << server_->Log();
  }

  // /auth answers each of the fixture's keys as its state says: 200 naming its owner and name
  // for a valid one, 401 for the others (as before the upgrade).
  void ExpectEveryKeyAnsweredAsBefore() {
    for (const FixtureKey& key : testdata::FixtureKeys(version())) {
      SCOPED_TRACE(std::string(key.user) + "/" + key.name +
                   (key.old_secret ? " (old secret)" : ""));
      HttpResult auth = Call(server_->port(), "GET", "/auth", "",
                             {{"Authorization", "Bearer " + std::string(key.secret)}});
      if (key.state == KeyState::kValid) {
        EXPECT_EQ(auth.status, 200) << auth.body;
        EXPECT_EQ(auth.Header("x-keyward-user"), key.user);
        EXPECT_EQ(auth.Header("x-keyward-key-name"), key.name);
      } else {
        EXPECT_EQ(auth.status, 401) << auth.body;
      }
    }
  }

  std::unique_ptr<FixtureHome> home_;
  std::unique_ptr<ServerProcess> server_;
};

// The server starts on the fixture, applies exactly the migrations after its version, once, and
// answers every key as before; started again, it applies nothing and answers the same.
TEST_P(FixtureUpgradeTest, ServeUpgradesOnceAndEveryKeyAnswersAsBefore) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::string log = server_->Log();
  for (const Migration& migration : sqlite::SqliteMigrations()) {
    const std::string line =
        fmt::format("applied migration V{:03}__{}", migration.version, migration.name);
    if (migration.version > version()) {
      EXPECT_NE(log.find(line), std::string::npos) << line << "\n" << log;
    } else {
      EXPECT_EQ(log.find(line), std::string::npos) << line << "\n" << log;
    }
  }
  EXPECT_EQ(home_->Value("SELECT max(version) FROM schema_migrations"),
            std::to_string(LatestVersion()));
  ExpectEveryKeyAnsweredAsBefore();

  StopAndScan(server_, backend() == Backend::kSqlite);
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_EQ(server_->Log().find("applied migration"), std::string::npos) << server_->Log();
  ExpectEveryKeyAnsweredAsBefore();
}

std::vector<std::tuple<Backend, int>> EveryFixture() {
  std::vector<std::tuple<Backend, int>> params;
  for (const Backend backend : {Backend::kSqlite, Backend::kPostgres}) {
    for (const int version : testdata::FixtureVersions()) params.emplace_back(backend, version);
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(EveryEarlierVersion, FixtureUpgradeTest,
                         ::testing::ValuesIn(EveryFixture()),
                         [](const ::testing::TestParamInfo<std::tuple<Backend, int>>& param_info) {
                           return fmt::format("{}V{:03}",
                                              BackendName(std::get<0>(param_info.param)),
                                              std::get<1>(param_info.param));
                         });

// A database that a newer keyward migrated (a version past this build's latest recorded) is
// refused at start: exit 2 (systemd's unit does not restart it), one error line naming both
// versions and what to do, no "internal error", and nothing applied or changed.
class NewerSchemaTest : public ::testing::TestWithParam<Backend> {};

TEST_P(NewerSchemaTest, ServeRefusesItWithOneClearLine) {
  FixtureHome home(GetParam());
  if (!home.Available()) GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (make test sets it)";
  for (const FixtureKey& key : testdata::FixtureKeys(testdata::FixtureVersions().back())) {
    RememberSecret(key.secret);
  }
  Status made = home.Make(testdata::FixtureVersions().back());
  ASSERT_TRUE(made.ok()) << made.ToString();
  Status migrated = home.Migrate();
  ASSERT_TRUE(migrated.ok()) << migrated.ToString();
  const int newer = LatestVersion() + 1;
  home.Exec(fmt::format(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES ({}, 'from_the_future', "
      "1900000000)",
      newer));
  const std::string recorded = "SELECT count(*) || ' ' || max(version) FROM schema_migrations";
  const std::string before = home.Value(recorded);
  ASSERT_EQ(before, fmt::format("{} {}", LatestVersion() + 1, newer));
  const std::string keys = home.Value("SELECT count(*) FROM api_keys");

  std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--data-dir",
                                   home.data_dir()};
  for (const std::string& arg : home.Args()) args.push_back(arg);
  const ProcessResult r = RunKeyward(args, {{"KEYWARD_ADMIN_PASSWORD", kAdminPassword}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  std::vector<std::string> errors;
  std::size_t start = 0;
  while (start < r.err.size()) {
    std::size_t end = r.err.find('\n', start);
    if (end == std::string::npos) end = r.err.size();
    const std::string line = r.err.substr(start, end - start);
    if (line.find("ERROR") != std::string::npos) errors.push_back(line);
    start = end + 1;
  }
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_TRUE(errors[0].ends_with(fmt::format(
      "ERROR the database has schema version {} but this keyward knows only up to {}; use a "
      "newer keyward",
      newer, LatestVersion())))
      << errors[0];
  EXPECT_EQ(r.err.find("internal"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("applied migration"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
  EXPECT_EQ(home.Value(recorded), before);
  EXPECT_EQ(home.Value("SELECT count(*) FROM api_keys"), keys);
}

INSTANTIATE_TEST_SUITE_P(Backends, NewerSchemaTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return BackendName(param_info.param);
                         });

}  // namespace
}  // namespace keyward::testing
