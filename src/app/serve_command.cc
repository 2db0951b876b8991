#include "app/serve_command.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include "app/serve_flags.h"
#include "app/server_app.h"
#include "common/libcurl_loader.h"
#include "common/log.h"
#include "common/random.h"
#include "common/sd_notify.h"
#include "store/sqlite/backup.h"

namespace keyward {
namespace {

// Blocks SIGINT and SIGTERM, and SIGUSR2 (used to wake the waiter when the server stops on its
// own). Call before any thread starts, so that every thread inherits the mask and only the
// waiter thread receives these signals.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Returns a thread that waits for a signal of `set` and calls `on_signal`.
std::thread SignalWaiter(sigset_t set, std::function<void()> on_signal) {
  return std::thread([set, on_signal = std::move(on_signal)] {
    int sig = 0;
    if (sigwait(&set, &sig) == 0 && sig != SIGUSR2) {
      log::Info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    on_signal();
  });
}

// Writes the generated password to <data dir>/initial-admin-password, readable by the
// server's user only, and returns that path.
Result<std::string> WritePasswordFile(const std::string& password, const std::string& data_dir) {
  KW_RETURN_IF_ERROR(PrepareDataDir(data_dir));
  const std::string path = (std::filesystem::path(data_dir) / "initial-admin-password").string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::Internal("cannot write " + path + ": " + std::generic_category().message(errno));
  const std::string line = password + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!written) return Status::Internal("cannot write " + path);
  return path;
}

// Shows the generated password of the first user. On a terminal it is printed once. Anywhere
// else (a service manager's journal, a log file) printing it would put a secret in a log, so
// it goes to <data dir>/initial-admin-password instead.
Status ShowAdminPassword(const std::string& password, const std::string& url,
                         const std::string& data_dir) {
  const std::string sign_in = "curl -s -X POST " + url +
                              "/api/v1/login -H 'Content-Type: application/json' \\\n"
                              "    -d '{\"username\":\"admin\",\"password\":\"";
  if (::isatty(STDOUT_FILENO) == 1) {
    std::cout << "\nKeyward created the first user, an operator:\n"
              << "  user:     admin\n"
              << "  password: " << password << "   (shown once: store it now)\n\n"
              << "Sign in at " << url << "/ in a browser, or with curl:\n"
              << "  " << sign_in << password << "\"}'\n"
              << std::endl;
    return Status::Ok();
  }
  KW_ASSIGN_OR_RETURN(const std::string path, WritePasswordFile(password, data_dir));
  std::cout << "\nKeyward created the first user, an operator: admin. Its password is in\n"
            << "  " << path << "   (this user only; delete it once stored)\n\n"
            << "Sign in at " << url << "/ in a browser, or with curl:\n"
            << "  " << sign_in << "'\"$(cat " << path << ")\"'\"}'\n"
            << std::endl;
  return Status::Ok();
}

// The first user, on an empty store: KEYWARD_ADMIN_PASSWORD, or a generated password shown
// once.
Status BootstrapAdmin(ServerApp& app) {
  std::optional<std::string> admin_password;
  if (const char* env = std::getenv("KEYWARD_ADMIN_PASSWORD"); env && *env) admin_password = env;
  KW_ASSIGN_OR_RETURN(const std::optional<std::string> generated,
                      app.Bootstrap(std::move(admin_password)));
  if (!generated.has_value() || generated->empty()) return Status::Ok();
  return ShowAdminPassword(*generated, app.url(), app.config().data_dir);
}

// Tells systemd ($NOTIFY_SOCKET) the state of the service; a failure is logged, not fatal.
void Notify(std::string_view state) {
  if (Status s = NotifyServiceManager(state); !s.ok()) log::Warn("{}", s.message());
}

void LogStart(const ServerApp& app) {
  const Config& config = app.config();
  const ThreadCounts& threads = app.threads();
  log::Info("keyward {} listening on {} (store: {}, {} network thread{} ({}), {} blocking threads)",
            KEYWARD_VERSION, app.url(),
            config.db.empty() ? "sqlite in " + config.data_dir : "postgresql", threads.network,
            threads.network == 1 ? "" : "s",
            threads.network_reason.empty() ? "--network-threads" : threads.network_reason,
            threads.blocking);
}

int Serve(const Config& config) {
  const sigset_t signals = BlockShutdownSignals();
  if (config.log_level == "debug") log::SetLevel(log::Level::kDebug);
  if (config.log_level == "warn") log::SetLevel(log::Level::kWarn);
  if (config.log_format == "json") log::SetFormat(log::Format::kJson);
  log::SetAccessLog(config.access_log);
  if (!InitCrypto()) {
    log::Error("libsodium failed to initialise");
    return 1;
  }
  auto fail = [](const Status& s) {
    log::Error("{}", s.ToString());
    return 1;
  };
  // Flags that cannot be served together are a usage error: exit 2, naming the flag.
  if (Status s = Validate(config); !s.ok()) {
    log::Error("{}", s.message());
    return 2;
  }
  // libcurl is opened on first use (common/shared_library.h) and the webhook dispatcher needs
  // it: a missing one is a configuration error here (exit 2, which the unit does not restart),
  // not an abort later.
  if (Status s = LoadLibcurl(); !s.ok()) {
    log::Error("{}", s.message());
    return 2;
  }
  // One server per SQLite data folder, and no restore under it: the lock is held until exit.
  std::optional<sqlite::DataDirLock> lock;
  if (config.db.empty()) {
    if (Status s = PrepareDataDir(config.data_dir); !s.ok()) return fail(s);
    Result<sqlite::DataDirLock> locked = sqlite::DataDirLock::Acquire(config.data_dir);
    if (!locked.ok()) {
      if (locked.status().code() != StatusCode::kFailedPrecondition) return fail(locked.status());
      log::Error("{}", locked.status().message());
      return 2;
    }
    lock.emplace(std::move(*locked));
  }
  auto app = ServerApp::Create(config);
  if (!app.ok()) {
    // A database this build cannot serve (its schema is newer: store/migration.h) is no internal
    // error and no restart mends it: its one line as it is, and exit 2 (the unit's
    // RestartPreventExitStatus).
    if (app.status().code() != StatusCode::kFailedPrecondition) return fail(app.status());
    log::Error("{}", app.status().message());
    return 2;
  }
  if (Status s = BootstrapAdmin(**app); !s.ok()) return fail(s);
  LogStart(**app);
  // systemd (Type=notify) counts the service started from here: it listens, and the first
  // user exists.
  Notify("READY=1");

  // On a signal, or after the server stopped on its own.
  std::thread waiter = SignalWaiter(signals, [&app] {
    Notify("STOPPING=1");
    (*app)->Stop();
  });
  (*app)->Run();
  pthread_kill(waiter.native_handle(), SIGUSR2);
  waiter.join();
  log::Info("keyward stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto config = std::make_shared<Config>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the Keyward server");
  AddServeFlags(cmd, *config);
  cmd->callback([config, exit_code] { *exit_code = Serve(*config); });
}

}  // namespace keyward
