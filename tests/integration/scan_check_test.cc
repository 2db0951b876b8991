// Acceptance 4 of issue 17: `keyward scan --check` and `--revoke` against the real server.
// The CLI talks to the server through a relay in this test that keeps every byte the CLI sent:
// those hold the hex SHA-256 of each key found and never a key. --revoke deletes the caller's
// live keys (then /auth answers 401) and leaves another user's; the server's log holds no key.
// Also the command examples of docs/leaks.md, run as written in a folder with keys.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "scan_fixture.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

constexpr char kCarolPassword[] = "carol-password-for-scan-7c1e";

// A TCP relay on 127.0.0.1 to `upstream_port` that records what clients send. One connection at
// a time, which is how the CLI talks.
class RecordingRelay {
 public:
  explicit RecordingRelay(std::uint16_t upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 8) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "relay: cannot listen";
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~RecordingRelay() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }
  std::string Sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  static bool Readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 20) > 0;
  }
  void Run() {
    while (!stop_) {
      if (!Readable(listener_)) continue;
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(upstream_port_);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        Pump(client, server);
      }
      ::close(server);
      ::close(client);
    }
  }
  // Copies both ways until either side closes.
  void Pump(int client, int server) {
    char buf[16384];
    while (!stop_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, 2, 20) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) return;
        if (i == 0) {
          std::lock_guard<std::mutex> lock(mu_);
          sent_.append(buf, static_cast<std::size_t>(n));
        }
        if (::write(i == 0 ? server : client, buf, static_cast<std::size_t>(n)) != n) return;
      }
    }
  }

  std::uint16_t upstream_port_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::string sent_;
};

std::string Hex(const std::string& bytes) {
  std::ostringstream out;
  for (unsigned char c : bytes) out << "0123456789abcdef"[c >> 4] << "0123456789abcdef"[c & 15];
  return out.str();
}

class ScanCheckTest : public ScanTestBase {
 protected:
  void SetUp() override {
    ScanTestBase::SetUp();
    server_ = ServerProcess::Start();
    ASSERT_GT(server_->port(), 0);
    home_ = dir_ + "/home";
    std::filesystem::create_directories(home_);
    admin_ = server_->Login("admin", kAdminPassword);
    ASSERT_EQ(server_
                  ->As(admin_, "POST", "/api/v1/users",
                       {{"id", "carol"},
                        {"name", "Carol"},
                        {"type", "person"},
                        {"password", kCarolPassword}})
                  .status,
              201);
    ASSERT_EQ(
        server_->As(admin_, "POST", "/api/v1/users", {{"id", "dave"}, {"name", "Dave"}}).status,
        201);
    RememberSecret(kCarolPassword);
    carol_ = server_->Login("carol", kCarolPassword);
    // The CLI signed in as carol, straight to the server.
    ProcessResult login =
        Cli({"login", "--server", Url(server_->port()), "-u", "carol", "--password-stdin"}, {},
            std::string(kCarolPassword) + "\n");
    ASSERT_EQ(login.exit_code, 0) << login.err;
  }
  void TearDown() override {
    server_->Stop();
    ExpectNoSecretsIn({server_->log_path()});
    ScanTestBase::TearDown();
  }

  static std::string Url(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

  std::map<std::string, std::string> CliEnv(std::map<std::string, std::string> env = {}) const {
    env.try_emplace("HOME", home_);
    env.try_emplace("XDG_CONFIG_HOME", "");
    env.try_emplace("KEYWARD_APIKEY", "");
    env.try_emplace("KEYWARD_SERVER", "");
    return env;
  }
  ProcessResult Cli(const std::vector<std::string>& args,
                    std::map<std::string, std::string> env = {}, const std::string& input = "") {
    return RunKeyward(args, CliEnv(std::move(env)), input);
  }
  int Auth(const std::string& key) const {
    return Call(server_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + key}}).status;
  }
  // A well-formed key the server never made, remembered so that the log is checked for it.
  static std::string UnknownKey() {
    std::string key = GenerateKey("kw");
    RememberSecret(key);
    return key;
  }

  std::unique_ptr<ServerProcess> server_;
  std::string home_;
  std::string admin_;
  std::string carol_;
};

// live and revoked of each finding of a `-o json` output, by masked key.
std::map<std::string, std::pair<json::value, json::value>> Verdicts(const std::string& out) {
  std::map<std::string, std::pair<json::value, json::value>> verdicts;
  const json::value parsed = json::parse(out);
  for (const json::value& f : parsed.at("findings").as_array()) {
    const json::object& o = f.as_object();
    verdicts[std::string(o.at("masked").as_string())] = {
        o.contains("live") ? o.at("live") : json::value(),
        o.contains("revoked") ? o.at("revoked") : json::value()};
  }
  return verdicts;
}

