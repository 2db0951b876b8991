#include "harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <system_error>
#include <thread>
#include <utility>

#include "common/thread_annotations.h"

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

namespace {

// `value` with every string member named "token" (a key or a session token) replaced, so that
// no secret reaches the recorded responses.
void RedactTokens(boost::json::value& value) {
  if (value.is_array()) {
    for (auto& item : value.as_array()) RedactTokens(item);
  } else if (value.is_object()) {
    for (auto& [key, member] : value.as_object()) {
      if (key == "token" && member.is_string()) {
        member = "(redacted)";
      } else {
        RedactTokens(member);
      }
    }
  }
}

// `target` with the value of an apikey= query parameter replaced.
std::string RedactQueryKey(std::string target) {
  for (std::size_t at = target.find("apikey="); at != std::string::npos;
       at = target.find("apikey=", at + 1)) {
    if (at == 0 || (target[at - 1] != '?' && target[at - 1] != '&')) continue;
    const std::size_t start = at + 7;
    const std::size_t end = std::min(target.find('&', start), target.size());
    target.replace(start, end - start, "(redacted)");
  }
  return target;
}

// For openapi_conformance_test, which runs after the whole suite: one JSON line per response
// in <artifacts>/responses/<pid>.jsonl, {method, target, status, content_type, body_bytes,
// server (the header, when there is one)} and the body itself when it is JSON of at most 256 KiB
// (tokens redacted, and a key in the target's query), or body_not_json when it claims to be
// JSON and is not.
void RecordResponse(const std::string& method, const std::string& target, const HttpResult& r) {
  const std::string artifacts = ArtifactsDir();
  if (artifacts.empty()) return;
  boost::json::object line{{"method", method},
                           {"target", RedactQueryKey(target)},
                           {"status", r.status},
                           {"content_type", r.Header("content-type")},
                           {"body_bytes", r.body.size()}};
  // Keyward sends no Server header; another server a test talks to (nginx) does.
  if (const std::string server = r.Header("server"); !server.empty()) line["server"] = server;
  const std::string type = r.Header("content-type");
  if (type.rfind("application/json", 0) == 0 && !r.body.empty() && r.body.size() <= 256 * 1024) {
    boost::system::error_code ec;
    boost::json::value body = boost::json::parse(r.body, ec);
    if (ec) {
      line["body_not_json"] = true;
    } else {
      RedactTokens(body);
      line["body"] = std::move(body);
    }
  }
  static std::mutex mu;
  std::lock_guard lock(mu);
  static std::ofstream out = [&] {
    std::filesystem::create_directories(artifacts + "/responses");
    return std::ofstream(artifacts + "/responses/" + std::to_string(::getpid()) + ".jsonl",
                         std::ios::app);
  }();
  out << boost::json::serialize(line) << '\n';
  out.flush();
}

}  // namespace

HttpResult Call(std::uint16_t port, const std::string& method, const std::string& target,
                const std::string& body,
                const std::vector<std::pair<std::string, std::string>>& headers) {
  return CallFrom("", port, method, target, body, headers);
}

HttpResult CallFrom(const std::string& source_address, std::uint16_t port,
                    const std::string& method, const std::string& target, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& headers) {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  // An IPv6 source (::1) connects to ::1; anything else to 127.0.0.1.
  const bool v6 = !source_address.empty() && asio::ip::make_address(source_address).is_v6();
  if (!source_address.empty()) {
    socket.open(v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4());
    socket.bind({asio::ip::make_address(source_address), 0});
  }
  socket.connect({asio::ip::make_address(v6 ? "::1" : "127.0.0.1"), port});
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
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  boost::system::error_code ec;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  RecordResponse(method, target, out);
  return out;
}

namespace {

// What a child runs, made before fork(): between fork() and exec the child may only make
// async-signal-safe calls. Another thread of the test (a webhook receiver, a load client, a
// reader) may hold the allocator's lock at the fork; a setenv() or a vector's allocation in
// the child would then wait for it forever (seen: a server that never started, under ASan).
class ChildCommand {
 public:
  ChildCommand(std::vector<std::string> argv, const std::map<std::string, std::string>& env)
      : argv_(std::move(argv)) {
    // The test's environment, with `env` set over it.
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view entry(*e);
      const std::string name(entry.substr(0, entry.find('=')));
      if (!env.contains(name)) env_.emplace_back(entry);
    }
    for (const auto& [name, value] : env)
      env_.push_back(std::string(name).append("=").append(value));
    for (auto& a : argv_) argv_pointers_.push_back(a.data());
    argv_pointers_.push_back(nullptr);
    for (auto& e : env_) env_pointers_.push_back(e.data());
    env_pointers_.push_back(nullptr);
  }
  // The pointers point into the strings: not copied, not moved.
  ChildCommand(const ChildCommand&) = delete;
  ChildCommand& operator=(const ChildCommand&) = delete;

