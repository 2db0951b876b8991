// What the store conformance suites share (store_conformance_test.cc, and
// signing_key_store_test.cc for the token issuer's calls): the backends they run against and
// records to store. SQLite always; PostgreSQL on the server KEYWARD_TEST_PG_URL names (skipped
// without it), each test on a database of its own.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "core/key_record.h"
#include "core/user.h"
#include "core/webhook.h"
#include "store/postgres/pg_test_util.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace keyward::store_test {

struct Backend {
  std::string name;
  // Opens an empty store. `dir` is a fresh temporary folder the backend may use; `keep`
  // receives what must outlive the store (PostgreSQL: its temporary database).
  std::function<Result<std::unique_ptr<Store>>(const std::string& dir, std::shared_ptr<void>& keep)>
      open;
  // The backend needs the test PostgreSQL server: skip when KEYWARD_TEST_PG_URL is unset.
  bool needs_postgres = false;
  // Opens a second store on the database `open` made (as a second node or process would), for
  // races between stores. Same `dir` and `keep`.
  std::function<Result<std::unique_ptr<Store>>(const std::string& dir,
                                               const std::shared_ptr<void>& keep)>
      open_again;
};

inline void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

// A test on an empty store of its Backend (store_); skipped when that needs PostgreSQL and
// KEYWARD_TEST_PG_URL is unset.
class BackendStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().needs_postgres && pg::TestServerUrl().empty()) {
      GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (scripts/with-postgres sets it)";
    }
    KW_ASSERT_OK_AND_ASSIGN(store_, GetParam().open(dir_.path(), keep_));
    ASSERT_NE(store_, nullptr);
  }

  TempDir dir_;                 // outlives store_
  std::shared_ptr<void> keep_;  // outlives store_
  std::unique_ptr<Store> store_;
};

inline std::vector<Backend> Backends() {
  std::vector<Backend> backends;
  auto sqlite = [](const std::string& dir, const std::shared_ptr<void>&) {
    return OpenSqliteStore(dir + "/keyward.db");
  };
  backends.push_back({"Sqlite", sqlite, /*needs_postgres=*/false, sqlite});
  backends.push_back(
      {"Postgres",
       [](const std::string&, std::shared_ptr<void>& keep) -> Result<std::unique_ptr<Store>> {
         auto database = std::make_shared<pg::TempDatabase>();
         KW_RETURN_IF_ERROR(database->status());
         keep = database;
         return OpenPostgresStore(database->url());
       },
       /*needs_postgres=*/true,
       [](const std::string&, const std::shared_ptr<void>& keep) {
         return OpenPostgresStore(static_cast<pg::TempDatabase*>(keep.get())->url());
       }});
  return backends;
}

// 32 bytes, like a SHA-256, made distinct by `n` and full of NUL bytes.
inline std::string Hash(int n) {
  std::string hash(32, '\0');
  hash[1] = static_cast<char>(n & 0xff);
  hash[2] = static_cast<char>((n >> 8) & 0xff);
  hash[31] = '\x01';
  return hash;
}

inline User MakeUser(const std::string& id, std::vector<std::string> tags = {}) {
  User user;
  user.id = id;
  user.name = "Name of " + id;
  user.type = UserType::kPerson;
  user.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  user.tags = std::move(tags);
  user.created_at = 1'700'000'000;
  return user;
}

// An event of `type` about `user` at `time`, whose data names the user and holds a non-ASCII
// character, so a backend that altered either would be seen.
inline WebhookEvent MakeEvent(std::string_view type, const std::string& user, UnixSeconds time) {
  WebhookEvent event;
  event.type = type;
  event.time = time;
  event.user_id = user;
  event.data = R"({"user":")" + user + R"(","key":"ci 🔑"})";
  return event;
}

inline KeyRecord MakeKey(const std::string& user_id, const std::string& name, int n,
                         UnixSeconds created_at = 1'700'000'100) {
  KeyRecord key;
  key.user_id = user_id;
  key.name = name;
  key.hash = Hash(n);
  key.sealed = std::string("\x00nonce\xff", 7) + name;
  key.masked = "kw_AbCd…9xYz";
  key.created_at = created_at;
  key.expires_at = created_at + 86'400;
  return key;
}

inline SessionRecord MakeSession(const std::string& user_id, int n, UnixSeconds expires_at) {
  return {
      .user_id = user_id, .hash = Hash(n), .created_at = 1'700'000'000, .expires_at = expires_at};
}

}  // namespace keyward::store_test
