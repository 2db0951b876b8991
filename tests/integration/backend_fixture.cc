#include "backend_fixture.h"

#include <cstdlib>
#include <random>
#include <utility>

namespace keyward::testing {

void PrintTo(Backend backend, std::ostream* os) {
  *os << (backend == Backend::kSqlite ? "Sqlite" : "Postgres");
}

std::string Psql(const std::string& url, const std::string& sql) {
  ProcessResult r =
      RunProcess({"psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url, "-c", sql});
  EXPECT_EQ(r.exit_code, 0) << sql << "\n" << r.err;
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == ' ')) r.out.pop_back();
  return r.out;
}

bool PostgresTestDatabase::Create(const std::string& prefix) {
  const char* admin_url = std::getenv("KEYWARD_TEST_PG_URL");
  admin_url_ = admin_url != nullptr ? admin_url : "";
  if (admin_url_.empty()) return false;
  std::mt19937_64 rng(std::random_device{}());
  name_ = prefix + std::to_string(rng() % 1'000'000'000);
  Psql(admin_url_, "CREATE DATABASE " + name_);
  url_ = admin_url_.substr(0, admin_url_.rfind('/') + 1) + name_;
  return true;
}

void PostgresTestDatabase::Drop() {
  if (!name_.empty() && !admin_url_.empty()) {
    Psql(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
}

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

}  // namespace

void PgCtl(const std::string& action) {
  std::vector<std::string> args = {Env("KEYWARD_TEST_PG_BIN") + "/pg_ctl",
                                   "-D",
                                   Env("KEYWARD_TEST_PG_DATA"),
                                   "-w",
                                   "-t",
                                   "30",
                                   "-l",
                                   Env("KEYWARD_TEST_PG_DATA") + "/../restart.log",
                                   action};
  if (action == "stop") args.insert(args.end(), {"-m", "fast"});
  args.insert(args.begin(), {"runuser", "-u", "postgres", "--"});
  ProcessResult r = RunProcess(args);
  ASSERT_EQ(r.exit_code, 0) << action << ": " << r.err << r.out;
}

void StopAndScan(std::unique_ptr<ServerProcess>& server, bool sqlite) {
  if (!server) return;
  server->Stop();
  ExpectNoSecretsIn({server->log_path()});
  if (sqlite) {
    const std::string db = server->data_dir() + "/keyward.db";
    ExpectNoSecretsIn({db, db + "-wal"});
  }
  server.reset();
}

void PostgresClusterTest::SetUp() {
  if (!db_.Create(db_prefix_)) {
    GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (make test sets it)";
  }
  url_ = db_.url();
  shared_ = MakeTempDir();
}

void PostgresClusterTest::TearDown() {
  for (auto* node : {&a_, &b_}) StopAndScan(*node, /*sqlite=*/false);
  db_.Drop();
  if (!shared_.empty()) RemoveTree(shared_);
}

std::unique_ptr<ServerProcess> PostgresClusterTest::Node(
    const std::vector<std::string>& extra) const {
  std::vector<std::string> args = {"--db", url_, "--master-key-file", shared_ + "/master.key"};
  args.insert(args.end(), extra.begin(), extra.end());
  return ServerProcess::Start(args);
}

void PostgresClusterTest::StartBoth(const std::vector<std::string>& extra) {
  a_ = Node(extra);
  ASSERT_GT(a_->port(), 0);
  b_ = Node(extra);
  ASSERT_GT(b_->port(), 0);
  admin_a_ = a_->Login("admin", kAdminPassword);
  admin_b_ = b_->Login("admin", kAdminPassword);
}

}  // namespace keyward::testing
