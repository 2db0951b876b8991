// Runs every ```sh block of docs/operations.md as written, with bash (-e -o pipefail, the
// whole block as one script), `keyward` on PATH, in a working folder W whose ./var is the test
// server's data dir, and checks what each one did. Blocks are picked by their section; each
// test asserts how many its sections hold, and EveryBlockIsRun that those are all of them.
//
// - "SQLite, while the server runs" (2 blocks), server up: the `keyward backup` block must say
//   where it wrote and leave a sound backups/keyward-*.db holding a key made before it; the
//   VACUUM INTO block a sound backups/compact-*.db. A key is then made after the backup.
// - "Restoring SQLite" (1), after the test stops the server: the restarted server accepts the
//   pre-backup key on /auth and reveals it, and refuses the post-backup key. The compact
//   backup alone in a new data dir (no master key) still verifies that key but cannot reveal
//   it, as "What a backup without the master key can do" says.
// - "The master key" (1): makes keyward-master.key; mode 0600, 64 hex characters, and a server
//   given it with --master-key-file seals and reveals with it, leaving it unchanged.
// - "Keyward with a certificate" (2): the first block is `keyward serve --tls-cert … --tls-key
//   …`, which runs for ever: the test checks it is that one command and starts it through the
//   harness with the same two flags (port 0 in place of --listen), on files tls/fullchain.pem
//   and tls/privkey.pem issued by a test CA tls/ca.pem that it makes with openssl. The second
//   block runs command by command with https://127.0.0.1:8443 pointed at that server: login
//   and `apikey get` with --ca-file, and curl --cacert on /healthz.
// - "Reading it" (4), after a failed sign-in and a key created, revealed and deleted: login;
//   `audit get -o json` and the curl call must list those events (and no key); the table must
//   name them. $PASSWORD and $SESSION are set by the test, http://127.0.0.1:8080 localized.
// - "Retention" (2): the sqlite3 block, server up, removes a row the test dated 2001 and keeps
//   the recent ones; the psql block does the same in PostgresBackupRestoreAndRetention.
// - "PostgreSQL" (2), on a new database of scripts/with-postgres's cluster ($KEYWARD_DB set by
//   the test; $KEYWARD_TEST_PG_BIN first on PATH; skipped without KEYWARD_TEST_PG_URL):
//   pg_dump with the server up, a key made after it, the server stopped, pg_restore; the
//   restarted server verifies and reveals the pre-dump key and refuses the later one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace keyward::testing {
namespace {

namespace fs = std::filesystem;

std::string Doc() { return ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/operations.md"); }

// The ```sh blocks of a text, fences possibly indented (inside a list), indentation removed.
std::vector<std::string> ShellBlocksOf(const std::string& text) {
  std::vector<std::string> blocks;
  std::regex block("(^|\n)( *)```sh\n([\\s\\S]*?)\n *```");
  for (std::sregex_iterator it(text.begin(), text.end(), block), last; it != last; ++it) {
    const std::size_t indent = (*it)[2].length();
    std::istringstream in((*it)[3].str());
    std::string line, out;
    while (std::getline(in, line)) {
      out += (line.size() >= indent ? line.substr(indent) : line) + "\n";
    }
    blocks.push_back(out);
  }
  return blocks;
}

// The blocks between the heading `title` (## or ###) and the next ## or ### heading.
std::vector<std::string> SectionBlocks(const std::string& title) {
  std::string doc = Doc();
  std::smatch m;
  if (!std::regex_search(doc, m, std::regex("\n#{2,3} " + title + "\n"))) return {};
  std::string rest = m.suffix();
  std::smatch next;
  if (std::regex_search(rest, next, std::regex("\n#{2,3} ")))
    rest = rest.substr(0, next.position());
  return ShellBlocksOf(rest);
}

std::map<std::string, std::string> BaseEnv(std::map<std::string, std::string> env = {}) {
  std::string path = fs::path(KeywardBinary()).parent_path().string() + ":" + std::getenv("PATH");
  if (const char* pg_bin = std::getenv("KEYWARD_TEST_PG_BIN"))
    path = std::string(pg_bin) + ":" + path;
  env["PATH"] = path;
  return env;
}

// Runs `script` with bash in `cwd`.
ProcessResult RunIn(const std::string& cwd, const std::string& script,
                    const std::map<std::string, std::string>& env = {}) {
  return RunProcess({"bash", "-e", "-o", "pipefail", "-c", "cd '" + cwd + "'\n" + script},
                    BaseEnv(env));
}

std::string Localize(const std::string& text, const std::string& from, const std::string& to) {
  std::string out = text;
  for (std::size_t at = out.find(from); at != std::string::npos; at = out.find(from, at + 1)) {
    out.replace(at, from.size(), to);
  }
  return out;
}

// A working folder with ./var, mode 0700, for the server's data.
std::string WorkDir() {
  std::string w = MakeTempDir();
  fs::create_directory(w + "/var");
  fs::permissions(w + "/var", fs::perms::owner_all, fs::perm_options::replace);
  return w;
}

std::vector<std::string> Glob(const std::string& dir, const std::string& pattern) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (std::regex_match(e.path().filename().string(), std::regex(pattern))) {
      out.push_back(e.path().string());
    }
  }
  return out;
}

