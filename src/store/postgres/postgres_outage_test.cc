// A PostgreSQL outage: the test server is stopped and started again (scripts/with-postgres
// exports KEYWARD_TEST_PG_BIN and KEYWARD_TEST_PG_DATA for that), so this binary runs alone
// (RUN_SERIAL). While the server is down every call fails fast with Unavailable; once it is back
// the same store works again by itself and its listener asks for a resync.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "store/postgres/pg_test_util.h"
#include "store/postgres/postgres_store.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Stops and starts the test server with pg_ctl, as its owner; starts it again when destroyed if
// a test left it stopped.
class TestServer {
 public:
  TestServer() : bin_(pg::EnvOr("KEYWARD_TEST_PG_BIN")), data_(pg::EnvOr("KEYWARD_TEST_PG_DATA")) {}
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  ~TestServer() {
    if (stopped_) {
      EXPECT_TRUE(Start());
    }
  }

  bool known() const { return !bin_.empty() && !data_.empty(); }
  bool Stop() {
    stopped_ = PgCtl("-m fast stop");
    return stopped_;
  }
  bool Start() {
    bool started = PgCtl("-l '" + data_ + "/../postgres.log' start");
    if (started) stopped_ = false;
    return started;
  }

 private:
  bool PgCtl(const std::string& action) {
    // The server refuses to run as root: a root test runs pg_ctl as the data folder's owner.
    std::string as_owner = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    std::string command =
        as_owner + "'" + bin_ + "/pg_ctl' -D '" + data_ + "' -w -t 30 " + action + " >/dev/null";
    return std::system(command.c_str()) == 0;
  }

  std::string bin_;
  std::string data_;
  bool stopped_ = false;
};

User Alice() {
  User user;
  user.id = "alice";
  user.name = "Alice";
  user.created_at = 1'700'000'000;
  return user;
}

TEST(PostgresOutageTest, CallsFailFastWhileTheServerIsDownAndRecoverAfterwards) {
  TestServer server;
  if (pg::TestServerUrl().empty() || !server.known()) {
    GTEST_SKIP() << "needs KEYWARD_TEST_PG_URL, _BIN and _DATA (scripts/with-postgres)";
  }
  pg::TempDatabase db;
  KW_ASSERT_OK(db.status());
  pg::EventLog log;       // outlives the stores that call it
  pg::EventLog late_log;  // outlives the stores that call it
  PostgresStoreOptions options;
  options.listen_retry_max = milliseconds(500);
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, OpenPostgresStore(db.url(), options));
  KW_ASSERT_OK(store->CreateUser(Alice()));
  store->Subscribe(log.Events());
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> late, OpenPostgresStore(db.url(), options));

  ASSERT_TRUE(server.Stop());
  late->Subscribe(late_log.Events());  // cannot listen yet: returns, and keeps trying
  Clock::time_point start = Clock::now();
  Result<User> user = store->GetUser("alice");
  EXPECT_THAT(user, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(user.status().message(), "the database is unavailable");
  KW_EXPECT_CODE(store->AddTag("alice", "t"), StatusCode::kUnavailable);
  KW_EXPECT_CODE(OpenPostgresStore(db.url()), StatusCode::kUnavailable);
  EXPECT_LT(Clock::now() - start, milliseconds(5000));

  ASSERT_TRUE(server.Start());  // returns once the server accepts connections
  // The very first calls succeed: lost connections are replaced, not handed out again.
  KW_EXPECT_OK(store->GetUser("alice").status());
  KW_EXPECT_OK(store->AddTag("alice", "t"));
  // The listeners reconnect: whatever they missed meanwhile (that tag, maybe) is covered by a
  // resync, and later changes are heard again.
  ASSERT_TRUE(log.WaitFor("resync", milliseconds(10'000)));
  ASSERT_TRUE(late_log.WaitFor("resync", milliseconds(10'000)));
  KW_EXPECT_OK(store->RemoveTag("alice", "t"));
  EXPECT_TRUE(log.WaitFor("u:alice", milliseconds(1000)));
  EXPECT_TRUE(late_log.WaitFor("u:alice", milliseconds(1000)));
}

}  // namespace
}  // namespace keyward
