// The composition root of the server: from one Config, the store, the master key, the service
// graph (app/service_graph.h) and the HTTP transport. `keyward serve` (app/serve_command.h)
// is flags, signals and messages around it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/config.h"
#include "app/service_graph.h"
#include "common/clock.h"
#include "common/status.h"
#include "http/server.h"

namespace keyward {

// Creates `dir` (mode 0700) if missing and makes it private. InvalidArgument when it is not a
// directory, Internal when it cannot be created or its mode changed.
Status PrepareDataDir(const std::string& dir);

class ServerApp {
 public:
  // Validates `config` (Validate), raises the open-file limit for Config::limits'
  // max_connections, prepares the data dir (SQLite, or the default master key file), loads or
  // creates the master key when keys can be revealed, opens the store, builds the service
  // graph and the server, loads the TLS certificate and binds the listen address — all before
  // any user exists, so that a generated password is shown only once the server can start.
  // The first error, as the step gave it (InvalidArgument for bad settings, Unavailable for a
  // port that cannot be bound, the store's errors). `clock` must outlive the ServerApp.
  static Result<std::unique_ptr<ServerApp>> Create(const Config& config,
                                                   const Clock& clock = Clock::System());
  ~ServerApp();
  ServerApp(const ServerApp&) = delete;
  ServerApp& operator=(const ServerApp&) = delete;

  // On an empty store, creates the operator "admin" with `admin_password`, or with a generated
  // password (to be shown once by the caller); then deletes expired sessions. Returns what
  // UserService::Bootstrap does: the generated password, "" when `admin_password` was used,
  // nullopt when the store had users. Blocking.
  Result<std::optional<std::string>> Bootstrap(std::optional<std::string> admin_password);

  // "http://host:port" or "https://host:port", with the bound port.
  std::string url() const;
  // The thread counts the server runs with, and why.
  const ThreadCounts& threads() const { return threads_; }
  const Config& config() const { return config_; }

  // Serves until Stop(), then lets the blocking work finish and writes the last last-used
  // times. Call at most once.
  void Run();
  // Thread safe, not async-signal-safe; see http::Server::Stop().
  void Stop();

 private:
  struct Key {};  // only Create() constructs a ServerApp

 public:
  ServerApp(Key, const Config& config, const Clock& clock, const ThreadCounts& threads);

 private:
  const Config config_;
  const Clock& clock_;
  const ThreadCounts threads_;
  std::unique_ptr<ServiceGraph> graph_;
  std::unique_ptr<http::Server> server_;  // last: gone before the graph it calls into
};

}  // namespace keyward
