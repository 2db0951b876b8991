// The audit log (issue 8) against the real binary, on SQLite and on PostgreSQL: a scripted
// sequence of sign-ins, user, key and tag changes leaves exactly those events, with the right
// actor, action, user, target, address and outcome, through the API and through
// `keyward audit get`; a non-operator reads only their own; and a reveal whose record cannot be
// written (a trigger on the real table refuses it) is refused without the key.
//
// The PostgreSQL variant needs the server `scripts/with-postgres` starts (make test runs ctest
// under it) and runs on a database of its own; without KEYWARD_TEST_PG_URL it is skipped.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "backend_fixture.h"
#include "common/clock.h"
#include "harness.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

constexpr char kCarolPassword[] = "carol-password-5b8e21";
constexpr char kWrongPassword[] = "carol-wrong-password-9d4f";

// "action actor user target address outcome" of each event, in the order given.
std::vector<std::string> Lines(const json::array& events) {
  std::vector<std::string> lines;
  for (const json::value& e : events) {
    lines.push_back(Str(e, "action") + " " + Str(e, "actor") + " " + Str(e, "user") + " " +
                    Str(e, "target") + " " + Str(e, "address") + " " + Str(e, "outcome"));
  }
  return lines;
}

class AuditTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      // A database of its own, so that no other test's events are in it.
      if (!db_.Create("kw_audit_")) {
        GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (make test sets it)";
      }
      url_ = db_.url();
    }
    home_ = MakeTempDir();
    std::vector<std::string> args;
    if (GetParam() == Backend::kPostgres) {
      // --db cannot reveal without a master key shared by the nodes.
      args = {"--db", url_, "--master-key-file", home_ + "/master.key"};
    }
    server_ = ServerProcess::Start(args);
    ASSERT_GT(server_->port(), 0);
  }

  void TearDown() override {
    StopAndScan(server_, GetParam() == Backend::kSqlite);
    db_.Drop();
    if (!home_.empty()) RemoveTree(home_);
  }

  // Makes a trigger refuse every insert into the audit table (or drops it).
  void BlockAuditWrites(bool block) {
    if (GetParam() == Backend::kSqlite) {
      SqliteExec(server_->data_dir() + "/keyward.db",
                 block ? "CREATE TRIGGER kw_no_audit BEFORE INSERT ON audit_events "
                         "BEGIN SELECT RAISE(ABORT, 'audit disabled'); END"
                       : "DROP TRIGGER kw_no_audit");
    } else if (block) {
      Psql(url_,
           "CREATE FUNCTION kw_no_audit() RETURNS trigger LANGUAGE plpgsql AS "
           "$$ BEGIN RAISE EXCEPTION 'audit disabled'; END $$; "
           "CREATE TRIGGER kw_no_audit BEFORE INSERT ON audit_events "
           "FOR EACH ROW EXECUTE FUNCTION kw_no_audit()");
    } else {
      Psql(url_, "DROP TRIGGER kw_no_audit ON audit_events; DROP FUNCTION kw_no_audit()");
    }
  }

  // GET /api/v1/audit<query> as `token`; the events, or an empty array (and a failed test).
  json::array Audit(const std::string& token, const std::string& query = "") {
    HttpResult r = server_->As(token, "GET", "/api/v1/audit" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return r.Json().at("events").as_array();
  }

  // `keyward audit get <args>` with `token` in KEYWARD_APIKEY.
  ProcessResult Cli(const std::string& token, std::vector<std::string> args) {
    args.insert(args.begin(), {"audit", "get"});
    return RunKeyward(args,
                      {{"HOME", home_},
                       {"XDG_CONFIG_HOME", ""},
                       {"KEYWARD_SERVER", "http://127.0.0.1:" + std::to_string(server_->port())},
                       {"KEYWARD_APIKEY", token}});
  }

  // The script: an admin and a person, carol, each doing audited things (and one thing that
  // is not audited). Returns the session tokens of admin and carol.
  std::pair<std::string, std::string> RunScript() {
    std::string admin = server_->Login("admin", kAdminPassword);
    EXPECT_EQ(server_
                  ->As(admin, "POST", "/api/v1/users",
                       {{"id", "carol"},
                        {"name", "Carol"},
                        {"type", "person"},
                        {"password", kCarolPassword}})
                  .status,
              201);
    EXPECT_EQ(server_
                  ->As(admin, "POST", "/api/v1/users",
                       {{"id", "gone"}, {"name", "Gone"}, {"type", "application"}})
                  .status,
              201);
    EXPECT_EQ(server_->As(admin, "DELETE", "/api/v1/users/gone").status, 204);
    std::string carol = server_->Login("carol", kCarolPassword);
    RememberSecret(kWrongPassword);
    HttpResult wrong =
        Call(server_->port(), "POST", "/api/v1/login",
             json::serialize(json::value{{"username", "carol"}, {"password", kWrongPassword}}));
    EXPECT_EQ(wrong.status, 401);
    std::string key = server_->NewKey(carol, "me", "ci");
    HttpResult revealed = server_->As(carol, "GET", "/api/v1/users/me/apikeys/ci/token");
    EXPECT_EQ(revealed.status, 200);
    EXPECT_NE(revealed.body.find(key), std::string::npos);
    EXPECT_EQ(server_->As(carol, "GET", "/api/v1/users/me/apikeys").status, 200);  // no event
    EXPECT_EQ(server_->As(carol, "GET", "/api/v1/users/admin/apikeys/admin-key/token").status, 404);
    EXPECT_EQ(server_->As(carol, "DELETE", "/api/v1/users/me/apikeys/ci").status, 204);
    EXPECT_EQ(
        server_->As(admin, "POST", "/api/v1/users/carol/tags", {{"tag", "team:audit"}}).status,
        200);
    EXPECT_EQ(server_->As(admin, "DELETE", "/api/v1/users/carol/tags/team:audit").status, 200);
    EXPECT_EQ(server_->As(carol, "POST", "/api/v1/users/carol/tags", {{"tag", "roles:id:operator"}})
                  .status,
              403);
    return {admin, carol};
  }

  PostgresTestDatabase db_;  // PostgreSQL: this test's database, dropped in TearDown
  std::string url_, home_;
  std::unique_ptr<ServerProcess> server_;
};

