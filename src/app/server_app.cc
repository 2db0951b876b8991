#include "app/server_app.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "common/cpus.h"
#include "common/log.h"
#include "store/store_factory.h"

namespace keyward {
namespace {

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

// Whether the server loads the master key: keys can be revealed, tokens issued (it seals the
// signing keys), or its file is given (webhook secrets are sealed with it, even with
// --reveal=false).
bool NeedsMasterKey(const Config& config) {
  return config.service.reveal || !config.token.issuer.empty() || !config.master_key_file.empty();
}

// The master key when NeedsMasterKey: --master-key-file, or <data dir>/master.key (the data dir
// is prepared by then).
Result<std::optional<MasterKey>> LoadMasterKey(const Config& config) {
  if (!NeedsMasterKey(config)) return std::optional<MasterKey>();
  std::string path = config.master_key_file;
  if (path.empty()) path = (std::filesystem::path(config.data_dir) / "master.key").string();
  KW_ASSIGN_OR_RETURN(MasterKey key, MasterKey::LoadOrCreate(path));
  return std::optional<MasterKey>(std::move(key));
}

}  // namespace

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

ServerApp::ServerApp(Key, const Config& config, const Clock& clock, const ThreadCounts& threads)
    : config_(config), clock_(clock), threads_(threads) {}

ServerApp::~ServerApp() = default;

Result<std::unique_ptr<ServerApp>> ServerApp::Create(const Config& config, const Clock& clock) {
  KW_RETURN_IF_ERROR(Validate(config));
  RaiseFileLimit(config.limits.max_connections);
  // The data dir holds the SQLite store, and the master key unless its file is given: prepared
  // once, for either.
  if (config.db.empty() || (NeedsMasterKey(config) && config.master_key_file.empty())) {
    KW_RETURN_IF_ERROR(PrepareDataDir(config.data_dir));
  }
  KW_ASSIGN_OR_RETURN(std::optional<MasterKey> master_key, LoadMasterKey(config));
  KW_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                      OpenStore(StoreOptions{.data_dir = config.data_dir, .db_url = config.db}));

  // The CPUs are counted once: the graph gets the resolved count, so the start-up line and the
  // pool that runs cannot disagree.
  const ThreadCounts threads = ResolveThreads(config, CountUsableCpus());
  Config resolved = config;
  resolved.blocking_threads = threads.blocking;
  auto app = std::make_unique<ServerApp>(Key{}, config, clock, threads);
  app->graph_ =
      std::make_unique<ServiceGraph>(resolved, std::move(store), std::move(master_key), clock);
  KW_RETURN_IF_ERROR(app->graph_->Start());
  ApiHandler& api = app->graph_->api();
  app->server_ = std::make_unique<http::Server>(
      config.limits,
      [&api](http::Request&& req, const http::Peer& peer, http::Responder r) {
        api.Handle(std::move(req), peer, std::move(r));
      },
      app->threads_.network);
  if (!config.tls_cert.empty()) {
    KW_RETURN_IF_ERROR(app->server_->EnableTls(
        http::TlsFiles{.cert_chain = config.tls_cert, .key = config.tls_key}));
  }
  KW_RETURN_IF_ERROR(app->server_->Listen(config.listen));
  return app;
}

Result<std::optional<std::string>> ServerApp::Bootstrap(std::optional<std::string> admin_password) {
  KW_ASSIGN_OR_RETURN(std::optional<std::string> generated,
                      graph_->users().Bootstrap(std::move(admin_password)));
  KW_RETURN_IF_ERROR(graph_->store().DeleteExpiredSessions(clock_.Now()).status());
  return generated;
}

std::string ServerApp::url() const {
  const std::string host = config_.listen.substr(0, config_.listen.rfind(':'));
  return (config_.tls_cert.empty() ? "http://" : "https://") + host + ":" +
         std::to_string(server_->port());
}

void ServerApp::Run() {
  server_->Run();
  graph_->Stop();
}

void ServerApp::Stop() { server_->Stop(); }

}  // namespace keyward
