#include "harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

namespace keyward::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

boost::json::value HttpResult::Json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) ADD_FAILURE() << "response is not JSON: " << body;
  return v;
}

std::string HttpResult::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

HttpResult Call(std::uint16_t port, const std::string& method, const std::string& target,
                const std::string& body,
                const std::vector<std::pair<std::string, std::string>>& headers) {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.insert(name, value);
  if (!body.empty()) {
    if (req.find(bhttp::field::content_type) == req.end()) {
      req.set(bhttp::field::content_type, "application/json");
    }
    req.body() = body;
  }
  req.prepare_payload();
  bhttp::write(socket, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  // A response to HEAD has no body, whatever its Content-Length says.
  if (req.method() == bhttp::verb::head) parser.skip(true);
  bhttp::read(socket, buffer, parser);
  auto& res = parser.get();
  HttpResult out;
  out.status = res.result_int();
  out.body = res.body();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  boost::system::error_code ec;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  return out;
}

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env, const std::string& input) {
  ProcessResult result;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) return result;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_pipe[0], STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      ::close(fd);
    }
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  // Inputs are small: write all, then read both outputs to the end on two threads.
  if (!input.empty()) {
    [[maybe_unused]] auto n = ::write(in_pipe[1], input.data(), input.size());
  }
  ::close(in_pipe[1]);
  auto drain = [](int fd, std::string* out) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out->append(buf, static_cast<std::size_t>(n));
    ::close(fd);
  };
  std::thread err_reader(drain, err_pipe[0], &result.err);
  std::thread killer([pid] {
    for (int i = 0; i < 600; ++i) {
      if (::kill(pid, 0) != 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid, SIGKILL);
  });
  drain(out_pipe[0], &result.out);
  err_reader.join();
  int status = 0;
  ::waitpid(pid, &status, 0);
  killer.join();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

pid_t Spawn(std::vector<std::string> args, const std::string& log_path,
            const std::map<std::string, std::string>& env) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

ProcessResult RunKeyward(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env, const std::string& input) {
  std::vector<std::string> argv = {KEYWARD_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, env, input);
}

std::string WithTypo(std::string key) {
  char& c = key[std::string("kw_").size() + 10];
  c = c == 'A' ? 'B' : 'A';
  return key;
}

std::string MakeTempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "keyward-it-XXXXXX").string();
  char* made = ::mkdtemp(templ.data());
  if (made == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<ServerProcess> ServerProcess::Start(std::vector<std::string> extra_args,
                                                    std::string data_dir,
                                                    std::map<std::string, std::string> env) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  // The log lives in a folder of its own, so restarts on one data dir keep separate logs.
  p->root_ = MakeTempDir();
  p->data_dir_ = data_dir.empty() ? p->root_ + "/data" : data_dir;
  p->log_path_ = p->root_ + "/server.log";
  env.try_emplace("KEYWARD_ADMIN_PASSWORD", kAdminPassword);

  std::vector<std::string> args = {KEYWARD_BINARY, "serve",      "--listen",  "127.0.0.1:0",
                                   "--data-dir",   p->data_dir_, "--threads", "2"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_t pid = Spawn(args, p->log_path_, env);
  p->pid_ = pid;
  const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string log = p->Log();
    if (std::regex_search(log, m, listening)) {
      p->port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      return p;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      p->pid_ = -1;
      ADD_FAILURE() << "keyward exited at start:\n" << log;
      return p;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "keyward did not start listening:\n" << p->Log();
  return p;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill();
  RemoveTree(root_);
}

std::string ServerProcess::Log() const { return ReadFile(log_path_); }

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ServerProcess::Login(const std::string& user, const std::string& password) const {
  boost::json::value body = {{"username", user}, {"password", password}};
  HttpResult r = Call(port_, "POST", "/api/v1/login", boost::json::serialize(body));
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200) return "";
  std::string token(r.Json().at("token").as_string());
  RememberSecret(token);
  RememberSecret(password);
  return token;
}

std::string ServerProcess::NewKey(const std::string& token, const std::string& user,
                                  const std::string& name, const std::string& duration,
                                  std::string* expiration) const {
  HttpResult r = As(token, "POST", "/api/v1/users/" + user + "/apikeys",
                    {{"name", name}, {"duration", duration}});
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return "";
  boost::json::value key = r.Json();
  std::string created(key.at("token").as_string());
  RememberSecret(created);
  if (expiration != nullptr) *expiration = std::string(key.at("expiration").as_string());
  return created;
}

HttpResult ServerProcess::As(const std::string& token, const std::string& method,
                             const std::string& target, const boost::json::value& json) const {
  std::string body = json.is_null() ? "" : boost::json::serialize(json);
  return Call(port_, method, target, body, {{"Authorization", "Bearer " + token}});
}

namespace {
std::mutex g_secrets_mu;
std::vector<std::string> g_secrets;
}  // namespace

void RememberSecret(const std::string& secret) {
  std::lock_guard lock(g_secrets_mu);
  if (!secret.empty()) g_secrets.push_back(secret);
}

const std::vector<std::string>& RememberedSecrets() { return g_secrets; }

void ExpectNoSecretsIn(const std::vector<std::string>& files) {
  std::lock_guard lock(g_secrets_mu);
  for (const auto& file : files) {
    if (!std::filesystem::exists(file)) continue;
    std::string content = ReadFile(file);
    for (const auto& secret : g_secrets) {
      EXPECT_EQ(content.find(secret), std::string::npos)
          << "a secret (" << secret.substr(0, 6) << "…) was found in " << file;
    }
  }
}

}  // namespace keyward::testing