// What RunScript leaves, newest first.
const std::vector<std::string> kScriptEvents = {
    "tag.add carol carol roles:id:operator 127.0.0.1 failure",
    "tag.delete admin carol team:audit 127.0.0.1 success",
    "tag.add admin carol team:audit 127.0.0.1 success",
    "key.delete carol carol ci 127.0.0.1 success",
    "key.reveal carol admin admin-key 127.0.0.1 failure",
    "key.reveal carol carol ci 127.0.0.1 success",
    "key.create carol carol ci 127.0.0.1 success",
    "signin carol carol  127.0.0.1 failure",
    "signin carol carol  127.0.0.1 success",
    "user.delete admin gone  127.0.0.1 success",
    "user.create admin gone  127.0.0.1 success",
    "user.create admin carol  127.0.0.1 success",
    "signin admin admin  127.0.0.1 success",
};

TEST_P(AuditTest, AScriptedSequenceLeavesExactlyItsEvents) {
  const UnixSeconds started = keyward::Clock::System().Now();
  auto [admin, carol] = RunScript();
  const UnixSeconds ended = keyward::Clock::System().Now();

  json::array events = Audit(admin);
  EXPECT_EQ(Lines(events), kScriptEvents);
  std::int64_t previous_id = 0;
  for (const json::value& e : events) {
    SCOPED_TRACE(json::serialize(e));
    const std::int64_t id = e.at("id").as_int64();
    if (previous_id != 0) {
      EXPECT_LT(id, previous_id);  // newest first
    }
    previous_id = id;
    std::optional<UnixSeconds> time = ParseRfc3339(Str(e, "time"));
    ASSERT_TRUE(time.has_value());
    EXPECT_TRUE(Str(e, "time").ends_with("Z"));
    EXPECT_GE(*time, started);
    EXPECT_LE(*time, ended);
    EXPECT_EQ(Str(e, "reason").empty(), Str(e, "outcome") == "success");
    // A key.create that succeeded holds the grant (here: no scopes, the owner's tags live).
    const bool created = Str(e, "action") == "key.create" && Str(e, "outcome") == "success";
    EXPECT_EQ(Str(e, "detail"), created ? "scopes= tags=*" : "");
    // id time actor action user target address outcome reason detail
    EXPECT_EQ(e.as_object().size(), 10u);
  }

  // The same through the CLI, as JSON and as a table.
  ProcessResult as_json = Cli(admin, {"-o", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out), json::value(events));
  ProcessResult table = Cli(admin, {});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (const char* column : {"TIME", "ACTOR", "ACTION", "USER", "TARGET", "ADDRESS", "OUTCOME"}) {
    EXPECT_NE(table.out.find(column), std::string::npos) << column << "\n" << table.out;
  }
  EXPECT_NE(table.out.find("| key.reveal "), std::string::npos) << table.out;
  EXPECT_NE(table.err.find("audit get...complete"), std::string::npos) << table.err;
  ProcessResult as_yaml = Cli(admin, {"-o", "yaml", "--limit", "2"});
  ASSERT_EQ(as_yaml.exit_code, 0) << as_yaml.err;
  EXPECT_NE(as_yaml.out.find("action: \"tag.delete\""), std::string::npos) << as_yaml.out;
  EXPECT_EQ(as_yaml.out.find("key.delete"), std::string::npos) << as_yaml.out;

  // Filters: a user as actor or user, a time window, a limit.
  EXPECT_EQ(Lines(Audit(admin, "?user=gone")),
            (std::vector<std::string>{"user.delete admin gone  127.0.0.1 success",
                                      "user.create admin gone  127.0.0.1 success"}));
  EXPECT_EQ(Lines(Audit(admin, "?limit=1")), std::vector<std::string>{kScriptEvents.front()});
  EXPECT_EQ(Audit(admin, "?since=" + FormatRfc3339(ended + 3600)).size(), 0u);
  EXPECT_EQ(Audit(admin, "?until=" + FormatRfc3339(started - 3600)).size(), 0u);
  EXPECT_EQ(
      Audit(admin, "?since=" + FormatRfc3339(started) + "&until=" + FormatRfc3339(ended)).size(),
      kScriptEvents.size());
  ProcessResult window =
      Cli(admin, {"--user", "carol", "--since", FormatRfc3339(started), "--until",
                  FormatRfc3339(ended), "--limit", "1000", "-o", "json"});
  ASSERT_EQ(window.exit_code, 0) << window.err;
  EXPECT_EQ(json::parse(window.out).as_array().size(), 10u);
  EXPECT_TRUE(Audit(admin).size() == kScriptEvents.size()) << "reading the log is not an event";
}

