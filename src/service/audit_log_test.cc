// The audit log's service logic against a real SQLite store in a temporary folder: what each
// use case records, who may read what, the query parameters, and a reveal that cannot be
// recorded (a trigger on the real table refuses the insert).
#include "service/audit_log.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "common/random.h"
#include "common/status_matchers.h"
#include "core/api_key.h"
#include "service/key_service.h"
#include "service/sign_in_service.h"
#include "service/user_service.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

constexpr char kAlicePassword[] = "alice-password";

// A second connection to the store's file, as an administrator (or an attacker) would have.
void ExecOn(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK)
      << sql << ": " << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close_v2(db);
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    KW_ASSERT_OK_AND_ASSIGN(store_, OpenSqliteStore(dir_.File("keyward.db")));
    master_ = std::make_unique<MasterKey>(MasterKey::FromBytes(RandomBytes(32)));
    audit_ = std::make_unique<AuditLog>(*store_, clock_);
    users_ = std::make_unique<UserService>(*store_, clock_, &cache_, audit_.get());
    keys_ = std::make_unique<KeyService>(*store_, master_.get(), options_, clock_, &cache_,
                                         audit_.get());
    sign_in_ = std::make_unique<SignInService>(*store_, options_, clock_, &cache_, audit_.get());
    KW_ASSERT_OK(users_->Bootstrap(std::string("admin-password")).status());
    KW_ASSERT_OK_AND_ASSIGN(admin_.user, store_->GetUser("admin"));
    admin_.client_address = "10.0.0.1";
    admin_.grant = FullAccess();  // signed in: their full power
    NewUser alice{"alice", "Alice", "person", std::string(kAlicePassword)};
    KW_ASSERT_OK(users_->Create(admin_, alice).status());
    KW_ASSERT_OK_AND_ASSIGN(alice_.user, store_->GetUser("alice"));
    alice_.client_address = "10.0.0.2";
    alice_.grant = FullAccess();
  }

  // Every event, oldest first.
  std::vector<AuditEvent> Events() {
    AuditFilter all;
    all.limit = kMaxAuditLimit;
    auto events = store_->ListAudit(all);
    EXPECT_THAT(events, IsOk());
    std::vector<AuditEvent> out = events.ok() ? *events : std::vector<AuditEvent>{};
    std::reverse(out.begin(), out.end());
    return out;
  }

  // "action actor user target address outcome" of each event, oldest first.
  std::vector<std::string> Lines() {
    std::vector<std::string> lines;
    for (const AuditEvent& e : Events()) {
      lines.push_back(std::string(AuditActionName(e.action)) + " " + e.actor + " " + e.user + " " +
                      e.target + " " + e.address + " " + (e.success ? "success" : "failure"));
    }
    return lines;
  }

  void RememberKey(const std::string& secret) { secrets_.push_back(secret); }
  // No event field holds a remembered secret, nor the SHA-256 of one (raw or in hex).
  void ExpectNoSecretInEvents() {
    for (const AuditEvent& e : Events()) {
      for (const std::string* field : {&e.actor, &e.user, &e.target, &e.address, &e.reason}) {
        for (const std::string& secret : secrets_) {
          const std::string hash = HashKey(secret);
          std::string hex;
          for (unsigned char c : hash) hex += fmt::format("{:02x}", c);
          EXPECT_EQ(field->find(secret), std::string::npos) << *field;
          EXPECT_EQ(field->find(hash), std::string::npos) << *field;
          EXPECT_EQ(field->find(hex), std::string::npos) << *field;
        }
      }
    }
  }

  void BlockAuditWrites() {
    ExecOn(dir_.File("keyward.db"),
           "CREATE TRIGGER no_audit BEFORE INSERT ON audit_events "
           "BEGIN SELECT RAISE(ABORT, 'audit disabled'); END");
  }
  void UnblockAuditWrites() { ExecOn(dir_.File("keyward.db"), "DROP TRIGGER no_audit"); }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<MasterKey> master_;
  ServiceOptions options_;
  KeyCache cache_;
  ManualClock clock_{1'700'000'000};
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<UserService> users_;
  std::unique_ptr<KeyService> keys_;
  std::unique_ptr<SignInService> sign_in_;
  Principal admin_;
  Principal alice_;
  std::vector<std::string> secrets_;  // keys, tokens and passwords the test made
};

