// Test helpers for the PostgreSQL backend: the test server named by KEYWARD_TEST_PG_URL (which
// `make test` provides through scripts/with-postgres) and a fresh database on it per test.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/hex.h"
#include "common/status_matchers.h"
#include "common/thread_annotations.h"
#include "store/postgres/pg_connection.h"
#include "store/store.h"

namespace keyward::pg {

// The value of environment variable `name`, or "".
inline std::string EnvOr(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// The test server's URL; empty when KEYWARD_TEST_PG_URL is unset (PostgreSQL tests then skip).
inline std::string TestServerUrl() { return EnvOr("KEYWARD_TEST_PG_URL"); }

// `url` (postgresql://…) with its database replaced by `database`.
inline std::string WithDatabase(const std::string& url, const std::string& database) {
  std::size_t scheme = url.find("://");
  std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  std::size_t query = url.find('?', start);
  std::size_t path = std::min(url.find('/', start), query);
  std::string tail = query == std::string::npos ? "" : url.substr(query);
  return url.substr(0, path) + "/" + database + tail;
}

inline Result<std::unique_ptr<Connection>> ConnectForTest(const std::string& url) {
  ConnectOptions options;
  options.application_name = "keyward-test";
  return Connection::Open(url, options);
}

// A new, empty database kw_<random> on the test server, dropped WITH (FORCE) when destroyed.
class TempDatabase {
 public:
  TempDatabase() {
    std::random_device random;
    name_ = fmt::format("kw_{:08x}{:08x}", random(), random());
    url_ = WithDatabase(TestServerUrl(), name_);
    Result<std::unique_ptr<Connection>> admin = ConnectForTest(TestServerUrl());
    status_ = admin.ok() ? (*admin)->Script(("CREATE DATABASE " + name_).c_str(), "create")
                         : admin.status();
    created_ = status_.ok();
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;
  ~TempDatabase() {
    conn_.reset();
    if (!created_) return;
    Result<std::unique_ptr<Connection>> admin = ConnectForTest(TestServerUrl());
    Status dropped =
        admin.ok() ? (*admin)->Script(
                         ("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").c_str(), "drop")
                   : admin.status();
    EXPECT_THAT(dropped, IsOk()) << name_;
  }

  // OK if the database was created.
  const Status& status() const { return status_; }
  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }

  // Runs `sql` on a connection of the test's own to this database (reopened if it was lost).
  Result<Rows> Query(const char* sql, const Params& params = {}) {
    if (conn_ == nullptr || !conn_->ok()) {
      KW_ASSIGN_OR_RETURN(conn_, ConnectForTest(url_));
    }
    return conn_->Query(sql, params);
  }

 private:
  std::string name_;
  std::string url_;
  Status status_;
  bool created_ = false;
  std::unique_ptr<Connection> conn_;
};

// Records StoreEvents as text ("k:<hex>", "u:<id>", "resync", "signing_keys") for tests to wait on.
// Must outlive every store subscribed with its Events().
class EventLog {
 public:
  StoreEvents Events() {
    return {.key_revoked = [this](std::string_view hash) { Add("k:" + ToHex(hash)); },
            .user_changed = [this](std::string_view id) { Add("u:" + std::string(id)); },
            .resync = [this] { Add("resync"); },
            .signing_keys_changed = [this] { Add("signing_keys"); }};
  }

  // Waits up to `timeout` until `event` has been recorded `times` times; true if it was.
  bool WaitFor(const std::string& event, std::chrono::milliseconds timeout, int times = 1) {
    MutexLock lock(mu_);
    return added_.WaitFor(mu_, timeout, [&] {
      mu_.AssertHeld();
      return std::count(events_.begin(), events_.end(), event) >= times;
    });
  }

  std::vector<std::string> Recorded() {
    MutexLock lock(mu_);
    return events_;
  }

 private:
  void Add(std::string event) {
    {
      MutexLock lock(mu_);
      events_.push_back(std::move(event));
    }
    added_.NotifyAll();
  }

  Mutex mu_;
  CondVar added_;
  std::vector<std::string> events_ GUARDED_BY(mu_);
};

}  // namespace keyward::pg
