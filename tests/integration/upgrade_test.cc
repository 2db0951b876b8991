// Upgrading from the release before scopes (issue 13, acceptance 5) with the real binary, on
// SQLite and on PostgreSQL: the server starts on a database that release left at schema V002
// (src/store/v002_fixture.h: alice with the operator tag and her key "driver-key", bob and his
// expired key, audit events), and the keys made then keep working with their owner's full power
// and list as full access (`"full_access": true`), while keys made afterwards are not.
//
// The PostgreSQL variant needs the server `scripts/with-postgres` starts (make test runs ctest
// under it) and runs on a database of its own; without KEYWARD_TEST_PG_URL it is skipped.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "backend_fixture.h"
#include "harness.h"
#include "store/v002_fixture.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

using keyward::testdata::kV002DriverKey;

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
    RememberSecret(kV002DriverKey);  // never in a log or a database
    home_ = MakeTempDir();
    std::vector<std::string> args;
    std::string data_dir = home_ + "/data";
    if (GetParam() == Backend::kPostgres) {
      if (!db_.Create("kw_upgrade_")) {
        GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (make test sets it)";
      }
      const std::string url = db_.url();
      Status made = testdata::MakePostgresV002(url);
      ASSERT_TRUE(made.ok()) << made.ToString();
      args = {"--db", url, "--master-key-file", home_ + "/master.key"};
    } else {
      std::filesystem::create_directory(data_dir);
      std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all);
      Status made = testdata::MakeSqliteV002(data_dir + "/keyward.db");
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
  HttpResult auth = Auth(kV002DriverKey);
  ASSERT_EQ(auth.status, 200) << auth.body;
  EXPECT_EQ(auth.Header("x-keyward-user"), "alice");
  EXPECT_EQ(auth.Header("x-keyward-tags"), "roles:id:operator,team:a");
  EXPECT_EQ(auth.Header("x-keyward-key-name"), "driver-key");

  HttpResult me = server_->As(kV002DriverKey, "GET", "/api/v1/users/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Json().at("id").as_string(), "alice");
  // Operator powers: every user, and the audit log with the events of before.
  HttpResult users = server_->As(kV002DriverKey, "GET", "/api/v1/users");
  ASSERT_EQ(users.status, 200) << users.body;
  EXPECT_EQ(users.Json().as_array().size(), 2u);
  HttpResult bobs = server_->As(kV002DriverKey, "GET", "/api/v1/users/bob/apikeys");
  ASSERT_EQ(bobs.status, 200) << bobs.body;
  ASSERT_NE(FindByName(bobs.Json(), "old"), nullptr) << bobs.body;
  HttpResult audit = server_->As(kV002DriverKey, "GET", "/api/v1/audit");
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_EQ(audit.Json().at("events").as_array().size(), 3u) << audit.body;

  EXPECT_EQ(Auth(WithTypo(kV002DriverKey)).status, 401);
}

// The grant as the API shows it (docs/api.md, "Scopes"): the old key is full access, a key
// created afterwards is not.
TEST_P(UpgradeTest, KeyMadeBeforeScopesListsAsFullAccessAndNewKeysDoNot) {
  EXPECT_EQ(Auth(kV002DriverKey).Header("x-keyward-scopes"), "*");
  const std::string fresh = server_->NewKey(kV002DriverKey, "alice", "after-upgrade");
  ASSERT_FALSE(fresh.empty());

  HttpResult list = server_->As(kV002DriverKey, "GET", "/api/v1/users/me/apikeys");
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

}  // namespace
}  // namespace keyward::testing
