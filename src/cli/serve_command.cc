#include "cli/serve_command.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>

#include "api/api_handler.h"
#include "common/cpus.h"
#include "common/log.h"
#include "common/random.h"
#include "common/worker_pool.h"
#include "core/api_key.h"
#include "core/duration.h"
#include "core/master_key.h"
#include "http/server.h"
#include "service/last_used_writer.h"
#include "store/store_factory.h"
#include "web/web_assets.h"

namespace keyward {
namespace {

struct ServeFlags {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./var";
  std::string db;
  std::string master_key_file;
  std::string key_prefix = "kw";
  std::string default_validity = "24h";
  std::string max_validity = "9999h";
  std::string session_validity = "12h";
  bool reveal = true;
  std::string cache_ttl = "5s";
  std::size_t cache_size = 1'000'000;
  std::string last_used_interval = "5s";
  bool allow_query_key = false;
  std::string header_timeout = "10s";
  std::string idle_timeout = "60s";
  std::size_t max_connections = 10'000;
  std::string tls_cert;
  std::string tls_key;
  int threads = 0;
  int workers = 0;
  std::string log_level = "info";
};

Status PrepareDataDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Internal("cannot create data dir " + dir + ": " +
                            std::generic_category().message(errno));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("--data-dir " + dir + " is not a directory");
  }
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return Status::Internal("cannot make data dir " + dir +
                            " private: " + std::generic_category().message(errno));
  }
  return Status::Ok();
}

Result<ServiceOptions> MakeOptions(const ServeFlags& f) {
  ServiceOptions o;
  KW_RETURN_IF_ERROR(ValidateKeyPrefix(f.key_prefix));
  o.key_prefix = f.key_prefix;
  KW_ASSIGN_OR_RETURN(o.default_validity, ParseDuration(f.default_validity));
  KW_ASSIGN_OR_RETURN(o.max_validity, ParseDuration(f.max_validity));
  KW_ASSIGN_OR_RETURN(o.session_validity, ParseDuration(f.session_validity));
  if (o.default_validity > o.max_validity) {
    return Status::InvalidArgument("--default-validity is longer than --max-validity");
  }
  o.reveal = f.reveal;
  return o;
}

// The transport's limits that flags may change; the others keep http::Limits' defaults.
Result<http::Limits> MakeLimits(const ServeFlags& f) {
  http::Limits limits;
  KW_ASSIGN_OR_RETURN(const std::int64_t header_timeout, ParseDuration(f.header_timeout));
  KW_ASSIGN_OR_RETURN(const std::int64_t idle_timeout, ParseDuration(f.idle_timeout));
  if (f.max_connections == 0) {
    return Status::InvalidArgument("--max-connections must be at least 1");
  }
  limits.header_timeout = std::chrono::seconds(header_timeout);
  limits.idle_timeout = std::chrono::seconds(idle_timeout);
  limits.max_connections = f.max_connections;
  return limits;
}

// The certificate to serve HTTPS with, or nullopt for plain HTTP.
Result<std::optional<http::TlsFiles>> MakeTlsFiles(const ServeFlags& f) {
  if (f.tls_cert.empty() && f.tls_key.empty()) return std::optional<http::TlsFiles>();
  if (f.tls_cert.empty() || f.tls_key.empty()) {
    return Status::InvalidArgument(
        "--tls-cert and --tls-key go together: give both (HTTPS) or neither (plain HTTP)");
  }
  return std::optional<http::TlsFiles>(http::TlsFiles{.cert_chain = f.tls_cert, .key = f.tls_key});
}

// Each connection takes a file descriptor, and the usual soft limit (1024) is far below the
// connection limit: raise it to the hard limit, as much as the process may have.
void RaiseFileLimit(std::size_t max_connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur != limit.rlim_max) {
    const rlim_t wanted = limit.rlim_max;
    limit.rlim_cur = wanted;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      log::Warn("cannot raise the open file limit to {}: {}", wanted,
                std::generic_category().message(errno));
      ::getrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  // Some descriptors go to the database, the listener and the log.
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < max_connections + 64) {
    log::Warn(
        "the open file limit ({}) is below --max-connections ({}): the server runs out of "
        "file descriptors first",
        limit.rlim_cur, max_connections);
  }
}

// Blocks SIGINT and SIGTERM in every thread started after this, and returns a thread that
// waits for either and calls `on_signal`.
std::thread SignalWaiter(sigset_t set, std::function<void()> on_signal) {
  return std::thread([set, on_signal = std::move(on_signal)] {
    int sig = 0;
    if (sigwait(&set, &sig) == 0 && sig != SIGUSR2) {
      log::Info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    on_signal();
  });
}

// Shows the generated password of the first user. On a terminal it is printed once. Anywhere
// else (a service manager's journal, a log file) printing it would put a secret in a log, so
// it goes to <data dir>/initial-admin-password instead, readable by the server's user only.
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
  KW_RETURN_IF_ERROR(PrepareDataDir(data_dir));
  const std::string path = (std::filesystem::path(data_dir) / "initial-admin-password").string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::Internal("cannot write " + path + ": " + std::generic_category().message(errno));
  const std::string line = password + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!written) return Status::Internal("cannot write " + path);
  std::cout << "\nKeyward created the first user, an operator: admin. Its password is in\n"
            << "  " << path << "   (this user only; delete it once stored)\n\n"
            << "Sign in at " << url << "/ in a browser, or with curl:\n"
            << "  " << sign_in << "'\"$(cat " << path << ")\"'\"}'\n"
            << std::endl;
  return Status::Ok();
}

