// One versioned schema migration, embedded into the binary at build time.
//
// The SQL files live in src/store/migrations/<backend>/V<NNN>__<name>.sql; the build turns each
// folder into a table of Migration (see embed_migrations.cmake) that the backend applies at open,
// in order, one transaction each, skipping versions its schema_migrations table already records.
#pragma once

#include <string_view>

namespace keyward {

struct Migration {
  int version = 0;        // NNN of the file name; strictly increasing, starting at 1
  std::string_view name;  // the part after "__", without ".sql"
  std::string_view sql;   // the file's text, one or more statements, no BEGIN/COMMIT
};

}  // namespace keyward
