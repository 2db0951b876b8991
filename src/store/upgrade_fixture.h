// Test support: databases as earlier releases left them, one per schema version and backend, for
// the upgrade tests (store_upgrade_test.cc, tests/integration/upgrade_test.cc).
//
// The fixture at version N is made as the release of schema N made its database: the migration
// runner applies the files V001 to VNNN themselves, recording versions 1 to N in
// schema_migrations, then src/store/testdata/vNNN_<backend>.sql adds the rows that release wrote,
// using what each version up to N introduced (see each file). Every fixture holds users alice (a
// person, tags roles:id:operator and team:a) and bob (an application, team:b), a session of
// alice's (hash 32 bytes of 5e 55 10 11) and the keys FixtureKeys(N) lists; from V002 on, audit
// events too.
//
// The keys are throw-away keys of no server, made once for these fixtures by the project's own
// GenerateKey("kw") (core/api_key.h: "kw_", 43 base62 characters of a random secret, a CRC32
// checksum of 6): the row holds the SHA-256 of each (HashKey) and MaskKey of it, so a store or
// a server on the fixture finds the key as presented. Their sealed values are placeholders.
//
// A schema version added later needs a fixture here only once a newer one follows it: the tests
// take "latest" from the embedded migrations and require a fixture of every version before it.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace keyward::testdata {

// alice's "driver-key", in every fixture: full access (made before scopes), valid until 2100.
inline constexpr char kDriverKey[] = "kw_W2wQGOCsYtNe5J3BlieK7a6CSyMzWgt8JAudLd9TSma129feP";

// What a key must still be after the upgrade: exactly what it was before it.
enum class KeyState {
  kValid,     // authenticates (/auth 200)
  kExpired,   // expired before the upgrade: refused (401)
  kDisabled,  // disabled (V005): refused (401) until enabled
  kCanary,    // a canary (V007): refused as an unknown key (401) and reported
};

struct FixtureKey {
  int since = 1;       // the first fixture version holding it
  const char* user;    // owner
  const char* name;    // the key's name
  const char* secret;  // the key as its holder presents it
  KeyState state = KeyState::kValid;
  // The key's earlier secret after a rotation (V005), still accepted in its grace period: the
  // store finds the key by it with by_old_secret set.
  bool old_secret = false;
};

// The schema versions there is a fixture of, ascending.
std::span<const int> FixtureVersions();

// The keys in the fixture of `version`, current secrets and old ones.
std::vector<FixtureKey> FixtureKeys(int version);

// Makes the SQLite database file `path` (which must not exist) as the fixture of `version`.
Status MakeSqliteFixture(int version, const std::string& path);

// Makes the fixture of `version` in the empty PostgreSQL database `url`.
Status MakePostgresFixture(int version, const std::string& url);

}  // namespace keyward::testdata
