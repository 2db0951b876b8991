// Issue 18: JSON logs, request ids and the access log (--log-format json --access-log on), and
// GET /readyz following the store: 503 while its PostgreSQL is stopped, 200 once it is back,
// without a restart. The PostgreSQL here is a cluster of this test's own (initdb in a temporary
// folder): the shared one of scripts/with-postgres must keep running for the other tests.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

// Every line of `log` parsed; a failure for a line that is not a JSON object with time, level
// and msg.
std::vector<json::object> JsonLines(const std::string& log) {
  std::vector<json::object> lines;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) {
      ADD_FAILURE() << "not a JSON object: " << line;
      continue;
    }
    const json::object& o = v.as_object();
    EXPECT_TRUE(o.contains("time") && o.at("time").is_string()) << line;
    EXPECT_TRUE(o.contains("level") && o.at("level").is_string()) << line;
    EXPECT_TRUE(o.contains("msg") && o.at("msg").is_string()) << line;
    lines.push_back(o);
  }
  return lines;
}

// The access line of `request_id`, or null.
const json::object* AccessLine(const std::vector<json::object>& lines,
                               std::string_view request_id) {
  for (const json::object& line : lines) {
    if (line.at("msg") == "access" && line.contains("request_id") &&
        line.at("request_id").is_string() && line.at("request_id").as_string() == request_id) {
      return &line;
    }
  }
  return nullptr;
}

// The ```json blocks of docs/server.md's "## Logs": each one line of JSON with the fields of a
// line the server wrote (`lines`), of the same types.
void ExpectDocumentedLinesLike(const std::vector<json::object>& lines) {
  const std::string doc = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/server.md");
  const auto section = doc.find("\n## Logs\n");
  ASSERT_NE(section, std::string::npos);
  const std::string logs = doc.substr(section, doc.find("\n## ", section + 1) - section);
  ASSERT_NE(logs.find("<!-- checked: log-examples"), std::string::npos);
  int blocks = 0;
  for (auto at = logs.find("```json\n"); at != std::string::npos;
       at = logs.find("```json\n", at + 1)) {
    const auto start = at + 8;
    const std::string block = logs.substr(start, logs.find("```", start) - start);
    ++blocks;
    const std::vector<json::object> example = JsonLines(block);
    ASSERT_EQ(example.size(), 1u) << block;
    const json::object& documented = example.front();
    const bool access = documented.at("msg") == "access";
    // A line the server wrote of the same kind, with the same fields of the same kinds.
    bool matched = false;
    for (const json::object& line : lines) {
      if ((line.at("msg") == "access") != access || line.size() != documented.size()) continue;
      bool same = true;
      for (const auto& [name, value] : documented) {
        same &= line.contains(name) && line.at(name).kind() == value.kind();
      }
      matched |= same;
    }
    EXPECT_TRUE(matched) << "no line the server wrote is like: " << block;
  }
  EXPECT_EQ(blocks, 2);
}

