#include "nginx_gateway.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace keyward::testing {

namespace json = boost::json;

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
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

namespace {

// Debian installs nginx in /usr/sbin, which is not on every PATH.
std::string NginxBinary() {
  for (const char* path : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

}  // namespace

int ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  int count = 0;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
    ++count;
  }
  return count;
}

std::string GatewaysPage() {
  return ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/gateways.md");
}

std::vector<std::string> DocumentedBlocks(const std::string& language) {
  const std::string page = GatewaysPage();
  std::vector<std::string> blocks;
  std::regex block("```" + language + "\n([\\s\\S]*?)```");
  for (std::sregex_iterator it(page.begin(), page.end(), block), end; it != end; ++it) {
    blocks.push_back((*it)[1]);
  }
  return blocks;
}

std::unique_ptr<Nginx> Nginx::Start(const std::string& http_config,
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
  pid_t pid = Spawn(args, d + "/stderr.log");
  n->pid_ = pid;
  if (pid < 0) return n;  // Spawn said why
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

Nginx::~Nginx() {
  Stop();
  RemoveTree(dir_);
}

std::string Nginx::Logs() const {
  return ReadFile(dir_ + "/stderr.log") + ReadFile(dir_ + "/error.log");
}

std::vector<std::string> Nginx::LogFiles() const {
  return {dir_ + "/stderr.log", dir_ + "/error.log", dir_ + "/hits.log"};
}

int Nginx::Hits(std::uint16_t port) const {
  std::istringstream in(ReadFile(dir_ + "/hits.log"));
  std::string line;
  int hits = 0;
  while (std::getline(in, line)) hits += line.starts_with(std::to_string(port) + " ");
  return hits;
}

void StopGently(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 250; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  pid = -1;
}

void Nginx::Stop() { StopGently(pid_); }

void NginxGateway::StartGateway(const std::vector<std::string>& keyward_args, bool ipv6) {
  keyward_ = ServerProcess::Start(keyward_args);
  ASSERT_GT(keyward_->port(), 0);
  admin_ = keyward_->Login("admin", kAdminPassword);
  ASSERT_FALSE(admin_.empty());

  listen_port_ = FreePort();
  scoped_port_ = FreePort();
  limited_port_ = FreePort();
  upstream_port_ = FreePort();
  const std::set<std::uint16_t> ports = {listen_port_, scoped_port_, limited_port_, upstream_port_};
  ASSERT_EQ(ports.size(), 4u);
  ASSERT_EQ(ports.count(0), 0u);
  // The documented blocks, pointed at this test's ports, on loopback only.
  std::vector<std::string> blocks = DocumentedBlocks("nginx");
  ASSERT_EQ(blocks.size(), 3u)
      << "docs/gateways.md: the plain, the scoped and the rate-limit gateway";
  std::string config = blocks[0] + "\n" + blocks[1] + "\n" + blocks[2];
  auto listen = [ipv6](std::uint16_t port) {
    const std::string p = std::to_string(port);
    return "listen 127.0.0.1:" + p + ";" + (ipv6 ? " listen [::1]:" + p + ";" : "");
  };
  const std::string upstream = "127.0.0.1:" + std::to_string(upstream_port_);
  const std::string keyward = "127.0.0.1:" + std::to_string(keyward_->port());
  ASSERT_EQ(ReplaceAll(config, "listen 80;", listen(listen_port_)), 1) << config;
  ASSERT_EQ(ReplaceAll(config, "listen 81;", listen(scoped_port_)), 1) << config;
  ASSERT_EQ(ReplaceAll(config, "listen 82;", listen(limited_port_)), 1) << config;
  ASSERT_EQ(ReplaceAll(config, "127.0.0.1:9000", upstream), 4) << config;
  ASSERT_EQ(ReplaceAll(config, "127.0.0.1:8080", keyward), 3) << config;
  std::regex listen_directive("listen\\s+([^;]*);");
  for (std::sregex_iterator it(config.begin(), config.end(), listen_directive), end; it != end;
       ++it) {
    const std::string where = (*it)[1].str();
    ASSERT_TRUE(where.starts_with("127.0.0.1:") || where.starts_with("[::1]:"))
        << "not on loopback: " << (*it)[0];
  }
  nginx_ = Nginx::Start(config, {listen_port_, scoped_port_, limited_port_, upstream_port_});
  ASSERT_TRUE(nginx_->running());
}

void NginxGateway::TearDown() {
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

HttpResult NginxGateway::Get(const Headers& headers, std::uint16_t port,
                             const std::string& source) {
  return CallFrom(source, port == 0 ? listen_port_ : port, "GET", "/things/42?x=1", "", headers);
}

std::string NginxGateway::CreateKey(const std::string& user, const std::string& name,
                                    const std::string& duration) {
  return keyward_->NewKey(admin_, user, name, duration, &last_expiration_);
}

std::string NginxGateway::CreateGrantedKey(const std::string& name,
                                           const std::vector<std::string>& scopes,
                                           const std::vector<std::string>& allowed_addresses) {
  json::array scope_list(scopes.begin(), scopes.end());
  json::array address_list(allowed_addresses.begin(), allowed_addresses.end());
  HttpResult r = keyward_->As(admin_, "POST", "/api/v1/users/me/apikeys",
                              {{"name", name},
                               {"duration", "1h"},
                               {"scopes", scope_list},
                               {"allowed_addresses", address_list}});
  EXPECT_EQ(r.status, 201) << name << ": " << r.body;
  if (r.status != 201) return "";
  json::value key = r.Json();
  std::string token(key.at("token").as_string());
  RememberSecret(token);
  EXPECT_EQ(key.at("scopes"), scope_list) << name;
  EXPECT_EQ(key.at("allowed_addresses"), address_list) << name;
  return token;
}

std::string NginxGateway::Echo(const std::string& user, const std::string& tags,
                               const std::string& key_name, const std::string& scopes) {
  return "upstream saw user=" + user + " tags=" + tags + " key=" + key_name + " scopes=" + scopes +
         "\n";
}

void NginxGateway::ExpectRefused(const HttpResult& r, const std::string& what) {
  EXPECT_EQ(r.status, 401) << what;
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer") << what;
  EXPECT_EQ(r.body.find("upstream saw"), std::string::npos) << what;
}

void NginxGateway::ExpectForbidden(const HttpResult& r, const std::string& reason,
                                   const std::string& what) {
  EXPECT_EQ(r.status, 403) << what << "\n" << r.body;
  EXPECT_EQ(r.Header("x-keyward-reason"), reason) << what;
  EXPECT_EQ(r.body.find("upstream saw"), std::string::npos) << what;
}

}  // namespace keyward::testing