TEST_F(AuditLogTest, KeyUseCasesAreRecordedWithActorUserTargetAddressAndOutcome) {
  auto created = keys_->Create(alice_, "me", {.name = "ci"});
  ASSERT_THAT(created, IsOk());
  RememberKey(created->token);
  clock_.Advance(1);
  KW_ASSERT_OK(keys_->Reveal(alice_, "me", "ci").status());
  KW_EXPECT_CODE(keys_->Reveal(alice_, "admin", "ops"), StatusCode::kNotFound);
  KW_ASSERT_OK(keys_->List(alice_, "me", false).status());  // not an event
  KW_ASSERT_OK(keys_->Delete(admin_, "alice", "ci"));
  KW_EXPECT_CODE(keys_->Delete(admin_, "alice", "ci"), StatusCode::kNotFound);
  KW_EXPECT_CODE(keys_->Create(alice_, "me", {.name = "x", .duration = "nope"}),
                 StatusCode::kInvalidArgument);

  EXPECT_EQ(Lines(), (std::vector<std::string>{
                         "user.create admin alice  10.0.0.1 success",
                         "key.create alice alice ci 10.0.0.2 success",
                         "key.reveal alice alice ci 10.0.0.2 success",
                         "key.reveal alice admin ops 10.0.0.2 failure",
                         "key.delete admin alice ci 10.0.0.1 success",
                         "key.delete admin alice ci 10.0.0.1 failure",
                         "key.create alice alice x 10.0.0.2 failure",
                     }));
  std::vector<AuditEvent> events = Events();
  EXPECT_EQ(events[1].time, 1'700'000'000);
  EXPECT_EQ(events[2].time, 1'700'000'001);
  EXPECT_EQ(events[2].reason, "");
  EXPECT_EQ(events[3].reason, "no such user or key");
  EXPECT_FALSE(events[6].reason.empty());
  ExpectNoSecretInEvents();
}

TEST_F(AuditLogTest, ADefaultKeyNameIsRecordedAsGenerated) {
  auto created = keys_->Create(alice_, "me", {});
  ASSERT_THAT(created, IsOk());
  RememberKey(created->token);
  EXPECT_EQ(Events().back().target, created->name);
}

TEST_F(AuditLogTest, ListingWithRevealRecordsEachKeyShown) {
  for (const char* name : {"a", "b"}) {
    auto created = keys_->Create(alice_, "me", {.name = name});
    ASSERT_THAT(created, IsOk());
    RememberKey(created->token);
  }
  KW_ASSERT_OK(keys_->List(alice_, "me", true).status());
  KW_EXPECT_CODE(keys_->List(alice_, "admin", true), StatusCode::kNotFound);
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[3], "key.reveal alice alice a 10.0.0.2 success");
  EXPECT_EQ(lines[4], "key.reveal alice alice b 10.0.0.2 success");
  EXPECT_EQ(lines[5], "key.reveal alice admin  10.0.0.2 failure");
}

TEST_F(AuditLogTest, UserAndTagChangesAreRecorded) {
  NewUser app{"svc", "Service", "application", std::nullopt};
  KW_ASSERT_OK(users_->Create(admin_, app).status());
  KW_EXPECT_CODE(users_->Create(alice_, NewUser{"svc2", "S", "application", std::nullopt}),
                 StatusCode::kPermissionDenied);
  KW_ASSERT_OK(users_->AddTag(admin_, "svc", "roles:id:data-dev").status());
  KW_ASSERT_OK(users_->RemoveTag(admin_, "svc", "roles:id:data-dev").status());
  KW_EXPECT_CODE(users_->RemoveTag(admin_, "svc", "roles:id:data-dev"), StatusCode::kNotFound);
  KW_ASSERT_OK(users_->Delete(admin_, "svc"));
  KW_ASSERT_OK(users_->Get(admin_.user, "alice").status());  // reading is not an event
  EXPECT_EQ(Lines(), (std::vector<std::string>{
                         "user.create admin alice  10.0.0.1 success",
                         "user.create admin svc  10.0.0.1 success",
                         "user.create alice svc2  10.0.0.2 failure",
                         "tag.add admin svc roles:id:data-dev 10.0.0.1 success",
                         "tag.delete admin svc roles:id:data-dev 10.0.0.1 success",
                         "tag.delete admin svc roles:id:data-dev 10.0.0.1 failure",
                         "user.delete admin svc  10.0.0.1 success",
                     }));
}

TEST_F(AuditLogTest, SignInsAreRecordedAndNeverTheirPasswords) {
  std::int64_t retry = 0;
  auto in = sign_in_->Login("alice", kAlicePassword, "10.0.0.3", &retry);
  ASSERT_THAT(in, IsOk());
  RememberKey(in->token);
  EXPECT_THAT(sign_in_->Login("alice", "wrong-password-1", "10.0.0.3", &retry),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(sign_in_->Login("ghost", "wrong-password-2", "10.0.0.3", &retry),
              StatusIs(StatusCode::kUnauthenticated));
  // A password typed as the user name is not kept.
  EXPECT_THAT(sign_in_->Login("Secret-Passw0rd!", "x", "10.0.0.3", &retry),
              StatusIs(StatusCode::kUnauthenticated));
  for (int i = 0; i < 4; ++i) (void)sign_in_->Login("alice", "wrong", "10.0.0.3", &retry);
  KW_EXPECT_CODE(sign_in_->Login("alice", kAlicePassword, "10.0.0.3", &retry),
                 StatusCode::kResourceExhausted);

  // user.create, then sign-ins: alice, alice wrong, ghost, a password as the name, 4 × alice
  // wrong, alice throttled.
  std::vector<AuditEvent> events = Events();
  ASSERT_EQ(events.size(), 10u);
  EXPECT_EQ(events[1].action, AuditAction::kSignIn);
  EXPECT_EQ(events[1].actor, "alice");
  EXPECT_EQ(events[1].user, "alice");
  EXPECT_EQ(events[1].address, "10.0.0.3");
  EXPECT_TRUE(events[1].success);
  EXPECT_FALSE(events[2].success);
  EXPECT_EQ(events[2].reason, "wrong username or password");
  EXPECT_EQ(events[3].actor, "ghost");
  EXPECT_EQ(events[3].reason, events[2].reason);  // the same whether the user exists or not
  EXPECT_EQ(events[4].actor, "(invalid user name)");
  EXPECT_EQ(events[4].user, "(invalid user name)");
  EXPECT_FALSE(events.back().success);
  EXPECT_NE(events.back().reason.find("too many failed sign-ins"), std::string::npos);
  for (const char* password :
       {kAlicePassword, "wrong-password-1", "wrong-password-2", "Secret-Passw0rd!"}) {
    RememberKey(password);
  }
  ExpectNoSecretInEvents();
}

TEST_F(AuditLogTest, ARevealThatCannotBeRecordedFailsClosedAndOtherActionsStand) {
  auto created = keys_->Create(alice_, "me", {.name = "ci"});
  ASSERT_THAT(created, IsOk());
  RememberKey(created->token);
  BlockAuditWrites();

  auto revealed = keys_->Reveal(alice_, "me", "ci");
  KW_EXPECT_CODE(revealed, StatusCode::kUnavailable);
  EXPECT_NE(revealed.status().message().find("audit"), std::string::npos);
  EXPECT_EQ(revealed.status().message().find(created->token), std::string::npos);
  KW_EXPECT_CODE(keys_->List(alice_, "me", true), StatusCode::kUnavailable);
  KW_ASSERT_OK(keys_->List(alice_, "me", false).status());  // masked: nothing to record
  // Done even though their records are missing (a warning goes to the log).
  auto other = keys_->Create(alice_, "me", {.name = "other"});
  ASSERT_THAT(other, IsOk());
  RememberKey(other->token);
  KW_ASSERT_OK(keys_->Delete(alice_, "me", "other"));

  UnblockAuditWrites();
  auto again = keys_->Reveal(alice_, "me", "ci");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->token, created->token);
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 3u);  // user.create, key.create ci, then the reveal that worked
  EXPECT_EQ(lines.back(), "key.reveal alice alice ci 10.0.0.2 success");
}