  // In the child: runs the command; never returns. A command that names no folder is looked
  // up in the test's own PATH (execvpe's rule), not in a PATH of `env`.
  [[noreturn]] void Exec() const {
    ::execvpe(argv_pointers_[0], argv_pointers_.data(), env_pointers_.data());
    ::_exit(127);
  }

 private:
  std::vector<std::string> argv_, env_;
  std::vector<char*> argv_pointers_, env_pointers_;
};

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env, const std::string& input) {
  ProcessResult result;
  const ChildCommand command(argv, env);
  // Close-on-exec, so that a child another thread starts meanwhile does not hold them open.
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  const auto close_all = [&] {
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
  };
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::generic_category().message(errno);
    close_all();
    return result;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::generic_category().message(errno);
    close_all();
    return result;
  }
  if (pid == 0) {
    // dup2 clears close-on-exec on the copies; the originals close at exec.
    ::dup2(in_pipe[0], STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    command.Exec();
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
  const ChildCommand command(std::move(args), env);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) {
    ADD_FAILURE() << log_path << ": " << std::generic_category().message(errno);
    return -1;
  }
  pid_t pid = ::fork();
  if (pid < 0) ADD_FAILURE() << "fork: " << std::generic_category().message(errno);
  if (pid == 0) {
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    command.Exec();
  }
  ::close(log);
  return pid;
}

const std::string& KeywardBinary() {
  static const std::string binary = [] {
    const char* set = std::getenv("KEYWARD_BINARY");
    return std::string(set != nullptr && *set != '\0' ? set : KEYWARD_BUILT_BINARY);
  }();
  return binary;
}

ProcessResult RunKeyward(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env, const std::string& input) {
  std::vector<std::string> argv = {KeywardBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, env, input);
}

int AuthStatus(const ServerProcess& server, const std::string& key) {
  return Call(server.port(), "GET", "/auth", "", {{"Authorization", "Bearer " + key}}).status;
}

std::string Str(const boost::json::value& v, const char* key) {
  const boost::json::value* member = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return member != nullptr && member->is_string() ? std::string(member->as_string()) : "";
}

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string WithTypo(std::string key) {
  char& c = key[std::string("kw_").size() + 10];
  c = c == 'A' ? 'B' : 'A';
  return key;
}

std::string ArtifactsDir() {
  const char* dir = std::getenv("KEYWARD_TEST_ARTIFACTS");
  return dir == nullptr ? "" : dir;
}

namespace {

// Where MakeTempDir creates folders: under the artifacts folder when there is one, so that
// the secrets scan at the end of the suite reads every log and database the tests made.
std::filesystem::path TempBase() {
  const std::string artifacts = ArtifactsDir();
  if (artifacts.empty()) return std::filesystem::temp_directory_path();
  std::filesystem::path base = std::filesystem::path(artifacts) / "files";
  std::filesystem::create_directories(base);
  return base;
}

bool IsUnder(const std::filesystem::path& path, const std::filesystem::path& base) {
  auto p = path.lexically_normal().string();
  auto b = base.lexically_normal().string();
  return p.size() > b.size() && p.compare(0, b.size(), b) == 0 && p[b.size()] == '/';
}

}  // namespace

