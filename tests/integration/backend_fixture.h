// Fixtures shared by the integration tests that run keyward on PostgreSQL (the server
// `scripts/with-postgres` starts; make test runs ctest under it) and on SQLite.
//
// Without KEYWARD_TEST_PG_URL a PostgreSQL test skips itself.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "harness.h"

namespace keyward::testing {

// The store a parameterized test runs on.
enum class Backend { kSqlite, kPostgres };
void PrintTo(Backend backend, std::ostream* os);

// psql against `url` (tuples only, unaligned); returns its output without trailing newlines
// and spaces, failing the test when psql fails.
std::string Psql(const std::string& url, const std::string& sql);

// A database of one test's own on the PostgreSQL test server.
class PostgresTestDatabase {
 public:
  // Creates a database named `prefix` followed by random digits; returns false, creating
  // nothing, when KEYWARD_TEST_PG_URL is unset.
  bool Create(const std::string& prefix);
  // Drops the database (closing its connections) if one was created.
  void Drop();

  // KEYWARD_TEST_PG_URL (the test server's admin database), once Create ran.
  const std::string& admin_url() const { return admin_url_; }
  // The created database's URL; "" before Create.
  const std::string& url() const { return url_; }

 private:
  std::string admin_url_, name_, url_;
};

// Runs pg_ctl `action` ("stop", fast mode, or "start") on the test PostgreSQL server of
// scripts/with-postgres (KEYWARD_TEST_PG_BIN, KEYWARD_TEST_PG_DATA) as its owner, failing the
// test if it fails. Every database of the server goes with it: a test that calls it runs alone
// (RUN_SERIAL, tests/integration/CMakeLists.txt).
void PgCtl(const std::string& action);

// Stops `server` when set, fails the test for any remembered secret in its log and, when
// `sqlite`, in its SQLite database and WAL, and resets it.
void StopAndScan(std::unique_ptr<ServerProcess>& server, bool sqlite);

// Two keyward nodes (a_, b_) on one PostgreSQL database of the test's own, sharing a master
// key file so that both unseal the same secrets. TearDown stops the nodes, scans their logs
// for secrets and drops the database.
class PostgresClusterTest : public ::testing::Test {
 protected:
  // `db_prefix` names the test's database (followed by random digits).
  explicit PostgresClusterTest(std::string db_prefix) : db_prefix_(std::move(db_prefix)) {}
  void SetUp() override;
  void TearDown() override;

  // A node on the database with the shared master key, and `extra`.
  std::unique_ptr<ServerProcess> Node(const std::vector<std::string>& extra = {}) const;
  // Starts a_ and b_ as Node(`extra`) and signs in as admin on each (admin_a_, admin_b_).
  void StartBoth(const std::vector<std::string>& extra = {});

  PostgresTestDatabase db_;
  std::string url_;     // the database's URL
  std::string shared_;  // folder of the shared master key file
  std::unique_ptr<ServerProcess> a_, b_;
  std::string admin_a_, admin_b_;

 private:
  std::string db_prefix_;
};

}  // namespace keyward::testing
