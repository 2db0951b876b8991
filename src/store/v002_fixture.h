// Test support: a database as a previous release left it at schema V002 (before scopes), for
// the upgrade tests (store_upgrade_test.cc, tests/integration/upgrade_test.cc).
//
// The schema is made as that release made it: the migration runner applies the V001 and V002
// files themselves, recording versions 1 and 2 in schema_migrations. Then the rows of
// src/store/testdata/v002_<backend>.sql are added: users alice (tags roles:id:operator and team:a)
// and bob (team:b), alice's key "driver-key" (kV002DriverKey, valid until 2100) and bob's expired
// key "old", a session of alice's and three audit events.
#pragma once

#include <string>

#include "common/status.h"

namespace keyward::testdata {

// alice's driver-key in the fixture (a throw-away key of no server): its SHA-256 is the row's
// hash, so a server on the fixture accepts it.
inline constexpr char kV002DriverKey[] = "kw_W2wQGOCsYtNe5J3BlieK7a6CSyMzWgt8JAudLd9TSma129feP";

// Makes the SQLite database file `path` (which must not exist) at V002 with the fixture's rows.
Status MakeSqliteV002(const std::string& path);

// Makes the fixture at V002 in the empty PostgreSQL database `url`.
Status MakePostgresV002(const std::string& url);

}  // namespace keyward::testdata