TEST_P(AuditTest, ANonOperatorSeesOnlyTheirOwnEvents) {
  auto [admin, carol] = RunScript();
  std::vector<std::string> own;
  for (const std::string& line : kScriptEvents) {
    // Events whose actor (second word) or user (third word) is carol.
    if (line.find(" carol carol ") != std::string::npos ||
        line.find(" admin carol ") != std::string::npos ||
        line.find(" carol admin ") != std::string::npos) {
      own.push_back(line);
    }
  }
  ASSERT_EQ(own.size(), 10u);
  EXPECT_EQ(Lines(Audit(carol)), own);
  EXPECT_EQ(Lines(Audit(carol, "?user=me")), own);
  EXPECT_EQ(Lines(Audit(carol, "?user=carol")), own);

  HttpResult others = server_->As(carol, "GET", "/api/v1/audit?user=admin");
  EXPECT_EQ(others.status, 403) << others.body;
  EXPECT_EQ(Str(others.Json().at("error"), "code"), "permission_denied");
  ProcessResult cli = Cli(carol, {"--user", "admin"});
  EXPECT_EQ(cli.exit_code, 4) << cli.err;
  EXPECT_NE(cli.err.find("ERRO"), std::string::npos) << cli.err;
  EXPECT_TRUE(cli.out.empty()) << cli.out;
  EXPECT_EQ(Cli(carol, {"-o", "json"}).exit_code, 0);
  // Not signed in: no events for anyone.
  EXPECT_EQ(Call(server_->port(), "GET", "/api/v1/audit").status, 401);
}