std::string Sqlite(const std::string& db, const std::string& sql) {
  ProcessResult r = RunProcess({"sqlite3", db, ".timeout 5000", sql});
  EXPECT_EQ(r.exit_code, 0) << sql << "\n" << r.err;
  return r.out;
}

std::string RevealedToken(const ServerProcess& server, const std::string& session,
                          const std::string& name, int* status) {
  HttpResult r = server.As(session, "GET", "/api/v1/users/me/apikeys/" + name + "/token");
  *status = r.status;
  if (r.status != 200) return "";
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("token")) return r.body;
  return std::string(v.at("token").as_string());
}

TEST(OperationsDoc, EveryBlockIsRun) {
  std::size_t covered = 0;
  for (const char* section :
       {"SQLite, while the server runs", "Restoring SQLite", "PostgreSQL", "The master key",
        "Keyward with a certificate", "Reading it", "Retention"}) {
    covered += SectionBlocks(section).size();
  }
  EXPECT_EQ(ShellBlocksOf(Doc()).size(), covered)
      << "docs/operations.md has a ```sh block in a section this test does not run";
}

TEST(OperationsDoc, SqliteBackupAndRestore) {
  auto backup_blocks = SectionBlocks("SQLite, while the server runs");
  auto restore_blocks = SectionBlocks("Restoring SQLite");
  ASSERT_EQ(backup_blocks.size(), 2u);
  ASSERT_EQ(restore_blocks.size(), 1u);
  const std::string w = WorkDir();
  auto server = ServerProcess::Start({}, w + "/var");
  std::string session = server->Login("admin", kAdminPassword);
  RememberSecret(session);
  std::string before = server->NewKey(session, "admin", "before-backup");

  ProcessResult backup = RunIn(w, backup_blocks[0]);
  ASSERT_EQ(backup.exit_code, 0) << backup_blocks[0] << backup.err;
  EXPECT_NE(backup.out.find(" written to backups/keyward-"), std::string::npos) << backup.out;
  auto backups = Glob(w + "/backups", "keyward-[0-9]{8}T[0-9]{6}Z\\.db");
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_EQ(Sqlite(backups[0], "PRAGMA integrity_check"), "ok\n");
  EXPECT_EQ(Sqlite(backups[0], "SELECT name FROM api_keys"), "before-backup\n");

  ProcessResult vacuum = RunIn(w, backup_blocks[1]);
  ASSERT_EQ(vacuum.exit_code, 0) << backup_blocks[1] << vacuum.err;
  auto compact = Glob(w + "/backups", "compact-[0-9]{8}T[0-9]{6}Z\\.db");
  ASSERT_EQ(compact.size(), 1u);
  EXPECT_EQ(Sqlite(compact[0], "PRAGMA integrity_check"), "ok\n");
  EXPECT_EQ(Sqlite(compact[0], "SELECT name FROM api_keys"), "before-backup\n");

  std::string after = server->NewKey(session, "admin", "after-backup");
  ASSERT_EQ(AuthStatus(*server, after), 200);
  ASSERT_EQ(server->Stop(), 0);

  ProcessResult restore = RunIn(w, restore_blocks[0]);
  ASSERT_EQ(restore.exit_code, 0) << restore_blocks[0] << restore.err;
  EXPECT_FALSE(fs::exists(w + "/var/keyward.db-wal"));
  EXPECT_EQ(fs::status(w + "/var/keyward.db").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  server = ServerProcess::Start({}, w + "/var");
  EXPECT_EQ(AuthStatus(*server, before), 200);
  EXPECT_EQ(AuthStatus(*server, after), 401);
  session = server->Login("admin", kAdminPassword);
  RememberSecret(session);
  int status = 0;
  EXPECT_EQ(RevealedToken(*server, session, "before-backup", &status), before);
  EXPECT_EQ(status, 200);
  server->Stop();

  // The backup without its master key: verifies, does not reveal.
  const std::string bare = WorkDir();
  fs::copy_file(compact[0], bare + "/var/keyward.db");
  fs::permissions(bare + "/var/keyward.db", fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  auto keyless = ServerProcess::Start({}, bare + "/var");
  EXPECT_EQ(AuthStatus(*keyless, before), 200);
  std::string s2 = keyless->Login("admin", kAdminPassword);
  RememberSecret(s2);
  HttpResult reveal = keyless->As(s2, "GET", "/api/v1/users/me/apikeys/before-backup/token");
  EXPECT_EQ(reveal.status, 500) << reveal.body;
  EXPECT_EQ(reveal.body.find(before), std::string::npos);
  EXPECT_EQ(keyless->As(s2, "GET", "/api/v1/users/me/apikeys?reveal=true").status, 500);
  HttpResult masked = keyless->As(s2, "GET", "/api/v1/users/me/apikeys");
  EXPECT_EQ(masked.status, 200);
  EXPECT_NE(masked.body.find("before-backup"), std::string::npos) << masked.body;
  EXPECT_EQ(masked.body.find(before), std::string::npos);
  keyless->Stop();
  ExpectNoSecretsIn({server->log_path(), keyless->log_path()});
  RemoveTree(w);
  RemoveTree(bare);
}

TEST(OperationsDoc, MasterKeyFile) {
  auto blocks = SectionBlocks("The master key");
  ASSERT_EQ(blocks.size(), 1u);
  const std::string w = WorkDir();
  ProcessResult made = RunIn(w, blocks[0]);
  ASSERT_EQ(made.exit_code, 0) << blocks[0] << made.err;
  const std::string file = w + "/keyward-master.key";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = ReadFile(file);
  EXPECT_TRUE(std::regex_match(text, std::regex("[0-9a-f]{64}\n"))) << text.size();

  auto server = ServerProcess::Start({"--master-key-file", file}, w + "/var");
  std::string session = server->Login("admin", kAdminPassword);
  RememberSecret(session);
  std::string key = server->NewKey(session, "admin", "sealed");
  int status = 0;
  EXPECT_EQ(RevealedToken(*server, session, "sealed", &status), key);
  EXPECT_EQ(status, 200);
  EXPECT_FALSE(fs::exists(w + "/var/master.key"));
  server->Stop();
  EXPECT_EQ(ReadFile(file), text);
  RemoveTree(w);
}

// A CA and a certificate for 127.0.0.1 issued by it, in `dir`, with the openssl command line.
void MakeTestPki(const std::string& dir) {
  std::ofstream(dir + "/server.ext")
      << "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
         "extendedKeyUsage=serverAuth\n";
  const std::string script =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
      "-keyout ca.key -out ca.pem -subj '/CN=Operations doc test CA' "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign\n"
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout privkey.pem "
      "-out server.csr -subj '/CN=127.0.0.1'\n"
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 "
      "-out fullchain.pem -extfile server.ext\n"
      "chmod 600 privkey.pem ca.key\n";
  ProcessResult r = RunIn(dir, script);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

TEST(OperationsDoc, TlsWithAPrivateCa) {
  auto blocks = SectionBlocks("Keyward with a certificate");
  ASSERT_EQ(blocks.size(), 2u);
  const std::string w = WorkDir();
  fs::create_directory(w + "/tls");
  ASSERT_NO_FATAL_FAILURE(MakeTestPki(w + "/tls"));

  // The serve block: one command, started through the harness with its TLS flags.
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      blocks[0], m,
      std::regex(
          "keyward serve --listen 127\\.0\\.0\\.1:8443 --tls-cert (\\S+) --tls-key (\\S+)\n")))
      << blocks[0];
  auto server = ServerProcess::Start(
      {"--tls-cert", w + "/" + m[1].str(), "--tls-key", w + "/" + m[2].str()}, w + "/var");
  ASSERT_NE(server->Log().find("listening on https://127.0.0.1:"), std::string::npos)
      << server->Log();

  const std::string home = MakeTempDir();
  RememberSecret(kAdminPassword);
  std::map<std::string, std::string> env = {{"HOME", home},          {"XDG_CONFIG_HOME", ""},
                                            {"KEYWARD_SERVER", ""},  {"KEYWARD_APIKEY", ""},
                                            {"KEYWARD_CA_FILE", ""}, {"PASSWORD", kAdminPassword}};
  const std::string url = "https://127.0.0.1:" + std::to_string(server->port());
  std::istringstream lines(Localize(blocks[1], "https://127.0.0.1:8443", url));
  std::vector<std::string> commands;
  for (std::string line; std::getline(lines, line);) commands.push_back(line);
  ASSERT_EQ(commands.size(), 3u) << blocks[1];
  ProcessResult login = RunIn(w, commands[0], env);
  EXPECT_EQ(login.exit_code, 0) << commands[0] << "\n" << login.err;
  ProcessResult get = RunIn(w, commands[1], env);
  EXPECT_EQ(get.exit_code, 0) << commands[1] << "\n" << get.err;
  EXPECT_NE(get.err.find("user apikey get...complete"), std::string::npos) << get.err;
  ProcessResult health = RunIn(w, commands[2], env);
  EXPECT_EQ(health.exit_code, 0) << commands[2] << "\n" << health.err;
  EXPECT_FALSE(health.out.empty());
  // Without the CA, the CLI refuses the server.
  ProcessResult refused = RunIn(w, "keyward user apikey get", env);
  EXPECT_NE(refused.exit_code, 0);
  server->Stop();
  ExpectNoSecretsIn({server->log_path()});
  RemoveTree(w);
  RemoveTree(home);
}

// Events named in the JSON `text` ({"events": [...]} or a list), as "action outcome".
std::vector<std::string> Events(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  if (ec) return {};
  const boost::json::array* events = nullptr;
  if (v.is_array()) events = &v.as_array();
  if (v.is_object() && v.as_object().contains("events")) events = &v.at("events").as_array();
  EXPECT_NE(events, nullptr) << text;
  std::vector<std::string> out;
  if (events == nullptr) return out;
  for (const auto& e : *events) {
    out.push_back(std::string(e.at("action").as_string()) + " " +
                  std::string(e.at("outcome").as_string()));
  }
  return out;
}

void ExpectAuditedSequence(const std::string& json) {
  auto events = Events(json);
  for (const char* expected : {"signin failure", "signin success", "key.create success",
                               "key.reveal success", "key.delete success"}) {
    EXPECT_NE(std::find(events.begin(), events.end(), expected), events.end())
        << expected << " missing from " << json;
  }
}

TEST(OperationsDoc, AuditLogReadAndPruned) {
  auto reading = SectionBlocks("Reading it");
  auto retention = SectionBlocks("Retention");
  ASSERT_EQ(reading.size(), 4u);
  ASSERT_EQ(retention.size(), 2u);
  const std::string w = WorkDir();
  auto server = ServerProcess::Start({}, w + "/var");
  EXPECT_EQ(Call(server->port(), "POST", "/api/v1/login",
                 R"({"username":"admin","password":"not-the-password"})",
                 {{"Content-Type", "application/json"}})
                .status,
            401);
  std::string session = server->Login("admin", kAdminPassword);
  RememberSecret(session);
  std::string key = server->NewKey(session, "admin", "audited");
  int status = 0;
  EXPECT_EQ(RevealedToken(*server, session, "audited", &status), key);
  EXPECT_EQ(server->As(session, "DELETE", "/api/v1/users/me/apikeys/audited").status, 204);

  const std::string home = MakeTempDir();
  RememberSecret(kAdminPassword);
  std::map<std::string, std::string> env = {
      {"HOME", home},         {"XDG_CONFIG_HOME", ""},      {"KEYWARD_SERVER", ""},
      {"KEYWARD_APIKEY", ""}, {"PASSWORD", kAdminPassword}, {"SESSION", session}};
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port());
  std::vector<ProcessResult> results;
  for (const auto& block : reading) {
    results.push_back(RunIn(w, Localize(block, "http://127.0.0.1:8080", url), env));
    EXPECT_EQ(results.back().exit_code, 0) << block << results.back().err;
    EXPECT_EQ(results.back().out.find(key), std::string::npos);
  }
  ExpectAuditedSequence(results[1].out);
  EXPECT_NE(results[2].out.find("key.delete"), std::string::npos) << results[2].out;
  ExpectAuditedSequence(results[3].out);

  // Pruning: a row dated 2001 goes, the recent ones stay.
  const std::string db = w + "/var/keyward.db";
  Sqlite(db,
         "INSERT INTO audit_events (occurred_at, actor, action, user_id, outcome) "
         "VALUES (1000000000, 'old-actor', 'signin', 'old-actor', 'success')");
  ASSERT_EQ(Sqlite(db, "SELECT count(*) FROM audit_events WHERE actor = 'old-actor'"), "1\n");
  ProcessResult prune = RunIn(w, retention[0]);
  ASSERT_EQ(prune.exit_code, 0) << retention[0] << prune.err;
  EXPECT_EQ(Sqlite(db, "SELECT count(*) FROM audit_events WHERE actor = 'old-actor'"), "0\n");
  HttpResult after = server->As(session, "GET", "/api/v1/audit?limit=1000");
  ASSERT_EQ(after.status, 200);
  ExpectAuditedSequence(after.body);
  server->Stop();
  ExpectNoSecretsIn({server->log_path(), db});
  RemoveTree(w);
  RemoveTree(home);
}