TEST_F(AuditLogTest, OddTextIsCleanedBeforeItIsStored) {
  const std::string long_name(300, 'n');
  KW_EXPECT_CODE(keys_->Delete(alice_, "me", long_name), StatusCode::kNotFound);
  // Text no store can hold is refused as such (store.h), and still on record, cleaned.
  KW_EXPECT_CODE(keys_->Delete(alice_, "me", std::string("bad\xff", 4)),
                 StatusCode::kInvalidArgument);
  KW_EXPECT_CODE(users_->Delete(admin_, std::string("x\0y", 3)), StatusCode::kInvalidArgument);
  std::vector<AuditEvent> events = Events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].target, std::string(128, 'n'));
  EXPECT_EQ(events[2].target, "(invalid)");
  EXPECT_EQ(events[3].user, "(invalid)");
}

TEST_F(AuditLogTest, OperatorsReadEveryoneOthersOnlyTheirOwn) {
  auto created = keys_->Create(alice_, "me", {.name = "ci"});
  ASSERT_THAT(created, IsOk());
  RememberKey(created->token);
  KW_ASSERT_OK(users_->Create(admin_, NewUser{"bob", "Bob", "person", std::nullopt}).status());

  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> all, audit_->List(admin_.user, {}));
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(all.front().user, "bob");  // newest first

  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> own, audit_->List(alice_.user, {}));
  ASSERT_EQ(own.size(), 2u);  // the key alice made, and her creation by admin
  for (const AuditEvent& e : own) EXPECT_TRUE(e.actor == "alice" || e.user == "alice");

  AuditFilter me;
  me.user = "me";
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> also_own, audit_->List(alice_.user, me));
  EXPECT_EQ(also_own.size(), 2u);
  AuditFilter bobs;
  bobs.user = "bob";
  KW_EXPECT_CODE(audit_->List(alice_.user, bobs), StatusCode::kPermissionDenied);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> of_bob, audit_->List(admin_.user, bobs));
  EXPECT_EQ(of_bob.size(), 1u);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> admins_own, audit_->List(admin_.user, me));
  EXPECT_EQ(admins_own.size(), 2u);  // admin created alice and bob
}

