// Accepts TCP connections and deals them round-robin to the network threads, each new socket
// already bound to its network thread's io_context, as a plain HTTP connection or, after UseTls, a
// TLS one. Never stops on an accept error: it logs it, backs off when file descriptors or memory
// run out, and goes on.
//
// Thread safety: Listen() and port() are for the owning thread before Run(); Start() may be
// called from any thread (it posts to the acceptor's context); Close() and the accept loop run
// on that context's thread.
//
// Ownership: borrows the io_context, the network threads, the limits and the connection counter
// from the Server, which destroys the Listener before any of them.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/connection.h"
#include "http/server.h"

namespace keyward::http {

class NetworkThread;

class Listener {
 public:
  Listener(boost::asio::io_context& context, std::vector<NetworkThread*> net_threads,
           const Limits& limits, std::atomic<std::size_t>& connections);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens on "host:port" or "[v6]:port" (port 0 picks one). InvalidArgument for a
  // malformed address or a second call, Unavailable when it cannot be bound.
  Status Listen(const std::string& host_port);
  std::uint16_t port() const { return port_; }
  // Before Start: serve every connection over TLS with `tls`, which outlives the listener and
  // its connections.
  void UseTls(boost::asio::ssl::context* tls) { tls_ = tls; }

  // Starts the accept loop, if Listen succeeded and Stop has not closed the acceptor.
  void Start();
  // On the acceptor's context only: closes the acceptor. Connections already accepted are left
  // alone, and the starts of those already handed to a network thread are queued on it before
  // anything posted to it after this call.
  void Close();

 private:
  using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp,
                                                      boost::asio::io_context::executor_type>;
  using Timer =
      boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                        boost::asio::wait_traits<std::chrono::steady_clock>,
                                        boost::asio::io_context::executor_type>;

  void Accept();
  void OnAccept(const boost::system::error_code& ec, TcpSocket socket, NetworkThread& net_thread);
  void Admit(TcpSocket socket, NetworkThread& net_thread);
  void BackOff(const boost::system::error_code& ec);

  boost::asio::io_context& context_;
  std::vector<NetworkThread*> net_threads_;
  const Limits& limits_;
  std::atomic<std::size_t>& connections_;
  Acceptor acceptor_;
  Timer backoff_timer_;
  boost::asio::ssl::context* tls_ = nullptr;  // not owned; null: plain HTTP
  std::size_t next_net_thread_ = 0;
  std::uint16_t port_ = 0;
};

}  // namespace keyward::http
