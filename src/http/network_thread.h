// One network thread's share of the server: an io_context, the connections living on it, and one
// coarse timeout sweep over them (no timer per operation).
//
// Thread safety: Shutdown() and the accessors of immutable state (context(), limits(),
// handler(), connections()) may be used from any thread. Everything else — Add, the connection
// registry, stopping() — belongs to the thread running Run() and must only be used there.
//
// Ownership: the NetworkThread borrows the Limits, the Handler and the connection counter from the
// Server, which outlives it. It does not own its connections (they own themselves through
// shared_ptr); it only lists the live ones. The registry is declared before the io_context so
// that connections still held by queued handlers when the NetworkThread is destroyed unlink from a
// live list.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>
#include <cstddef>

#include "http/coarse_clock.h"
#include "http/connection.h"
#include "http/server.h"

namespace keyward::http {

class NetworkThread {
 public:
  NetworkThread(const Limits& limits, const Handler& handler,
                std::atomic<std::size_t>& connections);
  NetworkThread(const NetworkThread&) = delete;
  NetworkThread& operator=(const NetworkThread&) = delete;

  boost::asio::io_context& context() { return context_; }
  const Limits& limits() const { return limits_; }
  const Handler& handler() const { return handler_; }
  // Open connections over the whole server; a connection gives its slot back when it closes.
  std::atomic<std::size_t>& connections() { return connections_; }

  // Runs the context on the calling thread until the network thread has shut down.
  void Run();
  // Any thread: from now on, close idle connections at once and let busy ones finish until
  // `deadline`; once none is left, stop the sweep so that Run() returns. Safe before Run().
  void Shutdown(CoarseClock::time_point deadline);

  // Network thread only.
  void Add(ConnectionBase& connection) { live_connections_.push_back(connection); }
  // A connection calls this once it has closed and unlinked itself.
  void OnConnectionClosed() {
    if (stopping_ && live_connections_.empty()) Finish();
  }
  bool stopping() const { return stopping_; }

 private:
  using ConnectionList = boost::intrusive::list<
      ConnectionBase,
      boost::intrusive::member_hook<ConnectionBase, ConnectionHook, &ConnectionBase::hook_>,
      boost::intrusive::constant_time_size<false>>;
  using Timer =
      boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                        boost::asio::wait_traits<std::chrono::steady_clock>,
                                        boost::asio::io_context::executor_type>;

  void BeginShutdown(CoarseClock::time_point deadline);
  void ArmSweep();
  void Sweep();
  void Finish();

  const Limits& limits_;
  const Handler& handler_;
  std::atomic<std::size_t>& connections_;
  ConnectionList live_connections_;  // before context_: see the header comment
  bool stopping_ = false;
  bool finished_ = false;
  CoarseClock::time_point shutdown_deadline_ = CoarseClock::time_point::max();
  boost::asio::io_context context_{1};
  Timer sweep_timer_{context_.get_executor()};
};

}  // namespace keyward::http
