#include "store/upgrade_fixture.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/clock.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/postgres_migrations.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_migrations.h"

namespace keyward::testdata {
namespace {

constexpr int kVersions[] = {1, 2, 3, 4, 5, 6, 7};

// Each key with the first version whose release could make it: the fixtures of later versions
// hold it too. The secrets came from GenerateKey("kw"), once (upgrade_fixture.h).
constexpr FixtureKey kKeys[] = {
    {1, "alice", "driver-key", kDriverKey},
    {1, "bob", "old", "kw_9toczX3mcqWmbEYBFzEVckMcJN0HyaPoeFazL4rCzN42k96G2", KeyState::kExpired},
    // V003: scopes, the tags it presents and the addresses it is accepted from.
    {3, "alice", "scoped", "kw_FK0Mj75bGffBWlPVori4z5b4GK0atymlFLdtQ35jhMr2SaMPX"},
    {3, "bob", "ci", "kw_tuMlIcgjBcIfDW9ynnIXOCoE98280Pxi3BRccgZPENW3e5qWa"},
    // V005: disabled; rotated, its old secret in its grace period.
    {5, "alice", "disabled", "kw_CGAQQGi88L6guZTdnXz8msu8HyQ9wVgtr0k6b0hjn053v229O",
     KeyState::kDisabled},
    {5, "alice", "rotated", "kw_8GbajnVKORTFboqWti9QQ5NesuAPO7Xg4pJB8aez6g41C4aW4"},
    {5, "alice", "rotated", "kw_1MkPgTcCz0MPjIW5QJA5LRHF3Ro3ZgDFCAmoQ1AcdZn2q7T8j",
     KeyState::kValid,
     /*old_secret=*/true},
    // V006: a rate limit, usage counted.
    {6, "alice", "limited", "kw_iTwLKhWTtbJIvDB115lwKJ3XpTSz8TYFwZ5DJlLAXyU1RGlQC"},
    // V007: a canary.
    {7, "alice", "canary", "kw_1NRRKNMoixdGvRxe0bxRqrtAfn1LAux0j2HIZi1GFLW3P7bCQ",
     KeyState::kCanary},
};

Result<std::string> ReadRows(int version, std::string_view backend) {
  const std::string name = fmt::format("v{:03}_{}.sql", version, backend);
  std::ifstream in(std::string(KW_STORE_TESTDATA) + "/" + name);
  if (!in.good()) return Status::NotFound("cannot read src/store/testdata/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// V001 to V`version` only, as that release knew them.
Result<std::span<const Migration>> UpTo(int version, std::span<const Migration> migrations) {
  if (version < 1 || static_cast<std::size_t>(version) > migrations.size()) {
    return Status::InvalidArgument(
        fmt::format("no schema version {} to make a fixture of", version));
  }
  for (int i = 0; i < version; ++i) {
    if (migrations[static_cast<std::size_t>(i)].version != i + 1) {
      return Status::Internal("the embedded migrations are not numbered 1, 2, 3 …");
    }
  }
  return migrations.first(static_cast<std::size_t>(version));
}

}  // namespace

std::span<const int> FixtureVersions() { return kVersions; }

std::vector<FixtureKey> FixtureKeys(int version) {
  std::vector<FixtureKey> keys;
  for (const FixtureKey& key : kKeys) {
    if (key.since <= version) keys.push_back(key);
  }
  return keys;
}

Status MakeSqliteFixture(int version, const std::string& path) {
  KW_ASSIGN_OR_RETURN(std::string rows, ReadRows(version, "sqlite"));
  KW_ASSIGN_OR_RETURN(std::span<const Migration> migrations,
                      UpTo(version, sqlite::SqliteMigrations()));
  KW_RETURN_IF_ERROR(sqlite::CreateOwnerOnlyFile(path));
  KW_ASSIGN_OR_RETURN(auto db, sqlite::Connection::Open(path, std::chrono::seconds(5)));
  KW_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON", "enable foreign keys"));
  KW_RETURN_IF_ERROR(sqlite::ApplyMigrations(*db, migrations, Clock::System()));
  return db->Exec(rows.c_str(), fmt::format("v{:03}_sqlite.sql", version));
}

Status MakePostgresFixture(int version, const std::string& url) {
  KW_ASSIGN_OR_RETURN(std::string rows, ReadRows(version, "postgres"));
  KW_ASSIGN_OR_RETURN(std::span<const Migration> migrations,
                      UpTo(version, pg::PostgresMigrations()));
  pg::ConnectOptions options;
  options.application_name = "keyward-test";
  KW_ASSIGN_OR_RETURN(auto conn, pg::Connection::Open(url, options));
  KW_RETURN_IF_ERROR(pg::ApplyMigrations(*conn, migrations, Clock::System()));
  return conn->Script(rows.c_str(), fmt::format("v{:03}_postgres.sql", version));
}

}  // namespace keyward::testdata
