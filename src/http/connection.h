// One HTTP/1.1 connection: reads one request at a time, hands it to the Handler, writes the
// response, and loops while the connection is kept alive. Pipelined requests are answered in
// order because the next request is parsed only after the previous response is written.
//
// Over TLS the handshake comes first, within the header timeout; a failed handshake closes
// the connection without an answer. A connection the server ends (a response with
// `Connection: close`, an error answer) sends close_notify and waits for the client's, or its
// end of stream, for at most a second; a timeout, a shutdown or an error closes the socket
// without close_notify.
//
// Thread safety: a Connection lives on its network thread. Send() (the ResponseSink entry point
// a Responder calls) may be called from any thread; every other member function must be called
// on the network thread thread.
//
// Ownership: owned through shared_ptr by whatever is in flight — its pending read or write, or
// the Responder while the handler works. Its network thread lists it through `hook_` without owning
// it. Every way a connection ends goes through Close() on the network thread thread, which unlinks
// it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/intrusive/list_hook.hpp>
#include <memory>
#include <optional>
#include <type_traits>

#include "http/coarse_clock.h"
#include "http/server.h"

namespace keyward::http {

// A socket bound to an io_context's own executor: no type-erased executor on the hot path.
using TcpSocket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
// The same socket under TLS.
using TlsStream = boost::asio::ssl::stream<TcpSocket>;

// The hook by which a NetworkThread lists a Connection; unlinks itself when the Connection is
// destroyed.
using ConnectionHook =
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

class NetworkThread;

// Starts serving a connection the listener accepted for `network thread`: plain HTTP, or HTTPS when
// `tls` is not null (it must outlive the connection). Takes one of the server's connection
// slots (already counted by the listener) and gives it back when the connection closes. Any
// thread; the connection starts on the network thread's.
void StartConnection(NetworkThread& net_thread, TcpSocket socket, boost::asio::ssl::context* tls);

// What a NetworkThread sees of a connection, whatever its stream: the sweep's deadline and Close().
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;

  // Closes the socket at once and unlinks; pending operations finish with operation_aborted.
  // Idempotent. Network thread only.
  virtual void Close() = 0;
  // Waiting for the first byte of a request (TLS: or in the handshake), or draining after an
  // error: at shutdown such a connection is closed at once rather than given the grace period.
  bool idle() const { return state_ == State::kWaiting || state_ == State::kLingering; }
  // When the sweep closes this connection; max() while the handler works.
  CoarseClock::time_point deadline() const { return deadline_; }

  ConnectionHook hook_;  // public for the NetworkThread's intrusive list

 protected:
  enum class State { kWaiting, kReading, kHandling, kWriting, kLingering, kClosed };

  State state_ = State::kWaiting;
  CoarseClock::time_point deadline_ = CoarseClock::time_point::max();
};

// One connection over `Stream`, TcpSocket or TlsStream. A template rather than a stream behind
// an interface, so that plain HTTP pays for TLS with nothing, not even a virtual call per read
// or write. Defined and instantiated for those two in connection.cc.
template <typename Stream>
class Connection final : public ConnectionBase,
                         public detail::ResponseSink,
                         public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, TcpSocket>;

  Connection(NetworkThread& net_thread, Stream stream);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with the network thread; with TLS does the handshake; then reads the first request.
  void Start();
  void Close() override;

  // detail::ResponseSink — any thread.
  void Send(Response&& response) override;

 private:
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  auto& socket() { return stream_.lowest_layer(); }
  void OnHandshake(const boost::beast::error_code& ec);
  void ResetParser();
  void ReadMore();
  void OnRead(const boost::beast::error_code& ec, std::size_t bytes);
  void Parse();
  bool ExpectsContinue() const;
  void SendContinue();
  void OnRequest();
  void OnResponse(Response&& response);
  void FailRequest(const boost::beast::error_code& ec);
  void Write(bool keep_alive, bool linger);
  void OnWrite(const boost::beast::error_code& ec);
  void Linger();
  void NextRequest();
  void ReleaseSlot();

  NetworkThread& net_thread_;
  Stream stream_;
  boost::beast::flat_buffer buffer_;  // reused for every request of the connection
  std::optional<Parser> parser_;      // a fresh one per request
  Response response_;                 // the response being written
  std::string out_;                   // response_ serialized; capacity reused across requests
  Peer peer_;
  unsigned request_version_ = 11;
  bool request_keep_alive_ = false;
  bool request_is_head_ = false;
  bool keep_alive_ = false;  // after the response being written
  bool linger_ = false;      // drain the socket after the response being written, then close
  bool continue_sent_ = false;
  bool holds_slot_ = true;
};

}  // namespace keyward::http
