#include "cli/serve_command.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "api/api_handler.h"
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
  int threads = 0;
  int workers = 0;
  std::string log_level = "info";
};

Status PrepareDataDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Internal("cannot create data dir " + dir + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("--data-dir " + dir + " is not a directory");
  }
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return Status::Internal("cannot make data dir " + dir + " private: " + std::strerror(errno));
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

void PrintAdminBanner(const std::string& password, const std::string& listen) {
  std::cout << "\nKeyward created the first user, an operator:\n"
            << "  user:     admin\n"
            << "  password: " << password << "   (shown once: store it now)\n\n"
            << "Sign in at http://" << listen << "/ in a browser, or with curl:\n"
            << "  curl -s -X POST http://" << listen << "/api/v1/login \\\n"
            << "    -H 'Content-Type: application/json' \\\n"
            << "    -d '{\"username\":\"admin\",\"password\":\"" << password << "\"}'\n"
            << std::endl;
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
  KeyService keys(**store, master_key ? &*master_key : nullptr, *options, clock, &cache);
  UserService users(**store, clock, &cache);
  SessionService sessions(**store, *options, clock, &cache);
  Services services{.options = *options,
                    .authenticator = authenticator,
                    .keys = keys,
                    .users = users,
                    .sessions = sessions,
                    .metrics = metrics,
                    .cache = &cache,
                    .allow_query_key = flags.allow_query_key,
                    .web_assets = &WebAssets()};

  std::optional<std::string> admin_password;
  if (const char* env = std::getenv("KEYWARD_ADMIN_PASSWORD"); env && *env) admin_password = env;
  auto bootstrap = users.Bootstrap(admin_password);
  if (!bootstrap.ok()) return fail(bootstrap.status());
  if (auto pruned = (*store)->DeleteExpiredSessions(clock.Now()); !pruned.ok()) {
    return fail(pruned.status());
  }

  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = flags.threads > 0 ? flags.threads : cores;
  const int worker_threads = flags.workers > 0 ? flags.workers : std::max(4, 2 * cores);

  WorkerPool workers(worker_threads, 4096);
  ApiHandler api(services, workers);
  http::Server server(
      http::Limits{},
      [&api](http::Request&& req, const http::Peer& peer, http::Responder r) {
        api.Handle(std::move(req), peer, std::move(r));
      },
      threads);
  if (Status s = server.Listen(flags.listen); !s.ok()) return fail(s);
  std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  std::string bound = host + ":" + std::to_string(server.port());
  if (bootstrap->has_value() && !(*bootstrap)->empty()) PrintAdminBanner(**bootstrap, bound);
  log::Info("keyward {} listening on http://{} (store: {}, {} network threads, {} workers)",
            KEYWARD_VERSION, bound, flags.db.empty() ? "sqlite in " + flags.data_dir : "postgresql",
            threads, worker_threads);

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
  opt("--threads", flags->threads, "KEYWARD_THREADS", "network threads (0: one per core)");
  opt("--workers", flags->workers, "KEYWARD_WORKERS",
      "worker threads for store and password work (0: 2 per core, at least 4)");
  opt("--log-level", flags->log_level, "KEYWARD_LOG_LEVEL", "debug, info or warn")
      ->check(CLI::IsMember({"debug", "info", "warn"}));
  cmd->callback([flags, exit_code] { *exit_code = Serve(*flags); });
}

}  // namespace keyward