std::string MakeTempDir() {
  std::string templ = (TempBase() / "keyward-it-XXXXXX").string();
  char* made = ::mkdtemp(templ.data());
  if (made == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

void RemoveTree(const std::string& path) {
  // Kept for the secrets scan; the artifacts folder is emptied when the next run starts.
  if (const std::string artifacts = ArtifactsDir();
      !artifacts.empty() && IsUnder(std::filesystem::absolute(path), artifacts + "/files")) {
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

void SqliteExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << sql << ": " << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close_v2(db);
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    out = std::string("cannot open: ") + sqlite3_errmsg(db);
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (!out.empty()) out += "\n";
      out += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
  }
  if (rc != SQLITE_DONE) out += std::string("\nerror: ") + sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

// The port of the server's "listening on http(s)://127.0.0.1:PORT" line, 0 when not there yet.
// (Not std::regex: constructing one on several threads at once races inside libstdc++'s
// locale, which ThreadSanitizer rightly reports when tests start servers in parallel.)
std::uint16_t ListeningPort(const std::string& log) {
  for (const char* prefix : {"listening on http://127.0.0.1:", "listening on https://127.0.0.1:"}) {
    const auto at = log.find(prefix);
    if (at == std::string::npos) continue;
    const auto digits = at + std::string_view(prefix).size();
    const auto end = log.find_first_not_of("0123456789", digits);
    if (end == std::string::npos || end == digits) return 0;  // the line is still being written
    return static_cast<std::uint16_t>(std::stoi(log.substr(digits, end - digits)));
  }
  return 0;
}

}  // namespace

std::unique_ptr<ServerProcess> ServerProcess::Start(std::vector<std::string> extra_args,
                                                    std::string data_dir,
                                                    std::map<std::string, std::string> env) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  // The log lives in a folder of its own, so restarts on one data dir keep separate logs.
  p->root_ = MakeTempDir();
  p->data_dir_ = data_dir.empty() ? p->root_ + "/data" : std::move(data_dir);
  p->log_path_ = p->root_ + "/server.log";
  env.try_emplace("KEYWARD_ADMIN_PASSWORD", kAdminPassword);

  std::vector<std::string> args = {KeywardBinary(), "serve",      "--listen",  "127.0.0.1:0",
                                   "--data-dir",    p->data_dir_, "--threads", "2"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_t pid = Spawn(args, p->log_path_, env);
  p->pid_ = pid;
  if (pid < 0) return p;  // Spawn said why
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string log = p->Log();
    if (std::uint16_t port = ListeningPort(log); port != 0) {
      p->port_ = port;
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
  // A graceful stop, so that a sanitizer build runs its exit checks (leaks) too.
  if (pid_ > 0) Stop();
  RemoveTree(root_);
}

void ServerProcess::ExpectNoSanitizerReports() const {
  const std::string log = Log();
  for (const char* marker : {"AddressSanitizer", "LeakSanitizer", "ThreadSanitizer",
                             "UndefinedBehaviorSanitizer", "runtime error:"}) {
    const auto at = log.find(marker);
    EXPECT_EQ(at, std::string::npos)
        << "the server reported a sanitizer error:\n"
        << log.substr(at == std::string::npos ? 0 : (at > 200 ? at - 200 : 0), 4000);
  }
}

std::string ServerProcess::Log() const { return ReadFile(log_path_); }

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  // Shutdown takes at most the grace period (5 s) plus a sanitizer's exit checks.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "keyward did not stop within 60 s of SIGTERM";
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  ExpectNoSanitizerReports();
  return status;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  ExpectNoSanitizerReports();
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
  return CreateKey(token, user, {{"name", name}, {"duration", duration}}, expiration);
}

std::string ServerProcess::NewScopedKey(const std::string& token, const std::string& user,
                                        const std::string& name,
                                        const std::vector<std::string>& scopes) const {
  boost::json::array list;
  for (const auto& scope : scopes) list.emplace_back(scope);
  return CreateKey(token, user, {{"name", name}, {"scopes", std::move(list)}}, nullptr);
}

std::string ServerProcess::CreateKey(const std::string& token, const std::string& user,
                                     const boost::json::object& body,
                                     std::string* expiration) const {
  HttpResult r = As(token, "POST", "/api/v1/users/" + user + "/apikeys", body);
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
Mutex g_secrets_mu;
std::vector<std::string> g_secrets GUARDED_BY(g_secrets_mu);
}  // namespace

void RememberSecret(const std::string& secret) {
  if (secret.empty()) return;
  MutexLock lock(g_secrets_mu);
  g_secrets.push_back(secret);
  // For the scan after the whole suite: hex, one per line, a file per test process.
  if (const std::string artifacts = ArtifactsDir(); !artifacts.empty()) {
    static const std::string path = [&] {
      std::filesystem::create_directories(artifacts + "/secrets");
      return artifacts + "/secrets/" + std::to_string(::getpid()) + ".hex";
    }();
    std::ofstream out(path, std::ios::app);
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char c : secret) out << kHex[c >> 4] << kHex[c & 15];
    out << '\n';
  }
}

const std::vector<std::string>& RememberedSecrets() { return g_secrets; }

void ExpectNoSecretsIn(const std::vector<std::string>& files) {
  MutexLock lock(g_secrets_mu);
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
