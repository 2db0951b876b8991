// The HTTP/1.1 transport: a listener, one connection per connection, and nothing about keys.
//
// Threading: `threads` io_contexts, each run by one thread; a connection lives on one context
// for its whole life, so a connection needs no strand or lock. The handler is called on that
// network thread and must not block: blocking work goes to a network thread pool and the answer
// comes back through the Responder, which may be called from any thread.
//
// Timeouts are enforced by one coarse sweep per context (every `sweep_interval`), not by a
// timer per operation: a connection waiting on a request's headers longer than
// `header_timeout`, idle between requests longer than `idle_timeout`, or writing one response
// longer than `write_timeout`, is closed.
#pragma once

#include <boost/beast/http.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace keyward::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;

// Every limit of the transport, in one place. Defaults suit a key service: small requests.
struct Limits {
  std::size_t max_header_bytes = 16 * 1024;          // request line + headers; over it: 431, or 414
                                                     // when the request line alone is over it
  std::size_t max_body_bytes = 64 * 1024;            // over it: 413
  std::chrono::milliseconds header_timeout{10'000};  // first byte to end of headers and body;
                                                     // also accept to first byte (TLS: the
                                                     // handshake)
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{10'000};   // sending one response
  std::chrono::milliseconds sweep_interval{250};     // how often timeouts are checked
  std::chrono::milliseconds shutdown_grace{5'000};   // in-flight requests may finish in this
  std::size_t max_connections = 10'000;  // further connections are accepted and closed at once
};

// A server certificate for TLS: PEM files.
struct TlsFiles {
  std::string cert_chain;  // the server's certificate first, then any intermediate CAs
  std::string key;         // its private key, not encrypted
};

// Who sent a request.
struct Peer {
  std::string address;  // client IP, "127.0.0.1" or "::1"
  std::uint16_t port = 0;
};

namespace detail {
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void Send(Response&& response) = 0;
};
}  // namespace detail

// Sends the one response to one request. Move-only; call exactly once, from any thread. If it
// is destroyed (or assigned over) without being called, the connection gets a 500 and is
// closed. A handler may set `Connection: close` on its response to close the connection after
// it; the transport sets Content-Length when absent and keep-alive to match the request.
// Every Responder must be called or destroyed before the Server that issued it is destroyed.
class Responder {
 public:
  explicit Responder(std::shared_ptr<detail::ResponseSink> sink) : sink_(std::move(sink)) {}
  Responder(Responder&&) = default;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void operator()(Response&& response);

 private:
  std::shared_ptr<detail::ResponseSink> sink_;
};

// Called once per complete, well-formed request. The transport has already answered malformed
// or ambiguously framed requests (400), oversize request lines (414), headers (431) and bodies
// (413) itself.
using Handler = std::function<void(Request&& request, const Peer& peer, Responder respond)>;

class Server {
 public:
  Server(Limits limits, Handler handler, int threads);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Before Listen: every connection speaks TLS (HTTPS only; see http/tls.h for the versions and
  // ciphers). The handshake counts against `header_timeout`; a client that fails it (plain
  // HTTP, an old protocol version) is disconnected without an answer. InvalidArgument, naming
  // the file, when a file cannot be read, holds no certificate or key, or the key does not
  // belong to the certificate.
  Status EnableTls(const TlsFiles& files);
  // Binds "host:port" (port 0 picks a free one). InvalidArgument for a bad address,
  // Unavailable when the port cannot be bound.
  Status Listen(const std::string& host_port);
  // The bound port, after Listen.
  std::uint16_t port() const;
  // Connections open now (each holds one of `max_connections` until it is closed); any thread.
  std::size_t connections() const;
  // Serves until Stop(); returns when every thread has finished. Runs `threads - 1` threads of
  // its own and uses the calling one as the last. Call at most once.
  void Run();
  // Thread safe and async-signal-unsafe: stops accepting, lets in-flight requests finish within
  // `shutdown_grace`, closes idle connections, and makes Run() return. Does not wait for that;
  // may be called before Run() (which then returns at once), more than once, and from a
  // handler. Destroy the Server only after Run() has returned (or if it was never called).
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::http
