// `keyward backup` and `keyward restore` (issue 18, acceptance 6) against the real binary.
//
// The backup is taken while 64 clients create keys through the API as fast as the server
// answers; every create acknowledged (201) before the backup began must be in it: restored into
// a new data dir (with the master key file copied beside it), a server started there verifies
// each of those keys at /auth, and the restored file passes PRAGMA integrity_check. The other
// tests cover what the two commands refuse: a restore under a running server (which also keeps
// a second server off its data dir), over an existing database without --force, of a file that
// is not a Keyward database or is damaged; a backup onto an existing file without --force, and
// of a PostgreSQL store.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "load_client.h"

namespace keyward::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr int kCreators = 64;
constexpr int kVerifiers = 8;

// The files of `dir`, by name.
std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += name + " ";
  return out;
}

struct Created {
  std::string token;
  Clock::time_point answered;
};

TEST(Backup, TakenWhile64ClientsCreateKeysHoldsEveryKeyAcknowledgedBeforeIt) {
  auto server = ServerProcess::Start();
  ASSERT_GT(server->port(), 0);
  const std::string admin = server->Login("admin", kAdminPassword);
  ASSERT_FALSE(admin.empty());

  std::vector<std::vector<Created>> created(kCreators);
  std::vector<std::string> failures;
  std::mutex failures_mu;
  std::atomic<int> acknowledged{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> creators;
  for (int c = 0; c < kCreators; ++c) {
    creators.emplace_back([&, c] {
      KeepAliveClient client(server->port());
      const HeaderList auth = {{"Authorization", "Bearer " + admin}};
      for (int n = 0; !stop.load(); ++n) {
        const std::string name = "c" + std::to_string(c) + "-" + std::to_string(n);
        const HttpResult r = client.Send("POST", "/api/v1/users/me/apikeys", auth,
                                         json::serialize(json::object{{"name", name}}));
        const Clock::time_point answered = Clock::now();
        if (r.status != 201) {
          std::lock_guard lock(failures_mu);
          failures.push_back(name + ": " + std::to_string(r.status) + " " + r.body);
          return;
        }
        std::string token(r.Json().at("token").as_string());
        RememberSecret(token);
        created[c].push_back({std::move(token), answered});
        ++acknowledged;
      }
    });
  }
  // Under way: some keys in, the clients all busy.
  const bool started =
      Eventually([&] { return acknowledged.load() >= 300; }, std::chrono::seconds(20));
  const std::string root = MakeTempDir();
  const std::string backup = root + "/keyward-backup.db";
  const Clock::time_point backup_began = Clock::now();
  const int acknowledged_at_start = acknowledged.load();
  const ProcessResult made =
      RunKeyward({"backup", "--data-dir", server->data_dir(), "--to", backup});
  const Clock::time_point backup_ended = Clock::now();
  const int acknowledged_at_end = acknowledged.load();
  // Creates go on after it, too.
  Eventually([&] { return acknowledged.load() >= acknowledged_at_end + 100; },
             std::chrono::seconds(5));
  stop = true;
  for (std::thread& t : creators) t.join();
  ASSERT_TRUE(started) << "the creators did not get going: " << acknowledged.load();
  ASSERT_TRUE(failures.empty()) << failures.size() << " creates failed, first: " << failures[0];
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_NE(made.out.find("backup of " + server->data_dir() + "/keyward.db written to " + backup),
            std::string::npos)
      << made.out;
  EXPECT_NE(made.out.find("master key"), std::string::npos) << made.out;

  std::vector<std::string> before;  // acknowledged before the backup began
  int after = 0;
  for (const auto& mine : created) {
    for (const Created& c : mine) {
      if (c.answered < backup_began) before.push_back(c.token);
      if (c.answered > backup_ended) ++after;
    }
  }
  std::printf(
      "backup: %zu keys acknowledged before it began (%d counted), %d during it (%.0f ms), %d "
      "after; %d in all\n",
      before.size(), acknowledged_at_start, acknowledged_at_end - acknowledged_at_start,
      std::chrono::duration<double, std::milli>(backup_ended - backup_began).count(), after,
      acknowledged.load());
  EXPECT_GE(before.size(), 300u);
  EXPECT_GT(after, 0) << "the creators had stopped before the backup ended";
  struct stat st {};
  ASSERT_EQ(::stat(backup.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(backup + "-wal"));
  EXPECT_EQ(Joined(FilesIn(root)), "keyward-backup.db ") << "a temporary file was left";

  // Restored into a new data dir, with the master key beside it.
  const std::string data_dir = root + "/restored";
  const ProcessResult restored = RunKeyward({"restore", "--from", backup, "--data-dir", data_dir});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_NE(restored.out.find("restored " + backup + " into " + data_dir + "/keyward.db"),
            std::string::npos)
      << restored.out;
  EXPECT_EQ(IntegrityCheck(data_dir + "/keyward.db"), "ok");
  ASSERT_EQ(::stat((data_dir + "/keyward.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  fs::copy_file(server->data_dir() + "/master.key", data_dir + "/master.key");
  fs::permissions(data_dir + "/master.key", fs::perms::owner_read | fs::perms::owner_write);
  server->Stop();

  auto again = ServerProcess::Start({}, data_dir);
  ASSERT_GT(again->port(), 0);
  std::atomic<std::size_t> next{0};
  std::vector<std::string> lost;
  std::mutex lost_mu;
  std::vector<std::thread> verifiers;
  for (int v = 0; v < kVerifiers; ++v) {
    verifiers.emplace_back([&] {
      KeepAliveClient client(again->port());
      for (std::size_t i = next++; i < before.size(); i = next++) {
        const HttpResult r =
            client.Send("GET", "/auth", {{"Authorization", "Bearer " + before[i]}});
        if (r.status != 200) {
          std::lock_guard lock(lost_mu);
          lost.push_back(std::to_string(i) + ": " + std::to_string(r.status));
        }
      }
    });
  }
  for (std::thread& t : verifiers) t.join();
  EXPECT_TRUE(lost.empty()) << lost.size() << " of " << before.size()
                            << " keys acknowledged before the backup do not verify, first "
                            << lost[0];
  // The admin's session was in the backup too, and the master key opens what it sealed.
  EXPECT_EQ(again->As(admin, "GET", "/api/v1/users/me").status, 200);
  again->Stop();
  EXPECT_EQ(IntegrityCheck(data_dir + "/keyward.db"), "ok");
  ExpectNoSecretsIn({again->log_path(), server->log_path()});
  RemoveTree(root);
}

// A server holds its data dir: a second server refuses to start there (exit 2) and a restore
// refuses to replace its database, even with --force; once it stops, both work.
TEST(Backup, RestoreAndASecondServerRefuseWhileAServerRuns) {
  const std::string root = MakeTempDir();
  const std::string data_dir = root + "/data";
  auto server = ServerProcess::Start({}, data_dir);
  ASSERT_GT(server->port(), 0);
  const std::string backup = root + "/b.db";
  ProcessResult r = RunKeyward({"backup", "--data-dir", data_dir, "--to", backup});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  r = RunKeyward({"serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir},
                 {{"KEYWARD_ADMIN_PASSWORD", kAdminPassword}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("another keyward process is using the data folder " + data_dir),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;

  r = RunKeyward({"restore", "--from", backup, "--data-dir", data_dir, "--force"});
  EXPECT_EQ(r.exit_code, 9) << r.err;
  EXPECT_NE(r.err.find("] restore: another keyward process is using the data folder"),
            std::string::npos)
      << r.err;
  // Nothing of the restore is left, and the server goes on.
  EXPECT_EQ(Joined(FilesIn(data_dir)).find("restore"), std::string::npos)
      << Joined(FilesIn(data_dir));
  EXPECT_FALSE(server->Login("admin", kAdminPassword).empty());

  server->Stop();
  r = RunKeyward({"restore", "--from", backup, "--data-dir", data_dir, "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto again = ServerProcess::Start({}, data_dir);
  EXPECT_FALSE(again->Login("admin", kAdminPassword).empty());
  again->Stop();
  RemoveTree(root);
}

// A restore replaces a database only with --force, and only with a Keyward database that
// passes integrity_check; a refused one leaves the data dir as it was.
TEST(Backup, RestoreRefusesToOverwriteAndRefusesFilesThatAreNotKeywardDatabases) {
  const std::string root = MakeTempDir();
  const std::string data_dir = root + "/data";
  std::string key;
  {
    auto server = ServerProcess::Start({}, data_dir);
    const std::string admin = server->Login("admin", kAdminPassword);
    key = server->NewKey(admin, "admin", "kept");
    ASSERT_FALSE(key.empty());
    server->Stop();
  }
  const std::string good = root + "/good.db";
  ProcessResult r = RunKeyward({"backup", "--data-dir", data_dir, "--to", good});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> files = FilesIn(data_dir);

  // An existing database: --force is needed.
  r = RunKeyward({"restore", "--from", good, "--data-dir", data_dir});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_NE(r.err.find("already holds a database"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;

  // Not an SQLite database.
  const std::string text = root + "/notes.txt";
  std::ofstream(text) << std::string(8192, 'x');
  r = RunKeyward({"restore", "--from", text, "--data-dir", data_dir, "--force"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(text + " is not an SQLite database"), std::string::npos) << r.err;

  // An SQLite database, not Keyward's.
  const std::string other = root + "/other.db";
  { std::ofstream touch(other); }
  SqliteExec(other, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);");
  r = RunKeyward({"restore", "--from", other, "--data-dir", data_dir, "--force"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("is an SQLite database but not a Keyward one"), std::string::npos) << r.err;

  // A Keyward database from a newer release.
  const std::string newer = root + "/newer.db";
  fs::copy_file(good, newer);
  SqliteExec(newer,
             "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)");
  r = RunKeyward({"restore", "--from", newer, "--data-dir", data_dir, "--force"});
  EXPECT_EQ(r.exit_code, 9) << r.err;
  EXPECT_NE(r.err.find("schema version 999"), std::string::npos) << r.err;

  // A damaged one: a page of the api_keys table overwritten.
  const std::string damaged = root + "/damaged.db";
  fs::copy_file(good, damaged);
  {
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = static_cast<std::streamoff>(fs::file_size(damaged));
    for (std::streamoff at = 4096; at + 4096 <= size; at += 4096) {
      f.seekp(at + 8);  // past each page's b-tree header type byte and freeblock offset
      f << std::string(64, '\xA5');
    }
  }
  r = RunKeyward({"restore", "--from", damaged, "--data-dir", data_dir, "--force"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(r.err.find("integrity_check") != std::string::npos ||
              r.err.find("damaged") != std::string::npos)
      << r.err;

  // A file that is not there.
  r = RunKeyward({"restore", "--from", root + "/missing.db", "--data-dir", data_dir, "--force"});
  EXPECT_EQ(r.exit_code, 5) << r.err;

  // None of the refusals changed the data dir or left a file in it.
  EXPECT_EQ(FilesIn(data_dir), files) << Joined(FilesIn(data_dir));
  auto server = ServerProcess::Start({}, data_dir);
  EXPECT_EQ(server->As(key, "GET", "/api/v1/users/me").status, 200);
  server->Stop();

  // With --force the backup replaces it: the key made after the backup is gone.
  {
    auto later = ServerProcess::Start({}, data_dir);
    const std::string admin = later->Login("admin", kAdminPassword);
    const std::string newer_key = later->NewKey(admin, "admin", "after-backup");
    ASSERT_FALSE(newer_key.empty());
    later->Kill();  // leaves its WAL, which the restore must not replay into the backup
    r = RunKeyward({"restore", "--from", good, "--data-dir", data_dir, "--force"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(data_dir + "/keyward.db-wal"));
    EXPECT_EQ(IntegrityCheck(data_dir + "/keyward.db"), "ok");
    auto restored = ServerProcess::Start({}, data_dir);
    EXPECT_EQ(restored->As(key, "GET", "/api/v1/users/me").status, 200);
    EXPECT_EQ(restored->As(newer_key, "GET", "/api/v1/users/me").status, 401);
    restored->Stop();
  }
  RemoveTree(root);
}

TEST(Backup, BackupRefusesAnExistingFileWithoutForceAndAPostgresStore) {
  const std::string root = MakeTempDir();
  auto server = ServerProcess::Start();
  const std::string to = root + "/b.db";
  std::ofstream(to) << "precious";
  ProcessResult r = RunKeyward({"backup", "--data-dir", server->data_dir(), "--to", to});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_NE(r.err.find("] backup: " + to + " exists; give --force to replace it"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(to), "precious");
  r = RunKeyward({"backup", "--data-dir", server->data_dir(), "--to", to, "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(IntegrityCheck(to), "ok");

  // PostgreSQL: its own tools, and the URL's password is never shown.
  const std::string url = "postgresql://keyward:s3cret-pass@127.0.0.1:1/keyward";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"backup", "--db", url, "--to", root + "/pg.db"},
        std::vector<std::string>{"restore", "--db", url, "--from", to}}) {
    r = RunKeyward(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(args[0] == "backup" ? "pg_dump" : "pg_restore"), std::string::npos)
        << r.err;
    EXPECT_EQ((r.out + r.err).find("s3cret"), std::string::npos) << r.err;
  }
  r = RunKeyward({"backup", "--to", root + "/pg.db"}, {{"KEYWARD_DB", url}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(root + "/pg.db"));

  // No database in the data dir.
  r = RunKeyward({"backup", "--data-dir", root + "/empty", "--to", root + "/none.db"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("no Keyward database in " + root + "/empty"), std::string::npos) << r.err;
  // The database itself.
  r = RunKeyward({"backup", "--data-dir", server->data_dir(), "--to",
                  server->data_dir() + "/keyward.db", "--force"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  server->Stop();
  RemoveTree(root);
}

}  // namespace
}  // namespace keyward::testing
