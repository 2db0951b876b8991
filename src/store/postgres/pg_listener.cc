#include "store/postgres/pg_listener.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>

#include "common/hex.h"
#include "common/log.h"

namespace keyward::pg {
namespace {

constexpr int kPollMillis = 100;

}  // namespace

Listener::Listener(std::string url, StoreEvents events, ListenerOptions options)
    : url_(std::move(url)),
      events_(std::move(events)),
      options_(std::move(options)),
      thread_([this] { Run(); }) {}

Listener::~Listener() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  changed_.NotifyAll();
  thread_.join();
}

bool Listener::WaitUntilListening(std::chrono::milliseconds timeout) {
  MutexLock lock(mu_);
  changed_.WaitFor(mu_, timeout, [this] {
    mu_.AssertHeld();
    return attempted_;
  });
  return listening_;
}

void Listener::NoteAttempt(bool listening) {
  {
    MutexLock lock(mu_);
    attempted_ = true;
    listening_ = listening;
  }
  changed_.NotifyAll();
}

bool Listener::Sleep(std::chrono::milliseconds delay) {
  MutexLock lock(mu_);
  return !changed_.WaitFor(mu_, delay, [this] { return stop_.load(); });
}

void Listener::Run() {
  std::chrono::milliseconds backoff = options_.retry_min;
  bool missed = false;  // notifications may have been lost since the node started listening
  bool warned = false;  // one warning per outage, not one per attempt
  while (!stop_) {
    Result<std::unique_ptr<Connection>> conn =
        Connection::Open(url_, options_.connect, [this] { return stop_.load(); });
    if (conn.ok() && Serve(**conn, missed)) {
      // Served until the connection was lost (or stop): reconnect at once, then back off.
      backoff = options_.retry_min;
      missed = true;
      warned = false;
      if (!stop_) log::Warn("store: lost the invalidation listener's connection; reconnecting");
      continue;
    }
    NoteAttempt(false);
    missed = true;
    if (!warned && !stop_) {
      log::Warn("store: cannot listen for invalidations, retrying: {}",
                conn.ok() ? "LISTEN failed" : conn.status().ToString());
      warned = true;
    }
    if (!Sleep(backoff)) break;
    backoff = std::min(backoff * 2, options_.retry_max);
  }
  NoteAttempt(false);
}

bool Listener::Serve(Connection& conn, bool missed) {
  Result<Rows> listen = conn.Query((std::string("LISTEN ") + kInvalidateChannel).c_str());
  if (!listen.ok()) {
    log::Debug("store: {}", listen.status().ToString());
    return false;
  }
  NoteAttempt(true);
  if (missed) {
    log::Info("store: listening for invalidations again; dropping cached state");
    if (events_.resync) events_.resync();
  }
  PGconn* raw = conn.raw();
  while (!stop_) {
    pollfd fd{};
    fd.fd = PQsocket(raw);
    fd.events = POLLIN;
    if (fd.fd < 0) return true;
    int rc = ::poll(&fd, 1, kPollMillis);
    if (rc < 0 && errno != EINTR) return true;
    if (rc <= 0) continue;
    if (PQconsumeInput(raw) == 0) return true;  // lost
    while (PGnotify* notify = PQnotifies(raw)) {
      std::string payload = notify->extra != nullptr ? notify->extra : "";
      PQfreemem(notify);
      Dispatch(payload);
    }
    if (PQstatus(raw) != CONNECTION_OK) return true;
  }
  return true;
}

void Listener::Dispatch(std::string_view payload) {
  if (payload.starts_with("k:")) {
    std::optional<std::string> hash = FromHex(payload.substr(2));
    if (hash) {
      if (events_.key_revoked) events_.key_revoked(*hash);
      return;
    }
  } else if (payload.starts_with("u:")) {
    if (events_.user_changed) events_.user_changed(payload.substr(2));
    return;
  } else if (payload == "s:") {
    if (events_.signing_keys_changed) events_.signing_keys_changed();
    return;
  }
  // Not a payload this build sends (a newer node?): forgetting everything is always safe.
  log::Warn("store: unknown invalidation payload; dropping cached state");
  if (events_.resync) events_.resync();
}

}  // namespace keyward::pg