TEST(JsonLogs, EveryLineIsJsonAndRequestIdsReachTheAccessLine) {
  auto server = ServerProcess::Start({"--log-format", "json", "--access-log", "on"});
  ASSERT_GT(server->port(), 0);
  const std::string admin = server->Login("admin", kAdminPassword);
  ASSERT_FALSE(admin.empty());
  // Remembered: the secrets scan looks for it in the log.
  const std::string key = server->NewScopedKey(admin, "admin", "ci \"main\"", {"keys:read"});
  ASSERT_FALSE(key.empty());

  // /auth with a gateway's id: the answer carries it back.
  const std::string given = "trace-4b4c2b8e.1:2_x";
  HttpResult auth = Call(server->port(), "GET", "/auth", "",
                         {{"Authorization", "Bearer " + key}, {"X-Request-Id", given}});
  EXPECT_EQ(auth.status, 200);
  EXPECT_EQ(auth.Header("x-request-id"), given);
  // No id, or one that is not valid: the server makes one.
  HttpResult health = Call(server->port(), "GET", "/healthz");
  const std::string made = health.Header("x-request-id");
  EXPECT_FALSE(made.empty());
  HttpResult refused = Call(server->port(), "GET", "/auth?apikey=" + key, "",
                            {{"X-Request-Id", "not valid: spaces"}});
  EXPECT_EQ(refused.status, 401);  // --allow-query-key is off
  const std::string made_for_bad = refused.Header("x-request-id");
  EXPECT_FALSE(made_for_bad.empty());
  EXPECT_NE(made_for_bad, "not valid: spaces");
  EXPECT_NE(made_for_bad, made);
  // An API route: its pattern is logged, not its path or query.
  HttpResult keys = server->As(key, "GET", "/api/v1/users/admin/apikeys?secret-looking=1");
  EXPECT_EQ(keys.status, 200);
  const std::string keys_id = keys.Header("x-request-id");
  HttpResult ready = Call(server->port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.body, "{\"status\":\"ready\"}\n");
  EXPECT_FALSE(ready.Header("x-request-id").empty());
  HttpResult missing = Call(server->port(), "GET", "/no/such/path?x=1");
  EXPECT_EQ(missing.status, 404);

  ASSERT_EQ(server->Stop(), 0);
  const std::vector<json::object> lines = JsonLines(server->Log());
  ASSERT_GT(lines.size(), 5u);

  const json::object* a = AccessLine(lines, given);
  ASSERT_NE(a, nullptr) << server->Log();
  EXPECT_EQ(a->at("level"), "info");
  EXPECT_EQ(a->at("method"), "GET");
  EXPECT_EQ(a->at("route"), "/auth");
  EXPECT_EQ(a->at("status"), 200);
  EXPECT_TRUE(a->at("latency_ms").is_number());
  EXPECT_EQ(a->at("user"), "admin");
  EXPECT_EQ(a->at("key_name"), "ci \"main\"");

  const json::object* h = AccessLine(lines, made);
  ASSERT_NE(h, nullptr) << server->Log();
  EXPECT_EQ(h->at("route"), "/healthz");
  EXPECT_FALSE(h->contains("user"));

  const json::object* r = AccessLine(lines, made_for_bad);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->at("route"), "/auth");
  EXPECT_EQ(r->at("status"), 401);

  const json::object* k = AccessLine(lines, keys_id);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->at("route"), "/api/v1/users/{id}/apikeys");
  EXPECT_EQ(k->at("user"), "admin");
  EXPECT_EQ(k->at("key_name"), "ci \"main\"");

  const json::object* n = AccessLine(lines, missing.Header("x-request-id"));
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->at("route"), "(none)");

  ExpectDocumentedLinesLike(lines);
  // The start-up line is there, as a JSON message.
  bool listening = false;
  for (const json::object& line : lines) {
    listening |= std::string_view(line.at("msg").as_string()).find("listening on http://") !=
                 std::string_view::npos;
  }
  EXPECT_TRUE(listening);
  // Never a key, a session or a query in the log.
  const std::string log = server->Log();
  EXPECT_EQ(log.find("secret-looking"), std::string::npos);
  EXPECT_EQ(log.find("apikey="), std::string::npos);
  ExpectNoSecretsIn({server->log_path()});
}

// Text stays the default, and without --access-log no line per request is written.
TEST(JsonLogs, TextAndNoAccessLinesByDefault) {
  auto server = ServerProcess::Start();
  ASSERT_GT(server->port(), 0);
  HttpResult health = Call(server->port(), "GET", "/healthz", "", {{"X-Request-Id", "quiet-1"}});
  EXPECT_EQ(health.Header("x-request-id"), "quiet-1");
  ASSERT_EQ(server->Stop(), 0);
  const std::string log = server->Log();
  EXPECT_EQ(log.find("quiet-1"), std::string::npos) << log;
  EXPECT_EQ(log.find("{\"time\""), std::string::npos) << log;
  EXPECT_NE(log.find(" INFO  "), std::string::npos) << log;
}

