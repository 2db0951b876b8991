#include "store/v002_fixture.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>

#include "common/clock.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/postgres_migrations.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_migrations.h"

namespace keyward::testdata {
namespace {

Result<std::string> ReadFixture(const std::string& name) {
  std::ifstream in(std::string(KW_STORE_TESTDATA) + "/" + name);
  if (!in.good()) return Status::NotFound("cannot read src/store/testdata/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// V001 and V002 only, as the previous release knew them.
Result<std::span<const Migration>> UpToV002(std::span<const Migration> migrations) {
  if (migrations.size() < 2 || migrations[0].version != 1 || migrations[1].version != 2) {
    return Status::Internal("the embedded migrations do not start with V001 and V002");
  }
  return migrations.first(2);
}

}  // namespace

Status MakeSqliteV002(const std::string& path) {
  KW_ASSIGN_OR_RETURN(std::string rows, ReadFixture("v002_sqlite.sql"));
  KW_ASSIGN_OR_RETURN(std::span<const Migration> migrations, UpToV002(sqlite::SqliteMigrations()));
  KW_RETURN_IF_ERROR(sqlite::CreateOwnerOnlyFile(path));
  KW_ASSIGN_OR_RETURN(auto db, sqlite::Connection::Open(path, std::chrono::seconds(5)));
  KW_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON", "enable foreign keys"));
  KW_RETURN_IF_ERROR(sqlite::ApplyMigrations(*db, migrations, Clock::System()));
  return db->Exec(rows.c_str(), "v002_sqlite.sql");
}

Status MakePostgresV002(const std::string& url) {
  KW_ASSIGN_OR_RETURN(std::string rows, ReadFixture("v002_postgres.sql"));
  KW_ASSIGN_OR_RETURN(std::span<const Migration> migrations, UpToV002(pg::PostgresMigrations()));
  pg::ConnectOptions options;
  options.application_name = "keyward-test";
  KW_ASSIGN_OR_RETURN(auto conn, pg::Connection::Open(url, options));
  KW_RETURN_IF_ERROR(pg::ApplyMigrations(*conn, migrations, Clock::System()));
  return conn->Script(rows.c_str(), "v002_postgres.sql");
}

}  // namespace keyward::testdata