TEST_F(ScanCheckTest, CheckMarksLiveKeysAndRevokeRevokesOnlyTheCallersSendingOnlyHashes) {
  const std::string live = server_->NewKey(carol_, "me", "live");
  const std::string gone = server_->NewKey(carol_, "me", "gone");
  ASSERT_EQ(server_->As(carol_, "DELETE", "/api/v1/users/me/apikeys/gone").status, 204);
  const std::string daves = server_->NewKey(admin_, "dave", "svc");
  const std::string unknown = UnknownKey();
  Write("leak/app.env", "A=" + live + "\nB=" + gone + "\n");
  Write("leak/src/main.js", "const k = ['" + daves + "', '" + unknown + "', '" + live + "'];\n");
  const std::vector<std::string> keys = {live, gone, daves, unknown};

  RecordingRelay relay(server_->port());
  const auto via_relay = CliEnv({{"KEYWARD_SERVER", Url(relay.port())}});
  ProcessResult checked = RunKeyward({"scan", dir_ + "/leak", "--check", "-o", "json"}, via_relay);
  ASSERT_EQ(checked.exit_code, 1) << checked.err;
  auto v = Verdicts(checked.out);
  EXPECT_EQ(v[MaskKey(live)], std::make_pair(json::value(true), json::value()));
  EXPECT_EQ(v[MaskKey(gone)], std::make_pair(json::value(false), json::value()));
  EXPECT_EQ(v[MaskKey(daves)], std::make_pair(json::value(true), json::value()));
  EXPECT_EQ(v[MaskKey(unknown)], std::make_pair(json::value(false), json::value()));
  EXPECT_EQ(Auth(live), 200);

  ProcessResult revoked =
      RunKeyward({"scan", dir_ + "/leak", "--check", "--revoke", "-o", "json"}, via_relay);
  ASSERT_EQ(revoked.exit_code, 1) << revoked.err;
  v = Verdicts(revoked.out);
  EXPECT_EQ(v[MaskKey(live)], std::make_pair(json::value(true), json::value(true)));
  EXPECT_EQ(v[MaskKey(gone)], std::make_pair(json::value(false), json::value(false)));
  EXPECT_EQ(v[MaskKey(daves)], std::make_pair(json::value(true), json::value(false)));
  EXPECT_EQ(Auth(live), 401);
  EXPECT_EQ(Auth(daves), 200);

  ProcessResult text = RunKeyward({"scan", dir_ + "/leak/app.env", "--check"}, via_relay);
  EXPECT_EQ(text.exit_code, 1) << text.err;
  EXPECT_EQ(text.out, dir_ + "/leak/app.env:1:3: " + MaskKey(live) + " (not live)\n" + dir_ +
                          "/leak/app.env:2:3: " + MaskKey(gone) + " (not live)\n");

  const std::string sent = relay.Sent();
  EXPECT_NE(sent.find("/api/v1/apikeys/check"), std::string::npos) << sent;
  for (const std::string& key : keys) {
    EXPECT_NE(sent.find(Hex(HashKey(key))), std::string::npos) << MaskKey(key);
    EXPECT_EQ(sent.find(key.substr(3, 20)), std::string::npos) << MaskKey(key);
  }
}

TEST_F(ScanCheckTest, ASignedOutCheckExitsTwo) {
  Write("k.txt", UnknownKey());
  ProcessResult r = RunKeyward({"scan", dir_ + "/k.txt", "--check"},
                               CliEnv({{"HOME", dir_}, {"KEYWARD_SERVER", Url(server_->port())}}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("keyward login"), std::string::npos) << r.err;
}

TEST_F(ScanCheckTest, TheCommandExamplesOfTheDocsRunAsWritten) {
  const std::string key = server_->NewKey(carol_, "me", "in-repo");
  const std::string repo = dir_ + "/repo";
  GitInit(repo);
  Write("repo/src/client.js", "fetch(u, {headers: {Authorization: 'Bearer " + key + "'}})\n");
  Write("repo/config/app.yaml", "api:\n  url: https://x\n  key: " + key + "\n");
  Write("repo/web/app.min.js", "e=\"" + UnknownKey() + "\"");
  Write("repo/testdata/k.txt", UnknownKey());
  Git(repo, {"add", "-A"});
  Git(repo, {"commit", "-q", "-m", "keys"});
  std::istringstream block(DocBlock("scan-examples"));
  int commands = 0;
  for (std::string line; std::getline(block, line);) {
    if (line.empty()) continue;
    ProcessResult r = Shell(repo, line, CliEnv());
    EXPECT_EQ(r.exit_code, 1) << line << "\n" << r.err;
    EXPECT_EQ(r.out.find(key), std::string::npos) << line;
    ++commands;
  }
  EXPECT_EQ(commands, 7);
  EXPECT_EQ(Auth(key), 401);  // the last example revoked it
}

}  // namespace
}  // namespace keyward::testing