// A PostgreSQL cluster of the test's own: initdb in a temporary folder (as user postgres when
// run as root: the server refuses root), on a free port of 127.0.0.1. The destructor stops it
// and removes the folder, whatever happened.
class OwnPostgres {
 public:
  // False (and a reason) when no PostgreSQL server is installed or the cluster cannot start.
  bool Create(std::string* why) {
    bin_ = FindBin();
    if (bin_.empty()) {
      *why = "no PostgreSQL server under /usr/lib/postgresql";
      return false;
    }
    char pattern[] = "/tmp/keyward-readyz-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      *why = "mkdtemp failed";
      return false;
    }
    dir_ = pattern;
    if (::geteuid() == 0) {
      ProcessResult chown = RunProcess({"chown", "postgres:", dir_});
      if (chown.exit_code != 0) {
        *why = "chown postgres: " + chown.err;
        return false;
      }
    }
    ProcessResult init = AsOwner({bin_ + "/initdb", "-D", dir_ + "/data", "-A", "trust", "-U",
                                  "postgres", "--no-sync", "-E", "UTF8", "--locale=C"});
    if (init.exit_code != 0) {
      *why = "initdb: " + init.err + init.out;
      return false;
    }
    port_ = FreePort();
    const std::string conf = "port = " + std::to_string(port_) +
                             "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '" +
                             dir_ + "'\nfsync = off\nsynchronous_commit = off\n";
    ProcessResult append =
        AsOwner({"sh", "-c", "printf '%s' \"$0\" >> \"$1\"", conf, dir_ + "/data/postgresql.conf"});
    if (append.exit_code != 0) {
      *why = "postgresql.conf: " + append.err;
      return false;
    }
    if (!Start()) {
      *why = "pg_ctl start failed: " + ReadFile(dir_ + "/postgres.log");
      return false;
    }
    return true;
  }

  ~OwnPostgres() {
    if (dir_.empty()) return;
    if (std::filesystem::exists(dir_ + "/data/postmaster.pid")) {
      (void)AsOwner(
          {bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "-t", "30", "stop"});
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  bool Start() {
    return AsOwner({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/postgres.log", "-w",
                    "-t", "30", "start"})
               .exit_code == 0;
  }
  bool Stop() {
    return AsOwner({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "-t", "30", "stop"})
               .exit_code == 0;
  }
  std::string url() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }

 private:
  static std::string FindBin() {
    if (const char* bin = std::getenv("KEYWARD_TEST_PG_BIN"); bin != nullptr && *bin != '\0') {
      return bin;
    }
    std::string best;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const std::string bin = entry.path().string() + "/bin";
      if (std::filesystem::exists(bin + "/initdb") && bin > best) best = bin;
    }
    return best;
  }

  // A port nothing listens on now (the kernel's pick for a socket bound to port 0).
  static int FreePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(addr);
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) == 0) {
      port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
  }

  ProcessResult AsOwner(std::vector<std::string> args) const {
    if (::geteuid() == 0) args.insert(args.begin(), {"runuser", "-u", "postgres", "--"});
    return RunProcess(args);
  }

  std::string bin_, dir_;
  int port_ = 0;
};

int Readyz(const ServerProcess& server) { return Call(server.port(), "GET", "/readyz").status; }

// Acceptance 5 of issue 18.
TEST(Readyz, FollowsItsPostgresWithoutARestart) {
  OwnPostgres pg;
  std::string why;
  if (!pg.Create(&why)) GTEST_SKIP() << why;
  const std::string keys = MakeTempDir();
  {
    auto server = ServerProcess::Start(
        {"--db", pg.url(), "--master-key-file", keys + "/master.key", "--log-format", "json"});
    ASSERT_GT(server->port(), 0) << server->Log();
    EXPECT_EQ(Readyz(*server), 200);
    EXPECT_EQ(Call(server->port(), "GET", "/healthz").status, 200);

    ASSERT_TRUE(pg.Stop());
    EXPECT_TRUE(Eventually([&] { return Readyz(*server) == 503; }, milliseconds(5000)));
    HttpResult down = Call(server->port(), "GET", "/readyz");
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(down.Json().at("error").at("code"), "unavailable") << down.body;
    EXPECT_EQ(Call(server->port(), "GET", "/healthz").status, 200);  // alive all the same

    ASSERT_TRUE(pg.Start());
    EXPECT_TRUE(Eventually([&] { return Readyz(*server) == 200; }, milliseconds(8000)));
    EXPECT_EQ(server->Stop(), 0);
    JsonLines(server->Log());  // the store's errors while it was down are JSON lines too
  }
  RemoveTree(keys);
}

}  // namespace
}  // namespace keyward::testing
