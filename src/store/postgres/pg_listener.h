// Hears the changes other nodes make: LISTEN on a connection and a thread of its own, turning
// each NOTIFY on kInvalidateChannel into a StoreEvents callback.
//
// Payloads: "k:<hex of a key or session hash>" -> key_revoked, "u:<user id>" -> user_changed,
// "s:" -> signing_keys_changed; any other payload -> resync. When the connection is lost it
// reconnects with a doubling backoff (retry_min to retry_max) and, once it LISTENs again, calls
// resync(), since notifications sent meanwhile are lost. If the very first attempt fails, the first
// success calls resync() too.
//
// Thread safe. Callbacks run on the listener thread, one at a time. The destructor stops the
// thread (within about 100 ms, or a connection attempt's connect_timeout when it names a host
// that must be looked up) and joins it: no callback runs once it has returned.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "common/thread_annotations.h"
#include "store/postgres/pg_connection.h"
#include "store/store.h"

namespace keyward::pg {

inline constexpr char kInvalidateChannel[] = "keyward_invalidate";

struct ListenerOptions {
  ConnectOptions connect;
  std::chrono::milliseconds retry_min{100};   // the first wait after a failed connection
  std::chrono::milliseconds retry_max{2000};  // the longest wait between attempts
};

class Listener {
 public:
  // Starts the thread; `url` is never logged.
  Listener(std::string url, StoreEvents events, ListenerOptions options);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();

  // Waits up to `timeout` for the first connection attempt to end; true if it LISTENs.
  bool WaitUntilListening(std::chrono::milliseconds timeout);

 private:
  void Run();
  // LISTENs, then delivers notifications until the connection is lost or Stop; false if LISTEN
  // failed.
  bool Serve(Connection& conn, bool missed);
  void Dispatch(std::string_view payload);
  // Waits `delay` unless stopped first; false when stopping.
  bool Sleep(std::chrono::milliseconds delay);
  void NoteAttempt(bool listening);

  const std::string url_;
  const StoreEvents events_;
  const ListenerOptions options_;
  std::atomic<bool> stop_{false};
  Mutex mu_;
  CondVar changed_;
  bool attempted_ GUARDED_BY(mu_) = false;
  bool listening_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once everything above is set
};

}  // namespace keyward::pg
