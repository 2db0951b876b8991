// One versioned schema migration, embedded into the binary at build time.
//
// The SQL files live in src/store/migrations/<backend>/V<NNN>__<name>.sql; the build turns each
// folder into a table of Migration (see embed_migrations.cmake) that the backend applies at open,
// in order, one transaction each, skipping versions its schema_migrations table already records.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"

namespace keyward {

struct Migration {
  int version = 0;        // NNN of the file name; strictly increasing, starting at 1
  std::string_view name;  // the part after "__", without ".sql"
  std::string_view sql;   // the file's text, one or more statements, no BEGIN/COMMIT
};

// FailedPrecondition when the database records a schema version newer than any of
// `migrations`: an older build must not run on a schema it does not know. Not Internal: the
// operator can act on it (keyward serve says it as it is and exits 2, which systemd does not
// restart), and the message names both versions.
inline Status CheckSchemaNotNewer(std::int64_t recorded, std::span<const Migration> migrations) {
  const int known = migrations.empty() ? 0 : migrations.back().version;
  if (recorded <= known) return Status::Ok();
  return Status::FailedPrecondition(
      fmt::format("the database has schema version {} but this keyward knows only up to {}; use "
                  "a newer keyward",
                  recorded, known));
}

// OK when `recorded`, the highest version a database records, is the last of `migrations`;
// FailedPrecondition otherwise (readiness: Store::CheckReady).
inline Status CheckSchemaCurrent(std::int64_t recorded, std::span<const Migration> migrations) {
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (recorded == latest) return Status::Ok();
  return Status::FailedPrecondition(
      fmt::format("the database has schema version {}, this build needs {}", recorded, latest));
}

}  // namespace keyward
