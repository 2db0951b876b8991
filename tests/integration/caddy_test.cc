// Debian's real Caddy in front of a real Keyward, configured with the ```caddyfile block of
// docs/gateways.md (read from the page, so the example there is what runs): the two sites
// (`:80`, any valid key; `:81`, keys with minerva:query) with their ports, Keyward's (8080) and
// the service's (9000) replaced by free ones on 127.0.0.1, and global options that keep Caddy
// to this test (no admin endpoint, no automatic HTTPS, its folders in a temporary one). The
// service is a stand-in that records every request it gets, so the test sees both what reached
// it and with which X-Keyward-* headers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "nginx_gateway.h"
#include "webhook_receiver.h"

namespace keyward::testing {
namespace {

std::string CaddyBinary() {
  for (const char* path : {"/usr/bin/caddy", "/usr/local/bin/caddy", "/usr/sbin/caddy"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

class CaddyGateway : public ::testing::Test {
 protected:
  void SetUp() override {
    keyward_ = ServerProcess::Start({"--trusted-proxies", "127.0.0.1/32"});
    ASSERT_GT(keyward_->port(), 0);
    admin_ = keyward_->Login("admin", kAdminPassword);
    ASSERT_FALSE(admin_.empty());
    service_ = std::make_unique<WebhookReceiver>(
        [](const ReceivedHook&, int) { return HookAnswer{.status = 200, .headers = {}}; });
    ASSERT_GT(service_->port(), 0);
    ASSERT_NO_FATAL_FAILURE(StartCaddy());
  }

  void TearDown() override {
    StopCaddy();
    std::vector<std::string> logs = {dir_ + "/caddy.log"};
    if (keyward_) {
      keyward_->Stop();
      logs.push_back(keyward_->log_path());
    }
    // No key or session reaches a log: Keyward's, or Caddy's.
    ExpectNoSecretsIn(logs);
    if (!dir_.empty()) RemoveTree(dir_);
  }

  void StartCaddy() {
    const std::string binary = CaddyBinary();
    ASSERT_FALSE(binary.empty())
        << "caddy is not installed: apt-get install caddy (make test-deps)";
    const std::vector<std::string> blocks = DocumentedBlocks("caddyfile");
    ASSERT_EQ(blocks.size(), 1u) << "docs/gateways.md: every ```caddyfile block must be run here";
    plain_port_ = FreePort();
    scoped_port_ = FreePort();
    ASSERT_GT(plain_port_, 0);
    ASSERT_GT(scoped_port_, 0);
    ASSERT_NE(plain_port_, scoped_port_);
    std::string config = blocks[0];
    // Each site on loopback only.
    auto site = [](std::uint16_t port) {
      return "http://127.0.0.1:" + std::to_string(port) + " {\n\tbind 127.0.0.1\n";
    };
    ASSERT_EQ(ReplaceAll(config, ":80 {\n", site(plain_port_)), 1) << config;
    ASSERT_EQ(ReplaceAll(config, ":81 {\n", site(scoped_port_)), 1) << config;
    ASSERT_EQ(ReplaceAll(config, "127.0.0.1:8080", "127.0.0.1:" + std::to_string(keyward_->port())),
              2)
        << config;
    ASSERT_EQ(ReplaceAll(config, "127.0.0.1:9000", "127.0.0.1:" + std::to_string(service_->port())),
              2)
        << config;
    dir_ = MakeTempDir();
    const std::string path = dir_ + "/Caddyfile";
    std::ofstream(path) << "{\n\tadmin off\n\tauto_https off\n\tstorage "
                           "file_system "
                        << dir_ << "/storage\n}\n\n"
                        << config;
    pid_ = Spawn(
        {binary, "run", "--config", path, "--adapter", "caddyfile"}, dir_ + "/caddy.log",
        {{"HOME", dir_}, {"XDG_DATA_HOME", dir_ + "/data"}, {"XDG_CONFIG_HOME", dir_ + "/config"}});
    ASSERT_GT(pid_, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!(PortAnswers(plain_port_) && PortAnswers(scoped_port_))) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL() << "caddy exited at start:\n" << ReadFile(dir_ + "/caddy.log");
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "caddy did not start listening:\n"
                                                            << ReadFile(dir_ + "/caddy.log");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void StopCaddy() { StopGently(pid_); }

  HttpResult Get(std::uint16_t port, const Headers& headers = {}) {
    return Call(port, "GET", "/things/42?x=1", "", headers);
  }

  // A key of admin's with these scopes, remembered as a secret.
  std::string CreateKey(const std::string& name, const std::vector<std::string>& scopes) {
    return keyward_->NewScopedKey(admin_, "admin", name, scopes);
  }

  // Refused for want of a valid key, by Keyward's answer, and the service never saw it.
  void ExpectRefused(std::uint16_t port, const Headers& headers, const std::string& what) {
    const std::size_t before = service_->Count();
    const HttpResult r = Get(port, headers);
    EXPECT_EQ(r.status, 401) << what << "\n" << r.body;
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer") << what;
    EXPECT_EQ(service_->Count(), before) << what << " reached the service";
  }

  // The one request the service got last.
  ReceivedHook LastAtService() {
    std::vector<ReceivedHook> received = service_->Received();
    if (received.empty()) return {};
    return received.back();
  }

  std::unique_ptr<ServerProcess> keyward_;
  std::unique_ptr<WebhookReceiver> service_;
  std::string admin_;
  std::string dir_;
  pid_t pid_ = -1;
  std::uint16_t plain_port_ = 0;
  std::uint16_t scoped_port_ = 0;
};

TEST_F(CaddyGateway, ValidKeyReachesTheServiceWithItsUserAndForgeriesAreDropped) {
  const std::string key = CreateKey("presto-driver", {"minerva:query"});
  ASSERT_FALSE(key.empty());
  HttpResult r = Get(plain_port_, {{"Authorization", "Bearer " + key}});
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(service_->Count(), 1u);
  ReceivedHook seen = LastAtService();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/things/42?x=1");
  EXPECT_EQ(seen.Header("x-keyward-user"), "admin");
  EXPECT_EQ(seen.Header("x-keyward-tags"), "roles:id:operator");
  EXPECT_EQ(seen.Header("x-keyward-key-name"), "presto-driver");
  EXPECT_EQ(seen.Header("x-keyward-scopes"), "minerva:query");

  // Another key form Keyward reads (apikey header), with forged identity headers: Keyward's win.
  r = Get(plain_port_, {{"apikey", key},
                        {"X-Keyward-User", "root"},
                        {"X-Keyward-Scopes", "*"},
                        {"X-Keyward-Require-Scope", "minerva:query"}});
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(service_->Count(), 2u);
  seen = LastAtService();
  EXPECT_EQ(seen.Header("x-keyward-user"), "admin");
  EXPECT_EQ(seen.Header("x-keyward-scopes"), "minerva:query");
  // No X-Keyward-* header of the client's reaches the service: only Keyward's four.
  const std::set<std::string> keywards = {"x-keyward-user", "x-keyward-tags", "x-keyward-key-name",
                                          "x-keyward-scopes"};
  for (const auto& [name, value] : seen.headers) {
    if (name.starts_with("x-keyward-")) {
      EXPECT_TRUE(keywards.contains(name)) << name << ": " << value;
    }
  }

  // A session has no key name: a forged one must not survive to the service.
  r = Get(plain_port_, {{"Authorization", "Bearer " + admin_}, {"X-Keyward-Key-Name", "forged"}});
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(service_->Count(), 3u);
  seen = LastAtService();
  EXPECT_EQ(seen.Header("x-keyward-user"), "admin");
  EXPECT_EQ(seen.Header("x-keyward-key-name"), "");
  EXPECT_EQ(seen.Header("x-keyward-scopes"), "*");

  // The second site: the scope is required.
  r = Get(scoped_port_, {{"Authorization", "Bearer " + key}});
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(service_->Count(), 4u);
  EXPECT_EQ(LastAtService().Header("x-keyward-key-name"), "presto-driver");
  const std::string other = CreateKey("other", {"pulsar:produce"});
  ASSERT_FALSE(other.empty());
  r = Get(scoped_port_, {{"Authorization", "Bearer " + other}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.Header("x-keyward-reason"), "scope");
  EXPECT_NE(r.body.find("minerva:query"), std::string::npos) << r.body;
  EXPECT_EQ(service_->Count(), 4u) << "a key without the scope reached the service";
  // The same key passes the plain site.
  EXPECT_EQ(Get(plain_port_, {{"Authorization", "Bearer " + other}}).status, 200);
  EXPECT_EQ(service_->Count(), 5u);
}

TEST_F(CaddyGateway, NoKeyOrABadKeyIs401AndNeverReachesTheService) {
  const std::string key = CreateKey("valid", {});
  ASSERT_FALSE(key.empty());
  for (std::uint16_t port : {plain_port_, scoped_port_}) {
    const std::string site = port == plain_port_ ? "plain site: " : "scoped site: ";
    ExpectRefused(port, {}, site + "no key");
    ExpectRefused(port, {{"X-Keyward-User", "admin"}}, site + "no key, forged user");
    ExpectRefused(port, {{"Authorization", "Bearer kw_garbage"}}, site + "garbage");
    ExpectRefused(port, {{"Authorization", "Bearer " + WithTypo(key)}}, site + "wrong checksum");
    ExpectRefused(port, {{"apikey", WithTypo(key)}}, site + "wrong checksum in apikey");
  }
  EXPECT_EQ(service_->Count(), 0u);
}

TEST_F(CaddyGateway, KeywardStoppedDeniesEverything) {
  const std::string key = CreateKey("while-up", {"minerva:query"});
  ASSERT_FALSE(key.empty());
  ASSERT_EQ(Get(plain_port_, {{"Authorization", "Bearer " + key}}).status, 200);
  ASSERT_EQ(service_->Count(), 1u);
  EXPECT_EQ(keyward_->Stop(), 0);
  for (std::uint16_t port : {plain_port_, scoped_port_}) {
    for (const Headers& headers : {Headers{}, Headers{{"Authorization", "Bearer " + key}},
                                   Headers{{"X-Keyward-User", "admin"}}}) {
      const HttpResult r = Get(port, headers);
      EXPECT_TRUE(r.status < 200 || r.status >= 300) << r.status << " " << r.body;
      EXPECT_NE(r.status, 0) << "caddy itself should answer";
    }
  }
  EXPECT_EQ(service_->Count(), 1u) << "a request reached the service with Keyward down";
}

}  // namespace
}  // namespace keyward::testing
