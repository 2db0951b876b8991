// Runs Debian's real nginx in front of a real Keyward, with the `auth_request` configuration
// docs/gateways.md shows (its first ```nginx block, read from the page itself, so the example
// there is what is tested). nginx listens on a free port on 127.0.0.1, checks every request with
// Keyward's /auth, and proxies what passes to a stand-in service in the same nginx that echoes
// the X-Keyward-* headers it received. An access log of the stand-in's port proves which
// requests reached it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "core/api_key.h"
#include "harness.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

// A port that was free a moment ago: bind port 0 on 127.0.0.1, read it, close.
std::uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool PortAnswers(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Debian installs nginx in /usr/sbin, which is not on every PATH.
std::string NginxBinary() {
  for (const char* path : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

// Replaces every `from` in `text` with `to`; returns how many there were.
int ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  int count = 0;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
    ++count;
  }
  return count;
}

// The first ```nginx block of docs/gateways.md, or "" when there is none.
std::string DocumentedNginxConfig() {
  std::string page = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/gateways.md");
  std::smatch m;
  if (!std::regex_search(page, m, std::regex("```nginx\n([\\s\\S]*?)```"))) return "";
  return m[1];
}

// One nginx, in the foreground and in a single process, with everything it writes in a
// temporary folder.
class Nginx {
 public:
  // Starts nginx with `http_config` in the http context and waits until `ports` answer.
  static std::unique_ptr<Nginx> Start(const std::string& http_config,
                                      const std::vector<std::uint16_t>& ports) {
    std::unique_ptr<Nginx> n(new Nginx());
    n->dir_ = MakeTempDir();
    const std::string& d = n->dir_;
    std::string binary = NginxBinary();
    if (binary.empty()) {
      ADD_FAILURE() << "nginx is not installed: apt-get install nginx-light (make test-deps)";
      return n;
    }
    // The log line of each request: the port it came in on, and its status.
    std::ofstream(d + "/nginx.conf") << "daemon off;\n"
                                     << "master_process off;\n"
                                     << "worker_processes 1;\n"
                                     << "pid " << d << "/nginx.pid;\n"
                                     << "error_log " << d << "/error.log;\n"
                                     << "events { worker_connections 64; }\n"
                                     << "http {\n"
                                     << "  log_format kw_hits '$server_port $status';\n"
                                     << "  access_log " << d << "/hits.log kw_hits;\n"
                                     << "  client_body_temp_path " << d << "/client_body;\n"
                                     << "  proxy_temp_path " << d << "/proxy;\n"
                                     << "  fastcgi_temp_path " << d << "/fastcgi;\n"
                                     << "  uwsgi_temp_path " << d << "/uwsgi;\n"
                                     << "  scgi_temp_path " << d << "/scgi;\n"
                                     << http_config << "\n}\n";
    std::vector<std::string> args = {binary,          "-p", d + "/", "-c", d + "/nginx.conf", "-e",
                                     d + "/error.log"};
    std::string out_path = d + "/stderr.log";
    pid_t pid = Spawn(args, out_path);
    n->pid_ = pid;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        n->pid_ = -1;
        ADD_FAILURE() << "nginx exited at start:\n" << n->Logs();
        return n;
      }
      bool all = true;
      for (auto port : ports) all = all && PortAnswers(port);
      if (all) return n;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "nginx did not start listening:\n" << n->Logs();
    return n;
  }

  ~Nginx() {
    Stop();
    RemoveTree(dir_);
  }

  bool running() const { return pid_ > 0; }
  std::string Logs() const {
    return ReadFile(dir_ + "/stderr.log") + ReadFile(dir_ + "/error.log");
  }
  std::vector<std::string> LogFiles() const {
    return {dir_ + "/stderr.log", dir_ + "/error.log", dir_ + "/hits.log"};
  }

  // How many requests came in on `port`, from the access log.
  int Hits(std::uint16_t port) const {
    std::istringstream in(ReadFile(dir_ + "/hits.log"));
    std::string line;
    int hits = 0;
    while (std::getline(in, line)) hits += line.starts_with(std::to_string(port) + " ");
    return hits;
  }

  // SIGTERM (nginx's fast shutdown), then SIGKILL after 5 s.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 250; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  Nginx() = default;
  pid_t pid_ = -1;
  std::string dir_;
};