int Serve(const ServeFlags& flags) {
  // Before any thread starts, so that every thread inherits the mask and only the waiter
  // thread receives these signals.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);  // used to wake the waiter when the server stops on its own
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (flags.log_level == "debug") log::SetLevel(log::Level::kDebug);
  if (flags.log_level == "warn") log::SetLevel(log::Level::kWarn);
  if (!InitCrypto()) {
    log::Error("libsodium failed to initialise");
    return 1;
  }
  auto fail = [](const Status& s) {
    log::Error("{}", s.ToString());
    return 1;
  };
  auto options = MakeOptions(flags);
  if (!options.ok()) return fail(options.status());
  auto limits = MakeLimits(flags);
  if (!limits.ok()) return fail(limits.status());
  auto tls = MakeTlsFiles(flags);
  if (!tls.ok()) return fail(tls.status());
  RaiseFileLimit(limits->max_connections);
  if (flags.db.empty()) {
    if (Status s = PrepareDataDir(flags.data_dir); !s.ok()) return fail(s);
  }
  std::optional<MasterKey> master_key;
  if (options->reveal && !flags.db.empty() && flags.master_key_file.empty()) {
    return fail(Status::InvalidArgument(
        "with --db every node must use the same master key: give it with --master-key-file "
        "(created if missing), or run with --reveal=false"));
  }
  if (options->reveal) {
    std::string path = flags.master_key_file.empty()
                           ? (std::filesystem::path(flags.data_dir) / "master.key").string()
                           : flags.master_key_file;
    if (flags.master_key_file.empty()) {
      if (Status s = PrepareDataDir(flags.data_dir); !s.ok()) return fail(s);
    }
    auto loaded = MasterKey::LoadOrCreate(path);
    if (!loaded.ok()) return fail(loaded.status());
    master_key.emplace(std::move(loaded).value());
  }
  auto cache_ttl = ParseDuration(flags.cache_ttl);
  if (!cache_ttl.ok()) return fail(cache_ttl.status());
  auto last_used_interval = ParseDuration(flags.last_used_interval);
  if (!last_used_interval.ok()) return fail(last_used_interval.status());
  // Declared before the store, so that it outlives the store's event thread.
  KeyCache cache(KeyCacheOptions{.max_entries = flags.cache_size,
                                 .max_negative = std::max<std::size_t>(flags.cache_size / 10, 1024),
                                 .ttl = *cache_ttl});

  auto store = OpenStore(StoreOptions{flags.data_dir, flags.db});
  if (!store.ok()) return fail(store.status());
  // Keys revoked and users changed on other nodes leave this node's cache at once.
  (*store)->Subscribe(
      StoreEvents{.key_revoked = [&cache](std::string_view hash) { cache.Erase(hash); },
                  .user_changed = [&cache](std::string_view user_id) { cache.EraseUser(user_id); },
                  .resync = [&cache] { cache.Clear(); }});

  const Clock& clock = Clock::System();
  LastUsedWriter last_used(cache, **store, std::chrono::seconds(*last_used_interval));
  Metrics metrics;
  Authenticator authenticator(**store, *options, clock, &cache);
  AuditLog audit(**store, clock);
  KeyService keys(**store, master_key ? &*master_key : nullptr, *options, clock, &cache, &audit);
  UserService users(**store, clock, &cache, &audit);
  SessionService sessions(**store, *options, clock, &cache, &audit);
  Services services{.options = *options,
                    .authenticator = authenticator,
                    .keys = keys,
                    .users = users,
                    .sessions = sessions,
                    .metrics = metrics,
                    .cache = &cache,
                    .allow_query_key = flags.allow_query_key,
                    .secure_cookie = tls->has_value(),
                    .web_assets = &WebAssets(),
                    .audit = &audit};

  // Network threads default to the CPUs this process may use (taskset, a container's limit):
  // more threads than CPUs only make them take turns, which costs /auth its tail latency.
  const UsableCpus usable = CountUsableCpus();
  const int cores = usable.count;
  const int threads = flags.threads > 0 ? flags.threads : cores;
  const std::string threads_why =
      flags.threads > 0 ? std::string("--threads") : "one per usable CPU: " + usable.reason;
  const int worker_threads = flags.workers > 0 ? flags.workers : std::max(4, 2 * cores);

  WorkerPool workers(worker_threads, 4096);
  ApiHandler api(services, workers);
  http::Server server(
      *limits,
      [&api](http::Request&& req, const http::Peer& peer, http::Responder r) {
        api.Handle(std::move(req), peer, std::move(r));
      },
      threads);
  // The certificate and the port before the first user: a generated password is shown only
  // once the server can start.
  if (tls->has_value()) {
    if (Status s = server.EnableTls(**tls); !s.ok()) return fail(s);
  }
  if (Status s = server.Listen(flags.listen); !s.ok()) return fail(s);

  std::optional<std::string> admin_password;
  if (const char* env = std::getenv("KEYWARD_ADMIN_PASSWORD"); env && *env) admin_password = env;
  auto bootstrap = users.Bootstrap(admin_password);
  if (!bootstrap.ok()) return fail(bootstrap.status());
  if (auto pruned = (*store)->DeleteExpiredSessions(clock.Now()); !pruned.ok()) {
    return fail(pruned.status());
  }

  const std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  const std::string url =
      (tls->has_value() ? "https://" : "http://") + host + ":" + std::to_string(server.port());
  if (bootstrap->has_value() && !(*bootstrap)->empty()) {
    if (Status s = ShowAdminPassword(**bootstrap, url, flags.data_dir); !s.ok()) return fail(s);
  }
  log::Info("keyward {} listening on {} (store: {}, {} network threads ({}), {} workers)",
            KEYWARD_VERSION, url, flags.db.empty() ? "sqlite in " + flags.data_dir : "postgresql",
            threads, threads_why, worker_threads);

  std::thread waiter = SignalWaiter(set, [&server] { server.Stop(); });
  server.Run();
  pthread_kill(waiter.native_handle(), SIGUSR2);
  waiter.join();
  workers.Join();
  last_used.Stop();
  log::Info("keyward stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the Keyward server");
  auto opt = [cmd](const char* name, auto& value, const char* env, const char* help) {
    return cmd->add_option(name, value, help)->envname(env)->capture_default_str();
  };
  opt("--listen", flags->listen, "KEYWARD_LISTEN", "host:port to listen on");
  opt("--data-dir", flags->data_dir, "KEYWARD_DATA_DIR",
      "folder for the SQLite database and the master key (created mode 0700)");
  opt("--db", flags->db, "KEYWARD_DB", "postgresql://… to keep the store in PostgreSQL");
  opt("--master-key-file", flags->master_key_file, "KEYWARD_MASTER_KEY_FILE",
      "master key file (default <data-dir>/master.key; created mode 0600 if missing)");
  opt("--key-prefix", flags->key_prefix, "KEYWARD_KEY_PREFIX", "prefix of new keys: <prefix>_…");
  opt("--default-validity", flags->default_validity, "KEYWARD_DEFAULT_VALIDITY",
      "validity of a key created without -d");
  opt("--max-validity", flags->max_validity, "KEYWARD_MAX_VALIDITY",
      "longest validity a key may be given");
  opt("--session-validity", flags->session_validity, "KEYWARD_SESSION_VALIDITY",
      "validity of a sign-in session");
  opt("--reveal", flags->reveal, "KEYWARD_REVEAL",
      "keep keys encrypted so owners can reveal them later (false: hash only, shown once)");
  opt("--cache-ttl", flags->cache_ttl, "KEYWARD_CACHE_TTL",
      "longest time a verified key is trusted from memory before the store is read again");
  opt("--cache-size", flags->cache_size, "KEYWARD_CACHE_SIZE",
      "verified keys kept in memory (a tenth as many unknown keys are remembered too)");
  opt("--last-used-interval", flags->last_used_interval, "KEYWARD_LAST_USED_INTERVAL",
      "how often keys' last-used times are written to the store, in one batch");
  cmd->add_flag("--allow-query-key", flags->allow_query_key,
                "accept a key in a ?apikey= query parameter (it then appears in URLs and logs)")
      ->envname("KEYWARD_ALLOW_QUERY_KEY");
  opt("--header-timeout", flags->header_timeout, "KEYWARD_HEADER_TIMEOUT",
      "a client must send a request's headers and body within this; slower ones are cut off");
  opt("--idle-timeout", flags->idle_timeout, "KEYWARD_IDLE_TIMEOUT",
      "a kept-alive connection with no new request for this long is closed");
  opt("--max-connections", flags->max_connections, "KEYWARD_MAX_CONNECTIONS",
      "open connections at most; further ones are accepted and closed at once");
  opt("--tls-cert", flags->tls_cert, "KEYWARD_TLS_CERT",
      "PEM certificate chain (server certificate first): serve HTTPS only, TLS 1.2 and 1.3; "
      "needs --tls-key");
  opt("--tls-key", flags->tls_key, "KEYWARD_TLS_KEY",
      "PEM private key of --tls-cert (not encrypted)");
  opt("--threads", flags->threads, "KEYWARD_THREADS",
      "network threads (0: one per CPU this process may use, after taskset and cgroup cpu.max)");
  opt("--workers", flags->workers, "KEYWARD_WORKERS",
      "worker threads for store and password work (0: 2 per core, at least 4)");
  opt("--log-level", flags->log_level, "KEYWARD_LOG_LEVEL", "debug, info or warn")
      ->check(CLI::IsMember({"debug", "info", "warn"}));
  cmd->callback([flags, exit_code] { *exit_code = Serve(*flags); });
}

}  // namespace keyward
