// keyward_seed_keys: fills a Keyward data folder with many API keys, for the benchmarks.
//
//   keyward_seed_keys --data-dir DIR --count N --out keys.txt [--user admin] [--prefix kw]
//                     [--first 0] [--validity-days 30] [--scope SCOPE]...
//   keyward_seed_keys --copy-out FILE|- --count N --out keys.txt [the same options]
//
// Opens the store the normal way first, so its migrations run and the file modes are Keyward's,
// and creates the user if it does not exist yet (without a password: start the server once
// before seeding if you want to sign in as that user). Then inserts N keys named
// "bench-<first>" … "bench-<first+N-1>" with the sqlite3 C API in one transaction, on a
// connection of its own with synchronous=OFF (so a million keys take seconds, not hours), and
// writes every key, one per line, to the output file (mode 0600). With --scope, every key is
// granted those scopes (and no full access), as a key made with `apikey create -s SCOPE` is;
// without, the keys get the columns' defaults: full access, like keys made before scopes.
//
// Keys are stored as the server stores them (SHA-256 hash, masked form) but without the sealed
// copy, so they verify and list but cannot be revealed. Run it while the server is stopped, so the
// benchmark starts from a server whose cache has seen none of the keys.
//
// With --copy-out instead of --data-dir, nothing is opened: the same keys become rows of
// PostgreSQL's COPY text format, written to FILE (mode 0600) or standard output, for
//   \copy api_keys (user_id, name, hash, sealed, masked, created_at, expires_at, last_used_at,
//                   scopes, full_access) FROM …
// (kCopyColumns) into a database a `keyward serve --database-url` has migrated and whose user
// exists (the server creates `admin`). The scopes and full_access columns are always written:
// the granted scopes and 0, or '' and 1 without --scope (PostgreSQL's default is 0 since V003).
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "core/api_key.h"
#include "core/grant.h"
#include "core/user.h"
#include "store/store.h"
#include "store/store_factory.h"

