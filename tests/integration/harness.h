// Test harness: runs the real `keyward` binary and talks HTTP to it.
//
// A ServerProcess starts `keyward serve` on 127.0.0.1 port 0 with a fresh temporary data dir,
// its stdout and stderr in a log file there, and waits for the "listening on" line. Every
// secret a test creates can be recorded with RememberSecret(); ExpectNoSecretsIn() then proves
// that none of them reached a file (the log, the database, its WAL).
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace keyward::testing {

inline constexpr const char* kAdminPassword = "admin-password-for-tests";

// The `keyward` binary under test: $KEYWARD_BINARY when set, else the one built beside the tests
// (KEYWARD_BUILT_BINARY). `make test` builds the integration tests once, with the ci preset, and
// runs them against the binaries of the asan and tsan builds through the variable
// (scripts/test-all).
const std::string& KeywardBinary();

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  boost::json::value Json() const;
  std::string Header(const std::string& lower_name) const;
};

// One request on a fresh connection. `headers` are sent as given. A response to HEAD is read
// without a body.
HttpResult Call(std::uint16_t port, const std::string& method, const std::string& target,
                const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {});

// The same, on a connection from `source_address` (any of 127.0.0.0/8 reaches the server), so
// that a test can play clients at different addresses. An IPv6 source (`::1`) connects to
// [::1]:`port` instead of 127.0.0.1.
HttpResult CallFrom(const std::string& source_address, std::uint16_t port,
                    const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {});

class ServerProcess {
 public:
  // Starts a server with a new data dir (or `data_dir`, which the caller owns, when not empty)
  // and `extra_args`.
  // The admin password is kAdminPassword unless `env` sets KEYWARD_ADMIN_PASSWORD.
  static std::unique_ptr<ServerProcess> Start(std::vector<std::string> extra_args = {},
                                              std::string data_dir = "",
                                              std::map<std::string, std::string> env = {});
  ~ServerProcess();

  std::uint16_t port() const { return port_; }
  // The server's process id while it runs (for /proc: its memory, its descriptors).
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

  // SIGTERM and wait; returns the exit status. The destructor does this when still running.
  int Stop();
  // SIGKILL and wait.
  void Kill();
  // Fails the test when the log holds a report of AddressSanitizer, LeakSanitizer,
  // UndefinedBehaviorSanitizer or ThreadSanitizer (the asan and tsan builds of `make test`).
  // Stop() and Kill() check this.
  void ExpectNoSanitizerReports() const;

  // Signs in and returns the session token.
  std::string Login(const std::string& user, const std::string& password) const;
  // A new API key of `user`, made with the rights of `token`, remembered as a secret; fails
  // the test (and returns "") unless the server answers 201. `expiration`, when given,
  // receives the key's RFC 3339 expiration.
  std::string NewKey(const std::string& token, const std::string& user, const std::string& name,
                     const std::string& duration = "24h", std::string* expiration = nullptr) const;
  // The same with `scopes` (a key has only the scopes it is given).
  std::string NewScopedKey(const std::string& token, const std::string& user,
                           const std::string& name, const std::vector<std::string>& scopes) const;
  // Request with `Authorization: Bearer <token>`; JSON body when `json` is not null.
  HttpResult As(const std::string& token, const std::string& method, const std::string& target,
                const boost::json::value& json = nullptr) const;

 private:
  ServerProcess() = default;
  std::string CreateKey(const std::string& token, const std::string& user,
                        const boost::json::object& body, std::string* expiration) const;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string data_dir_;
  std::string log_path_;
  std::string root_;  // holds the log, and the data dir unless one was given
};

// The status of GET /auth with `key` as the bearer credential (a key or a token).
int AuthStatus(const ServerProcess& server, const std::string& key);

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // standard output
  std::string err;     // standard error
};

// Runs `argv` with `env` added to this process's environment and `input` on standard input,
// and waits for it (at most 60 s, then SIGKILL).
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         const std::string& input = "");

// Starts `args` in the background with standard output and error appended to `log_path` and
// `env` added to the environment; returns its pid.
pid_t Spawn(std::vector<std::string> args, const std::string& log_path,
            const std::map<std::string, std::string>& env = {});

// Runs the keyward binary with `args`.
ProcessResult RunKeyward(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {},
                         const std::string& input = "");

// Standard base64 with padding (HTTP Basic credentials).
std::string Base64(std::string_view in);

// The string member `key` of a JSON object, or "" when `v` is not an object or has no such
// string member (a test comparing it then fails on the value, with the value in its message).
std::string Str(const boost::json::value& v, const char* key);

// `key` with one character of its secret changed, so that its checksum no longer matches.
std::string WithTypo(std::string key);

// $KEYWARD_TEST_ARTIFACTS (ctest sets it for the integration suite), or "" when unset. When
// set, MakeTempDir creates folders under <it>/files and RemoveTree leaves them there, and
// RememberSecret writes every secret to <it>/secrets/, for the secrets scan that runs after
// the whole suite (secrets_scan_test).
std::string ArtifactsDir();

// A new empty private folder under /tmp (or the artifacts folder); removed by the caller.
std::string MakeTempDir();
void RemoveTree(const std::string& path);

std::string ReadFile(const std::string& path);
// Writes `text` to `path` (created or replaced), as bytes.
void WriteFile(const std::string& path, const std::string& text);
// Runs `sql` on a running server's SQLite file (`path`) through a second connection, failing the
// test if it does not succeed.
void SqliteExec(const std::string& path, const std::string& sql);
// The rows of `PRAGMA integrity_check` on the SQLite file `path` ("ok" when sound), read with a
// read-only connection; SQLite's error when it cannot run.
std::string IntegrityCheck(const std::string& path);

// Secrets recorded here are looked for by ExpectNoSecretsIn.
void RememberSecret(const std::string& secret);
const std::vector<std::string>& RememberedSecrets();
// Fails the current test for every remembered secret found in any of `files`.
void ExpectNoSecretsIn(const std::vector<std::string>& files);

// Polls `done` every 20 ms until it holds or `timeout` has passed; returns whether it held.
// For waiting on a state (a key expired, a write landed) instead of sleeping a fixed time.
inline bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace keyward::testing