TEST(NginxDocs, GatewaysPageHasTheTestedConfig) {
  std::string config = DocumentedNginxConfig();
  ASSERT_FALSE(config.empty()) << "docs/gateways.md has no ```nginx block";
  for (const char* directive :
       {"auth_request /_keyward;", "auth_request_set $kw_user $upstream_http_x_keyward_user;",
        "proxy_set_header X-Keyward-User $kw_user;", "proxy_pass_request_body off;", "internal;",
        "proxy_pass http://127.0.0.1:8080/auth;"}) {
    EXPECT_NE(config.find(directive), std::string::npos) << directive;
  }
}

class NginxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyward_ = ServerProcess::Start();
    ASSERT_GT(keyward_->port(), 0);
    admin_ = keyward_->Login("admin", kAdminPassword);
    ASSERT_FALSE(admin_.empty());

    listen_port_ = FreePort();
    upstream_port_ = FreePort();
    ASSERT_GT(listen_port_, 0);
    ASSERT_GT(upstream_port_, 0);
    ASSERT_NE(listen_port_, upstream_port_);
    // The documented config, pointed at this test's ports, all on 127.0.0.1.
    std::string config = DocumentedNginxConfig();
    ASSERT_FALSE(config.empty()) << "docs/gateways.md has no ```nginx block";
    const std::string listen = "listen 127.0.0.1:" + std::to_string(listen_port_) + ";";
    const std::string upstream = "127.0.0.1:" + std::to_string(upstream_port_);
    const std::string keyward = "127.0.0.1:" + std::to_string(keyward_->port());
    ASSERT_EQ(ReplaceAll(config, "listen 80;", listen), 1) << config;
    ASSERT_EQ(ReplaceAll(config, "127.0.0.1:9000", upstream), 2) << config;
    ASSERT_EQ(ReplaceAll(config, "127.0.0.1:8080", keyward), 1) << config;
    std::regex listen_directive("listen\\s+([^;]*);");
    for (std::sregex_iterator it(config.begin(), config.end(), listen_directive), end; it != end;
         ++it) {
      ASSERT_TRUE((*it)[1].str().starts_with("127.0.0.1:")) << "not on 127.0.0.1: " << (*it)[0];
    }
    nginx_ = Nginx::Start(config, {listen_port_, upstream_port_});
    ASSERT_TRUE(nginx_->running());
  }

  void TearDown() override {
    std::vector<std::string> logs;
    if (nginx_) {
      nginx_->Stop();
      logs = nginx_->LogFiles();
    }
    if (keyward_) {
      keyward_->Stop();
      logs.push_back(keyward_->log_path());
    }
    // No key or session reaches a log: Keyward's, or nginx's.
    ExpectNoSecretsIn(logs);
  }

  // A request to the gateway, as a client sends it.
  HttpResult Get(const Headers& headers = {}) {
    return Call(listen_port_, "GET", "/things/42?x=1", "", headers);
  }

  int UpstreamHits() const { return nginx_->Hits(upstream_port_); }

  // Creates a key for `user` (as admin) and returns it.
  std::string CreateKey(const std::string& user, const std::string& name,
                        const std::string& duration = "24h") {
    return keyward_->NewKey(admin_, user, name, duration, &last_expiration_);
  }

  // The tags of `user` as /auth sends them: joined by ",".
  std::string TagsOf(const std::string& user) {
    HttpResult r = keyward_->As(admin_, "GET", "/api/v1/users/" + user);
    EXPECT_EQ(r.status, 200) << r.body;
    std::string tags;
    if (r.status != 200) return tags;
    json::value user_json = r.Json();
    for (const auto& tag : user_json.at("tags").as_array()) {
      if (!tags.empty()) tags += ",";
      tags += std::string(tag.as_string());
    }
    return tags;
  }

  // An application user with two tags.
  void MakeTaggedUser(const std::string& id) {
    ASSERT_EQ(keyward_
                  ->As(admin_, "POST", "/api/v1/users",
                       {{"id", id}, {"name", id + " app"}, {"type", "application"}})
                  .status,
              201);
    for (const char* tag : {"roles:id:data-dev", "roles:id:user"}) {
      ASSERT_EQ(
          keyward_->As(admin_, "POST", "/api/v1/users/" + id + "/tags", {{"tag", tag}}).status,
          200);
    }
  }

  static std::string Echo(const std::string& user, const std::string& tags,
                          const std::string& key_name) {
    return "upstream saw user=" + user + " tags=" + tags + " key=" + key_name + "\n";
  }

  // A refusal by nginx that the stand-in service never saw.
  void ExpectRefused(const HttpResult& r, const std::string& what) {
    EXPECT_EQ(r.status, 401) << what;
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer") << what;
    EXPECT_EQ(r.body.find("upstream saw"), std::string::npos) << what;
  }

  std::unique_ptr<ServerProcess> keyward_;
  std::unique_ptr<Nginx> nginx_;
  std::string admin_;
  std::uint16_t listen_port_ = 0;
  std::uint16_t upstream_port_ = 0;
  std::string last_expiration_;
};

