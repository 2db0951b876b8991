#include "http/network_thread.h"

#include <boost/asio/post.hpp>
#include <exception>

#include "common/log.h"

namespace keyward::http {

NetworkThread::NetworkThread(const Limits& limits, const Handler& handler,
                             std::atomic<std::size_t>& connections)
    : limits_(limits), handler_(handler), connections_(connections) {}

void NetworkThread::Run() {
  ArmSweep();
  for (;;) {
    // Handlers catch their own exceptions; this is the last line, so that one bad completion
    // cannot take the whole thread down.
    try {
      context_.run();
      return;
    } catch (const std::exception& e) {
      log::Error("http: uncaught exception on a network thread: {}", e.what());
    } catch (...) {
      log::Error("http: uncaught non-standard exception on a network thread");
    }
  }
}

void NetworkThread::Shutdown(CoarseClock::time_point deadline) {
  boost::asio::post(context_, [this, deadline] { BeginShutdown(deadline); });
}

void NetworkThread::BeginShutdown(CoarseClock::time_point deadline) {
  stopping_ = true;
  shutdown_deadline_ = deadline;
  for (auto it = live_connections_.begin(); it != live_connections_.end();) {
    ConnectionBase& connection = *it++;  // Close() unlinks `connection` only
    if (connection.idle()) connection.Close();
  }
  if (live_connections_.empty()) Finish();
}

void NetworkThread::ArmSweep() {
  if (finished_) return;
  sweep_timer_.expires_after(limits_.sweep_interval);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !finished_) Sweep();
  });
}

void NetworkThread::Sweep() {
  const CoarseClock::time_point now = CoarseClock::now();
  const bool past_grace = stopping_ && now >= shutdown_deadline_;
  for (auto it = live_connections_.begin(); it != live_connections_.end();) {
    ConnectionBase& connection = *it++;  // Close() unlinks `connection` only
    if (past_grace || connection.deadline() <= now) connection.Close();
  }
  ArmSweep();
}

void NetworkThread::Finish() {
  if (finished_) return;
  finished_ = true;
  // Without the sweep the context runs out of work once the closed connections' aborted operations
  // have completed, and Run() returns. Not stop(): a queued accept or connection start must still
  // run, so that its socket is closed now rather than when the Server is destroyed.
  sweep_timer_.cancel();
}

}  // namespace keyward::http