TEST_P(AuditTest, BadParametersAreRefusedWithTheUsualErrorShape) {
  std::string admin = server_->Login("admin", kAdminPassword);
  for (const char* query :
       {"?since=yesterday", "?until=2023-08-10",
        "?since=2023-08-11T00:00:00Z&until=2023-08-10T00:00:00Z", "?limit=0", "?limit=1001",
        "?limit=ten", "?limit=1&limit=2", "?user=Not%20An%20Id"}) {
    SCOPED_TRACE(query);
    HttpResult r = server_->As(admin, "GET", std::string("/api/v1/audit") + query);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Str(r.Json().at("error"), "code"), "invalid_argument") << r.body;
    EXPECT_FALSE(Str(r.Json().at("error"), "message").empty());
  }
  EXPECT_EQ(Cli(admin, {"--since", "yesterday"}).exit_code, 2);
  EXPECT_EQ(Cli(admin, {"-o", "xml"}).exit_code, 2);
  EXPECT_EQ(Cli(admin, {"--limit", "0"}).exit_code, 2);
  ProcessResult help = RunKeyward({"audit", "get", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--user", "--since", "--until", "--limit", "--output"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << help.out;
  }
  // An offset other than Z works when the client encodes '+'.
  EXPECT_EQ(Audit(admin, "?since=2023-08-10T23%3A00%3A00%2B02%3A00").size(), 1u);  // the sign-in
}

TEST_P(AuditTest, ARevealThatCannotBeRecordedIsRefusedWithoutTheKey) {
  std::string carol;
  {
    std::string admin = server_->Login("admin", kAdminPassword);
    ASSERT_EQ(server_
                  ->As(admin, "POST", "/api/v1/users",
                       {{"id", "carol"},
                        {"name", "Carol"},
                        {"type", "person"},
                        {"password", kCarolPassword}})
                  .status,
              201);
    carol = server_->Login("carol", kCarolPassword);
  }
  std::string key = server_->NewKey(carol, "me", "ci");
  std::string other = server_->NewKey(carol, "me", "other");
  ASSERT_FALSE(key.empty());

  BlockAuditWrites(true);
  HttpResult refused = server_->As(carol, "GET", "/api/v1/users/me/apikeys/ci/token");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.body.find(key), std::string::npos) << "the key was sent";
  EXPECT_EQ(refused.body.find("kw_"), std::string::npos) << refused.body;
  EXPECT_EQ(Str(refused.Json().at("error"), "code"), "unavailable");
  EXPECT_NE(Str(refused.Json().at("error"), "message").find("audit"), std::string::npos);
  HttpResult listed = server_->As(carol, "GET", "/api/v1/users/me/apikeys?reveal=true");
  EXPECT_EQ(listed.status, 503) << listed.body;
  EXPECT_EQ(listed.body.find(key), std::string::npos);
  EXPECT_EQ(listed.body.find(other), std::string::npos);
  // Other actions stand without their record; the server says so in its log.
  EXPECT_EQ(server_->As(carol, "DELETE", "/api/v1/users/me/apikeys/other").status, 204);
  EXPECT_EQ(server_->As(carol, "GET", "/api/v1/users/me/apikeys").status, 200);

  BlockAuditWrites(false);
  HttpResult revealed = server_->As(carol, "GET", "/api/v1/users/me/apikeys/ci/token");
  ASSERT_EQ(revealed.status, 200) << revealed.body;
  EXPECT_EQ(Str(revealed.Json(), "token"), key);
  // The refused reveals and the delete made while the table refused inserts left no event.
  EXPECT_EQ(Lines(Audit(carol)), (std::vector<std::string>{
                                     "key.reveal carol carol ci 127.0.0.1 success",
                                     "key.create carol carol other 127.0.0.1 success",
                                     "key.create carol carol ci 127.0.0.1 success",
                                     "signin carol carol  127.0.0.1 success",
                                     "user.create admin carol  127.0.0.1 success",
                                 }));
  std::string log = server_->Log();
  EXPECT_NE(log.find("audit: could not record key.delete"), std::string::npos) << log;
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace keyward::testing