TEST_F(NginxTest, ValidKeyReachesTheServiceWithItsUserAndTags) {
  std::string key = CreateKey("me", "gw-admin");
  ASSERT_FALSE(key.empty());
  std::string admin_tags = TagsOf("admin");
  EXPECT_EQ(admin_tags, "roles:id:operator");
  HttpResult r = Get({{"Authorization", "Bearer " + key}});
  EXPECT_EQ(r.status, 200) << r.body << nginx_->Logs();
  EXPECT_EQ(r.body, Echo("admin", admin_tags, "gw-admin"));
  EXPECT_EQ(UpstreamHits(), 1);

  // Another user's key: that user, with both tags, reaches the service.
  MakeTaggedUser("lakesearchapi");
  std::string app_key = CreateKey("lakesearchapi", "lakesearch_app_api");
  std::string app_tags = TagsOf("lakesearchapi");
  EXPECT_NE(app_tags.find("roles:id:data-dev"), std::string::npos) << app_tags;
  EXPECT_NE(app_tags.find("roles:id:user"), std::string::npos) << app_tags;
  EXPECT_NE(app_tags.find(','), std::string::npos) << app_tags;
  r = Get({{"Authorization", "Bearer " + app_key}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, Echo("lakesearchapi", app_tags, "lakesearch_app_api"));
  // The other carriers work through nginx too: the subrequest has every header.
  r = Get({{"apikey", app_key}});
  EXPECT_EQ(r.body, Echo("lakesearchapi", app_tags, "lakesearch_app_api"));
  r = Get({{"Authorization", app_key}});
  EXPECT_EQ(r.body, Echo("lakesearchapi", app_tags, "lakesearch_app_api"));
  EXPECT_EQ(UpstreamHits(), 4);
}

TEST_F(NginxTest, MissingAndBadKeysAreRefusedBeforeTheService) {
  std::string key = CreateKey("me", "to-damage");
  ASSERT_FALSE(key.empty());
  const std::string typo = WithTypo(key);  // the checksum no longer matches
  const std::vector<std::pair<std::string, Headers>> refused = {
      {"no key", {}},
      {"garbage", {{"Authorization", "Bearer not-a-key"}}},
      {"garbage shaped like a key", {{"Authorization", "Bearer kw_" + std::string(49, 'A')}}},
      {"wrong checksum", {{"Authorization", "Bearer " + typo}}},
      {"unknown key", {{"Authorization", "Bearer " + GenerateKey("kw")}}},
      {"garbage apikey header", {{"apikey", "nope"}}},
  };
  for (const auto& [what, headers] : refused) ExpectRefused(Get(headers), what);
  EXPECT_EQ(UpstreamHits(), 0);
  // The undamaged key still passes, so the refusals above were about the keys.
  EXPECT_EQ(Get({{"Authorization", "Bearer " + key}}).status, 200);
  EXPECT_EQ(UpstreamHits(), 1);
}

TEST_F(NginxTest, ExpiredKeyIsRefused) {
  std::string key = CreateKey("me", "brief", "2s");
  ASSERT_FALSE(key.empty());
  EXPECT_EQ(Get({{"Authorization", "Bearer " + key}}).status, 200);
  // The expiration is in whole seconds: wait until one second past it.
  std::tm tm{};
  ASSERT_NE(::strptime(last_expiration_.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr);
  auto expires = std::chrono::system_clock::from_time_t(::timegm(&tm));
  auto wait = expires + std::chrono::seconds(1) - std::chrono::system_clock::now();
  ASSERT_LE(wait, std::chrono::seconds(4));
  // Asked directly (not through nginx, which would pass a valid key on to the upstream), Keyward
  // refuses it from its expiration on, in whole seconds: at the latest a second after it.
  EXPECT_TRUE(Eventually(
      [&] {
        return Call(keyward_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + key}})
                   .status == 401;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(wait)));
  ExpectRefused(Get({{"Authorization", "Bearer " + key}}), "expired key");
  EXPECT_EQ(UpstreamHits(), 1);
}

TEST_F(NginxTest, DeletedKeyIsRefused) {
  std::string key = CreateKey("me", "short-lived");
  ASSERT_FALSE(key.empty());
  EXPECT_EQ(Get({{"Authorization", "Bearer " + key}}).status, 200);
  ASSERT_EQ(keyward_->As(admin_, "DELETE", "/api/v1/users/me/apikeys/short-lived").status, 204);
  ExpectRefused(Get({{"Authorization", "Bearer " + key}}), "deleted key");
  EXPECT_EQ(UpstreamHits(), 1);
}

TEST_F(NginxTest, ClientsCannotForgeTheIdentityHeaders) {
  const Headers forged = {{"X-Keyward-User", "admin"},
                          {"X-Keyward-Tags", "roles:id:operator"},
                          {"X-Keyward-Key-Name", "forged"}};
  // Forged headers and no key: refused.
  ExpectRefused(Get(forged), "forged headers, no key");
  EXPECT_EQ(UpstreamHits(), 0);

  // Forged headers with a valid key of another user: the service sees the key's owner.
  MakeTaggedUser("lakesearchapi");
  std::string app_key = CreateKey("lakesearchapi", "lakesearch_app_api");
  Headers with_key = forged;
  with_key.emplace_back("Authorization", "Bearer " + app_key);
  HttpResult r = Get(with_key);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Echo("lakesearchapi", TagsOf("lakesearchapi"), "lakesearch_app_api"));

  // A session token has no key name: the forged one must not get through either.
  Headers with_session = forged;
  with_session.emplace_back("Authorization", "Bearer " + admin_);
  r = Get(with_session);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Echo("admin", "roles:id:operator", ""));
  EXPECT_EQ(UpstreamHits(), 2);
}

TEST_F(NginxTest, KeywardDownMeansDenied) {
  std::string key = CreateKey("me", "gw-admin");
  ASSERT_FALSE(key.empty());
  ASSERT_EQ(Get({{"Authorization", "Bearer " + key}}).status, 200);
  keyward_->Stop();
  for (const Headers& headers : {Headers{{"Authorization", "Bearer " + key}}, Headers{}}) {
    HttpResult r = Get(headers);
    EXPECT_TRUE(r.status < 200 || r.status >= 300) << r.status << " with Keyward stopped";
    EXPECT_EQ(r.body.find("upstream saw"), std::string::npos) << r.body;
  }
  EXPECT_EQ(UpstreamHits(), 1);
}

}  // namespace
}  // namespace keyward::testing