TEST(AuditQueryTest, DefaultsAndValidValues) {
  KW_ASSERT_OK_AND_ASSIGN(AuditFilter none, ParseAuditQuery({}));
  EXPECT_EQ(none.user, "");
  EXPECT_EQ(none.limit, kDefaultAuditLimit);
  EXPECT_EQ(none.since, std::numeric_limits<UnixSeconds>::min());
  EXPECT_EQ(none.until, std::numeric_limits<UnixSeconds>::max());

  AuditQuery q;
  q.user = "alice";
  q.since = "2023-08-10T23:00:00Z";
  q.until = "2023-08-11T01:30:00.999+02:00";
  q.limit = "1000";
  KW_ASSERT_OK_AND_ASSIGN(AuditFilter f, ParseAuditQuery(q));
  EXPECT_EQ(f.user, "alice");
  EXPECT_EQ(f.since, 1'691'708'400);
  EXPECT_EQ(f.until, 1'691'708'400 + 1800);
  EXPECT_EQ(f.limit, 1000);

  AuditQuery other;
  other.user = "me";
  other.since = "1970-01-01t00:00:00z";
  other.until = "2024-02-29T12:00:00-01:00";
  other.limit = "1";
  KW_ASSERT_OK_AND_ASSIGN(AuditFilter g, ParseAuditQuery(other));
  EXPECT_EQ(g.user, "me");
  EXPECT_EQ(g.since, 0);
  EXPECT_EQ(g.until, 1'709'208'000 + 3600);
  EXPECT_EQ(g.limit, 1);
}

TEST(AuditQueryTest, BadValuesAreInvalidArgument) {
  for (const char* bad :
       {"", "yesterday", "2023-08-10", "2023-08-10T23:00:00", "2023-8-10T23:00:00Z",
        "2023-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2023-08-10T24:00:00Z",
        "2023-08-10T23:00:00+0200", "2023-08-10T23:00:00.Z", "2023-08-10T23:00:00Z ",
        " 2023-08-10T23:00:00Z", "1691708400"}) {
    SCOPED_TRACE(bad);
    AuditQuery since;
    since.since = bad;
    KW_EXPECT_CODE(ParseAuditQuery(since), StatusCode::kInvalidArgument);
    AuditQuery until;
    until.until = bad;
    KW_EXPECT_CODE(ParseAuditQuery(until), StatusCode::kInvalidArgument);
  }
  for (const char* bad : {"0", "1001", "-1", "ten", "", "10 ", "+5", "99999999999"}) {
    SCOPED_TRACE(bad);
    AuditQuery q;
    q.limit = bad;
    KW_EXPECT_CODE(ParseAuditQuery(q), StatusCode::kInvalidArgument);
  }
  for (const char* bad : {"", "Alice", "a/b", "-x"}) {
    SCOPED_TRACE(bad);
    AuditQuery q;
    q.user = bad;
    KW_EXPECT_CODE(ParseAuditQuery(q), StatusCode::kInvalidArgument);
  }
  AuditQuery backwards;
  backwards.since = "2023-08-11T00:00:00Z";
  backwards.until = "2023-08-10T00:00:00Z";
  KW_EXPECT_CODE(ParseAuditQuery(backwards), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace keyward