TEST(OperationsDoc, PostgresBackupRestoreAndRetention) {
  const char* pg_url = std::getenv("KEYWARD_TEST_PG_URL");
  if (pg_url == nullptr || *pg_url == '\0') GTEST_SKIP() << "KEYWARD_TEST_PG_URL not set";
  auto blocks = SectionBlocks("PostgreSQL");
  auto retention = SectionBlocks("Retention");
  ASSERT_EQ(blocks.size(), 2u);
  ASSERT_EQ(retention.size(), 2u);
  const std::string base(pg_url);
  const std::string name = "keyward_ops_" + std::to_string(::getpid());
  auto psql = [](const std::string& url, const std::string& sql) {
    ProcessResult r = RunProcess(
        {"psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url, "-c", sql}, BaseEnv());
    EXPECT_EQ(r.exit_code, 0) << sql << "\n" << r.err;
    return r.out;
  };
  psql(base, "DROP DATABASE IF EXISTS " + name);
  psql(base, "CREATE DATABASE " + name);
  const std::string db = base.substr(0, base.rfind('/') + 1) + name;

  const std::string w = WorkDir();
  const std::vector<std::string> args = {"--db", db, "--master-key-file", w + "/master.key"};
  auto server = ServerProcess::Start(args, w + "/var");
  std::string session = server->Login("admin", kAdminPassword);
  RememberSecret(session);
  std::string before = server->NewKey(session, "admin", "before-dump");

  const std::map<std::string, std::string> env = {{"KEYWARD_DB", db}};
  ProcessResult dump = RunIn(w, blocks[0], env);
  ASSERT_EQ(dump.exit_code, 0) << blocks[0] << dump.err;
  ASSERT_EQ(Glob(w + "/backups", "keyward-[0-9]{8}T[0-9]{6}Z\\.dump").size(), 1u);
  std::string after = server->NewKey(session, "admin", "after-dump");
  ASSERT_EQ(server->Stop(), 0);

  ProcessResult restore = RunIn(w, blocks[1], env);
  ASSERT_EQ(restore.exit_code, 0) << blocks[1] << restore.err;
  EXPECT_EQ(psql(db, "SELECT name FROM api_keys ORDER BY name"), "before-dump\n");

  server = ServerProcess::Start(args, w + "/var");
  EXPECT_EQ(AuthStatus(*server, before), 200);
  EXPECT_EQ(AuthStatus(*server, after), 401);
  session = server->Login("admin", kAdminPassword);
  RememberSecret(session);
  int status = 0;
  EXPECT_EQ(RevealedToken(*server, session, "before-dump", &status), before);
  EXPECT_EQ(status, 200);

  // Retention on PostgreSQL, server up.
  psql(db,
       "INSERT INTO audit_events (occurred_at, actor, action, user_id, outcome) "
       "VALUES (1000000000, 'old-actor', 'signin', 'old-actor', 'success')");
  ProcessResult prune = RunIn(w, retention[1], env);
  ASSERT_EQ(prune.exit_code, 0) << retention[1] << prune.err;
  EXPECT_EQ(prune.out, "DELETE 1\n");
  EXPECT_EQ(psql(db, "SELECT count(*) FROM audit_events WHERE actor = 'old-actor'"), "0\n");
  EXPECT_NE(psql(db, "SELECT count(*) FROM audit_events WHERE action = 'key.create'"), "0\n");
  server->Stop();
  psql(base, "DROP DATABASE " + name);
  ExpectNoSecretsIn({server->log_path()});
  RemoveTree(w);
}

}  // namespace
}  // namespace keyward::testing