namespace keyward::bench {
namespace {

constexpr std::string_view kDatabaseFile = "keyward.db";
constexpr std::int64_t kSecondsPerDay = 24 * 60 * 60;
// The columns of each --copy-out row, in order.
constexpr std::string_view kCopyColumns =
    "user_id, name, hash, sealed, masked, created_at, expires_at, last_used_at, scopes, "
    "full_access";

struct Flags {
  std::string data_dir;
  std::string copy_out;  // "-": standard output
  std::int64_t count = 0;
  std::string out;
  std::string user = "admin";
  std::string prefix = "kw";
  std::int64_t first = 0;
  std::int64_t validity_days = 30;
  std::vector<std::string> scopes;
};

// Exit codes: 1 for a usage or setup error, 2 for a database error.
int Fail(std::string_view message) {
  std::cerr << "keyward_seed_keys: " << message << "\n";
  return 1;
}

// The user the keys belong to: created (no password, no tags) when missing.
Status EnsureUser(Store& store, const std::string& id) {
  Result<User> existing = store.GetUser(id);
  if (existing.ok()) return Status::Ok();
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  User user;
  user.id = id;
  user.name = id;
  user.type = UserType::kPerson;
  user.created_at = Clock::System().Now();
  if (id == "admin") user.tags = {std::string(kOperatorTag)};
  std::cerr << "keyward_seed_keys: user " << id
            << " did not exist; created it without a password\n";
  return store.CreateUser(user);
}

// The scopes column as the store writes it: sorted, unique, separated by spaces.
// InvalidArgument for a malformed scope or too many.
Result<std::string> ScopesColumn(std::vector<std::string> scopes) {
  Grant grant;
  grant.scopes = std::move(scopes);
  Result<Grant> normal = NormalizeGrant(std::move(grant));
  if (!normal.ok()) return normal.status();
  std::string column;
  for (const std::string& scope : normal->scopes) column += (column.empty() ? "" : " ") + scope;
  return column;
}

// A file only its owner may read, truncated. -1 with errno set on failure.
int OpenOwnerOnly(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (::fchmod(fd, 0600) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The sqlite3 handles, closed in the right order whatever happens.
struct Db {
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  ~Db() {
    sqlite3_finalize(insert);
    sqlite3_close(db);
  }
  bool Exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) == SQLITE_OK) return true;
    std::cerr << "keyward_seed_keys: " << sql << ": " << (error ? error : "?") << "\n";
    sqlite3_free(error);
    return false;
  }
  int Report(std::string_view what) {
    std::cerr << "keyward_seed_keys: " << what << ": " << sqlite3_errmsg(db) << "\n";
    return 2;
  }
};

// Text escaped for a field of COPY's text format: backslash, tab, newline and carriage return.
void AppendCopyText(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
}

// Bytes as a bytea field of COPY's text format: \\x and hex digits (COPY turns "\\" into "\").
void AppendCopyBytea(std::string& out, std::string_view bytes) {
  constexpr char kHex[] = "0123456789abcdef";
  out += "\\\\x";
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
}

// --copy-out: the keys as rows of COPY's text format (kCopyColumns), no database opened.
int SeedCopy(const Flags& flags, const std::string& scopes) {
  int out = OpenOwnerOnly(flags.out);
  if (out < 0)
    return Fail("cannot create " + flags.out + ": " + std::generic_category().message(errno));
  const bool to_stdout = flags.copy_out == "-";
  int rows = to_stdout ? STDOUT_FILENO : OpenOwnerOnly(flags.copy_out);
  if (rows < 0) {
    ::close(out);
    return Fail("cannot create " + flags.copy_out + ": " + std::generic_category().message(errno));
  }
  struct CloseOnExit {
    int fd;
    bool close;
    ~CloseOnExit() {
      if (close) ::close(fd);
    }
  } close_out{out, true}, close_rows{rows, !to_stdout};

  const auto started = std::chrono::steady_clock::now();
  const UnixSeconds now = Clock::System().Now();
  const UnixSeconds expires = now + flags.validity_days * kSecondsPerDay;
  // Everything but the name, hash and masked form is the same in every row.
  std::string user_field;
  AppendCopyText(user_field, flags.user);
  std::string tail = "\t" + std::to_string(now) + "\t" + std::to_string(expires) + "\t0\t";
  AppendCopyText(tail, scopes);
  tail += flags.scopes.empty() ? "\t1\n" : "\t0\n";

  constexpr std::size_t kFlushAt = (1 << 20) - 512;
  std::string keys;
  std::string copy;
  keys.reserve(1 << 20);
  copy.reserve(1 << 20);
  for (std::int64_t i = 0; i < flags.count; ++i) {
    const std::string key = GenerateKey(flags.prefix);
    copy += user_field;
    copy += "\tbench-";
    copy += std::to_string(flags.first + i);
    copy.push_back('\t');
    AppendCopyBytea(copy, HashKey(key));
    copy += "\t\\\\x\t";  // sealed: no encrypted copy
    AppendCopyText(copy, MaskKey(key));
    copy += tail;
    keys.append(key).push_back('\n');
    if (keys.size() >= kFlushAt) {
      if (!WriteAll(out, keys))
        return Fail(flags.out + ": " + std::generic_category().message(errno));
      keys.clear();
    }
    if (copy.size() >= kFlushAt) {
      if (!WriteAll(rows, copy))
        return Fail(flags.copy_out + ": " + std::generic_category().message(errno));
      copy.clear();
    }
  }
  // The keys file is complete before the last rows are written, so before the keys can exist.
  if (!WriteAll(out, keys) || ::fsync(out) != 0)
    return Fail(flags.out + ": " + std::generic_category().message(errno));
  if (!WriteAll(rows, copy))
    return Fail(flags.copy_out + ": " + std::generic_category().message(errno));

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cerr << "keyward_seed_keys: " << flags.count << " rows of api_keys (" << kCopyColumns
            << ") for user " << flags.user << " in COPY text format in " << seconds << " s -> "
            << (to_stdout ? "standard output" : flags.copy_out) << "; keys -> " << flags.out
            << "\n";
  return 0;
}

int Seed(const Flags& flags) {
  if (!InitCrypto()) return Fail("cannot initialise libsodium");
  if (flags.count < 0) return Fail("--count must not be negative");
  if (flags.first < 0) return Fail("--first must not be negative");
  if (Status s = ValidateKeyPrefix(flags.prefix); !s.ok()) return Fail(s.message());
  if (Status s = ValidateUserId(flags.user); !s.ok()) return Fail(s.message());
  Result<std::string> scopes = ScopesColumn(flags.scopes);
  if (!scopes.ok()) return Fail(scopes.status().message());
  if (flags.data_dir.empty() == flags.copy_out.empty())
    return Fail("give either --data-dir or --copy-out");
  if (!flags.copy_out.empty()) return SeedCopy(flags, *scopes);

  std::error_code error;
  std::filesystem::create_directories(flags.data_dir, error);
  if (error) return Fail("cannot create " + flags.data_dir + ": " + error.message());
  ::chmod(flags.data_dir.c_str(), 0700);
  {
    // Migrations, file modes and the user, through Keyward's own code; closed again before the
    // bulk connection opens so nothing else holds the database.
    Result<std::unique_ptr<Store>> store = OpenStore(StoreOptions{flags.data_dir, ""});
    if (!store.ok()) return Fail(store.status().ToString());
    if (Status s = EnsureUser(**store, flags.user); !s.ok()) return Fail(s.ToString());
  }

  int out = OpenOwnerOnly(flags.out);
  if (out < 0)
    return Fail("cannot create " + flags.out + ": " + std::generic_category().message(errno));
  struct CloseOnExit {
    int fd;
    ~CloseOnExit() { ::close(fd); }
  } close_out{out};

  const std::string path = (std::filesystem::path(flags.data_dir) / kDatabaseFile).string();
  Db db;
  if (sqlite3_open_v2(path.c_str(), &db.db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    return db.Report("open " + path);
  }
  sqlite3_busy_timeout(db.db, 10000);
  // synchronous and cache_size are per connection: the server's own connection keeps FULL.
  if (!db.Exec("PRAGMA synchronous = OFF") || !db.Exec("PRAGMA cache_size = -524288") ||
      !db.Exec("PRAGMA foreign_keys = ON")) {
    return 2;
  }
  // The grant columns are the store's (V003): scopes space-separated and sorted.
  constexpr char kInsert[] =
      "INSERT INTO api_keys (user_id, name, hash, sealed, masked, created_at, expires_at, "
      "last_used_at) VALUES (?1, ?2, ?3, x'', ?4, ?5, ?6, 0)";
  constexpr char kInsertGranted[] =
      "INSERT INTO api_keys (user_id, name, hash, sealed, masked, created_at, expires_at, "
      "last_used_at, scopes, full_access) VALUES (?1, ?2, ?3, x'', ?4, ?5, ?6, 0, ?7, 0)";
  const bool granted = !flags.scopes.empty();
  if (sqlite3_prepare_v3(db.db, granted ? kInsertGranted : kInsert, -1, SQLITE_PREPARE_PERSISTENT,
                         &db.insert, nullptr) != SQLITE_OK) {
    return db.Report("prepare insert");
  }

  const auto started = std::chrono::steady_clock::now();
  const UnixSeconds now = Clock::System().Now();
  const UnixSeconds expires = now + flags.validity_days * kSecondsPerDay;
  if (!db.Exec("BEGIN IMMEDIATE")) return 2;
  std::string buffer;
  buffer.reserve(1 << 20);
  for (std::int64_t i = 0; i < flags.count; ++i) {
    const std::string key = GenerateKey(flags.prefix);
    const std::string hash = HashKey(key);
    const std::string masked = MaskKey(key);
    const std::string name = "bench-" + std::to_string(flags.first + i);
    sqlite3_bind_text(db.insert, 1, flags.user.data(), static_cast<int>(flags.user.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(db.insert, 2, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
    sqlite3_bind_blob(db.insert, 3, hash.data(), static_cast<int>(hash.size()), SQLITE_STATIC);
    sqlite3_bind_text(db.insert, 4, masked.data(), static_cast<int>(masked.size()), SQLITE_STATIC);
    sqlite3_bind_int64(db.insert, 5, now);
    sqlite3_bind_int64(db.insert, 6, expires);
    if (granted) {
      sqlite3_bind_text(db.insert, 7, scopes->data(), static_cast<int>(scopes->size()),
                        SQLITE_STATIC);
    }
    int rc = sqlite3_step(db.insert);
    sqlite3_reset(db.insert);
    if (rc != SQLITE_DONE) {
      db.Report("insert " + name);
      if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        std::cerr
            << "keyward_seed_keys: names bench-<n> are taken; use --first to go on from them\n";
      }
      db.Exec("ROLLBACK");
      return 2;
    }
    buffer.append(key).push_back('\n');
    if (buffer.size() >= (1 << 20) - 128) {
      if (!WriteAll(out, buffer))
        return Fail(flags.out + ": " + std::generic_category().message(errno));
      buffer.clear();
    }
  }
  if (!WriteAll(out, buffer))
    return Fail(flags.out + ": " + std::generic_category().message(errno));
  // The keys file is complete before the keys exist, never the other way round.
  if (::fsync(out) != 0) return Fail(flags.out + ": " + std::generic_category().message(errno));
  if (!db.Exec("COMMIT")) return 2;
  // Folds the WAL back into the database so the server starts from a compact file.
  if (!db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")) return 2;

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cerr << "keyward_seed_keys: " << flags.count << " keys for user " << flags.user << " in "
            << seconds << " s -> " << flags.out << "\n";
  return 0;
}

}  // namespace
}  // namespace keyward::bench

int main(int argc, char** argv) try {
  keyward::bench::Flags flags;
  CLI::App app{"Seeds a Keyward data folder with API keys for the benchmarks."};
  app.add_option("--data-dir", flags.data_dir,
                 "Keyward data folder (SQLite) to insert the keys into");
  app.add_option("--copy-out", flags.copy_out,
                 "instead: write the keys' rows in PostgreSQL's COPY text format to this file "
                 "(- for standard output)");
  app.add_option("--count", flags.count, "number of keys to insert")->required();
  app.add_option("--out", flags.out, "file that receives the keys, one per line (mode 0600)")
      ->required();
  app.add_option("--user", flags.user, "owner of the keys")->capture_default_str();
  app.add_option("--prefix", flags.prefix, "key prefix (the server's --key-prefix)")
      ->capture_default_str();
  app.add_option("--first", flags.first, "number of the first key name: bench-<first>")
      ->capture_default_str();
  app.add_option("--validity-days", flags.validity_days, "days until the keys expire")
      ->capture_default_str();
  app.add_option("--scope", flags.scopes, "a scope every key is granted (repeatable)");
  CLI11_PARSE(app, argc, argv);
  return keyward::bench::Seed(flags);
} catch (const std::exception& e) {
  std::cerr << "keyward_seed_keys: " << e.what() << "\n";
  return 1;
}
