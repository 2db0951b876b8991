#include "http/connection.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "common/log.h"
#include "http/error_response.h"
#include "http/network_thread.h"

namespace keyward::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

constexpr std::size_t kInitialBufferBytes = 4096;
constexpr std::size_t kMaxReadBytes = std::size_t{64} * 1024;
// How long to drain what a client still sends after an error answer, so that closing the
// socket does not reset the connection before the client has read that answer.
constexpr std::chrono::milliseconds kLingerTime{1000};
// A connection keeps its output buffer between requests unless a large response grew it.
constexpr std::size_t kMaxKeptOutputBytes = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// Sets the version and keep-alive, and the length when the handler did not. Throws
// std::invalid_argument for a body on a status that has none.
void PrepareResponse(Response& response, unsigned version, bool keep_alive) {
  response.version(version);
  response.keep_alive(keep_alive);
  const beast_http::status status = response.result();
  if (beast_http::to_status_class(status) == beast_http::status_class::informational ||
      status == beast_http::status::no_content || status == beast_http::status::not_modified) {
    // RFC 9110: no body; no Content-Length on 1xx or 204 (Beast would add "0").
    if (!response.body().empty()) throw std::invalid_argument("a body on a bodiless status");
    if (status != beast_http::status::not_modified) response.content_length(boost::none);
    return;
  }
  // Responses go out whole (see Serialize), never chunked.
  response.chunked(false);
  if (!response.has_content_length()) response.prepare_payload();
}

// The whole response as one contiguous buffer: one copy, one send, and none of the iteration
// over buffer sequences Beast's serializer does. `with_body` is false for HEAD.
void Serialize(const Response& response, bool with_body, std::string& out) {
  out.clear();
  out += response.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  const unsigned status = response.result_int();
  out += static_cast<char>('0' + status / 100);
  out += static_cast<char>('0' + status / 10 % 10);
  out += static_cast<char>('0' + status % 10);
  out += ' ';
  const auto reason = response.reason();
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& field : response) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size());
    out += ": ";
    out.append(value.data(), value.size());
    out += "\r\n";
  }
  out += "\r\n";
  if (with_body) out += response.body();
}

// RFC 9112 §5.2: a header line that starts with a space or tab continues the one before
// (obs-fold). Beast joins such lines; we refuse them, as a proxy in front may not join them.
// `header` is header-section bytes the parser has taken: whole lines only.
bool HasObsFold(std::string_view header) {
  for (std::size_t at = header.find('\n'); at != std::string_view::npos && at + 1 < header.size();
       at = header.find('\n', at + 1)) {
    if (header[at + 1] == ' ' || header[at + 1] == '\t') return true;
  }
  return false;
}

// A line end other than CRLF in a header section that has not ended yet. Beast refuses these
// where it parses, but after a partial read it first waits for a CRLF CRLF that may never come.
// `pending` starts at a line start.
bool HasBareLineEnd(std::string_view pending) {
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (pending[i] == '\n' && (i == 0 || pending[i - 1] != '\r')) return true;
    if (pending[i] == '\r' && i + 1 < pending.size() && pending[i + 1] != '\n') return true;
  }
  return false;
}

// The framing rules of RFC 9112 that Beast leaves to the server. The only transfer coding read
// is a plain `chunked`: with another final coding Beast reads no body at all, and proxies
// disagree on parameters or on codings before it, so the body's length would be uncertain
// (§6.1, §6.3, §7); on HTTP/1.0 any Transfer-Encoding makes it so. An HTTP/1.1 request has
// exactly one Host (§3.2).
beast::error_code CheckFraming(const Request& request) {
  const bool http11 = request.version() >= 11;
  const auto coding = request.find(beast_http::field::transfer_encoding);
  if (coding != request.end() && (!http11 || !beast::iequals(coding->value(), "chunked"))) {
    return beast_http::error::bad_transfer_encoding;
  }
  if (http11 && request.count(beast_http::field::host) != 1) return beast_http::error::bad_field;
  return {};
}

// At the header limit, before the request line was parsed: is the request line alone over the
// limit (414, RFC 9112 §3) rather than the header section (431)? `pending` is what is buffered.
bool RequestLineTooLong(const Request& partial, std::string_view pending, std::size_t limit) {
  if (!partial.target().empty()) return false;  // the request line was parsed: it fit
  return pending.substr(0, limit).find('\n') == std::string_view::npos;
}

std::string_view View(asio::const_buffer buffer) {
  return {static_cast<const char*>(buffer.data()), buffer.size()};
}

}  // namespace

template <typename Stream>
Connection<Stream>::Connection(NetworkThread& net_thread, Stream stream)
    : net_thread_(net_thread), stream_(std::move(stream)) {}

template <typename Stream>
Connection<Stream>::~Connection() {
  // Normally Close() already ran on the network thread thread. Only when the io_context is
  // destroyed with this connection's handlers still queued does that not happen.
  ReleaseSlot();
}

template <typename Stream>
void Connection<Stream>::ReleaseSlot() {
  if (!holds_slot_) return;
  holds_slot_ = false;
  net_thread_.connections().fetch_sub(1, std::memory_order_relaxed);
}

template <typename Stream>
void Connection<Stream>::Start() {
  net_thread_.Add(*this);
  if (net_thread_.stopping()) {
    Close();
    return;
  }
  beast::error_code ec;
  socket().set_option(asio::ip::tcp::no_delay(true), ec);
  const auto endpoint = socket().remote_endpoint(ec);
  if (ec) {  // the peer is already gone
    Close();
    return;
  }
  peer_.address = endpoint.address().to_string();
  peer_.port = endpoint.port();
  buffer_.reserve(kInitialBufferBytes);
  ResetParser();
  // Waiting for the first request counts against the header timeout, not the idle one. So
  // does the TLS handshake: the deadline is not moved when it ends.
  state_ = State::kWaiting;
  deadline_ = CoarseClock::now() + net_thread_.limits().header_timeout;
  if constexpr (kTls) {
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](const beast::error_code& hs_ec) {
                              self->OnHandshake(hs_ec);
                            });
  } else {
    ReadMore();
  }
}

template <typename Stream>
void Connection<Stream>::OnHandshake(const beast::error_code& ec) {
  if (state_ == State::kClosed) return;
  if (ec) {  // plain HTTP, an old protocol, no common cipher, or the client gave up
    log::Debug("http: TLS handshake with {}:{} failed: {}", peer_.address, peer_.port,
               ec.message());
    Close();
    return;
  }
  ReadMore();
}

template <typename Stream>
void Connection<Stream>::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  deadline_ = CoarseClock::time_point::max();
  beast::error_code ignored;
  socket().close(ignored);
  ReleaseSlot();
  if (hook_.is_linked()) {
    hook_.unlink();
    net_thread_.OnConnectionClosed();
  }
}

template <typename Stream>
void Connection<Stream>::ResetParser() {
  const Limits& limits = net_thread_.limits();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(limits.max_body_bytes);
  continue_sent_ = false;
}

template <typename Stream>
void Connection<Stream>::ReadMore() {
  const std::size_t size = beast::read_size(buffer_, kMaxReadBytes);
  stream_.async_read_some(
      buffer_.prepare(size),
      [self = this->shared_from_this()](const beast::error_code& ec, std::size_t bytes) {
        self->OnRead(ec, bytes);
      });
}

template <typename Stream>
void Connection<Stream>::OnRead(const beast::error_code& ec, std::size_t bytes) {
  if (state_ == State::kClosed) return;
  if (ec) {  // end of stream, reset, or aborted: nothing left to answer
    Close();
    return;
  }
  buffer_.commit(bytes);
  if (state_ == State::kLingering) {
    buffer_.clear();
    ReadMore();
    return;
  }
  if (state_ == State::kWaiting) {
    state_ = State::kReading;
    deadline_ = CoarseClock::now() + net_thread_.limits().header_timeout;
  }
  Parse();
}

template <typename Stream>
void Connection<Stream>::Parse() {
  Parser& parser = *parser_;
  while (buffer_.size() > 0) {
    beast::error_code ec;
    const bool in_header = !parser.is_header_done();
    const std::string_view input = View(buffer_.data());
    const std::size_t used = parser.put(asio::buffer(input.data(), input.size()), ec);
    if (in_header && (!ec || ec == beast_http::error::need_more)) {
      if (HasObsFold(input.substr(0, used))) {
        ec = beast_http::error::bad_value;
      } else if (ec) {
        if (HasBareLineEnd(input.substr(used))) ec = beast_http::error::bad_line_ending;
      } else if (parser.is_header_done()) {
        ec = CheckFraming(parser.get());
      }
    }
    buffer_.consume(used);
    if (ec == beast_http::error::need_more) break;
    if (ec) {
      FailRequest(ec);
      return;
    }
    if (parser.is_done()) {
      OnRequest();
      return;
    }
    if (used == 0) break;
  }
  if (parser.is_header_done() && !continue_sent_ && ExpectsContinue()) {
    SendContinue();
    return;
  }
  ReadMore();
}

template <typename Stream>
bool Connection<Stream>::ExpectsContinue() const {
  const Request& request = parser_->get();
  return request.version() >= 11 &&
         beast::iequals(request[beast_http::field::expect], "100-continue");
}

template <typename Stream>
void Connection<Stream>::SendContinue() {
  continue_sent_ = true;
  asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
                      if (self->state_ == State::kClosed) return;
                      if (ec) {
                        self->Close();
                        return;
                      }
                      self->ReadMore();
                    });
}

template <typename Stream>
void Connection<Stream>::OnRequest() {
  const Request& request = parser_->get();
  request_version_ = request.version();
  request_keep_alive_ = request.keep_alive();
  request_is_head_ = request.method() == beast_http::verb::head;
  state_ = State::kHandling;
  deadline_ = CoarseClock::time_point::max();
  // The boundary: nothing the handler throws goes further. If it threw before answering, the
  // Responder it was given has been destroyed on the way out, which answers 500.
  try {
    net_thread_.handler()(parser_->release(), peer_, Responder(this->shared_from_this()));
  } catch (const std::exception& e) {
    log::Error("http: handler threw: {}", e.what());
  } catch (...) {
    log::Error("http: handler threw a non-standard exception");
  }
}

template <typename Stream>
void Connection<Stream>::Send(Response&& response) {
  // Runs inline when called on this connection's own thread, else hops there.
  asio::dispatch(stream_.get_executor(),
                 [self = this->shared_from_this(), r = std::move(response)]() mutable {
                   self->OnResponse(std::move(r));
                 });
}

template <typename Stream>
void Connection<Stream>::OnResponse(Response&& response) {
  if (state_ != State::kHandling) return;  // closed meanwhile: timeout or shutdown
  // A handler may ask for the connection to close (`Connection: close`); it cannot keep open
  // one the client or the shutdown closes.
  const bool keep_alive = request_keep_alive_ && response.keep_alive() && !net_thread_.stopping();
  try {
    PrepareResponse(response, request_version_, keep_alive);
    response_ = std::move(response);
  } catch (const std::exception& e) {  // e.g. a body on a 204
    log::Error("http: handler gave a response that cannot be sent: {}", e.what());
    response_ = MakeErrorResponse(beast_http::status::internal_server_error, StatusCode::kInternal,
                                  "internal error");
    Write(/*keep_alive=*/false, /*linger=*/false);
    return;
  }
  Write(keep_alive, /*linger=*/false);
}

template <typename Stream>
void Connection<Stream>::FailRequest(const beast::error_code& ec) {
  beast_http::status status = beast_http::status::bad_request;
  StatusCode code = StatusCode::kInvalidArgument;
  std::string_view message = "malformed request";
  if ((ec == beast_http::error::header_limit || ec == beast_http::error::buffer_overflow) &&
      RequestLineTooLong(parser_->get(), View(buffer_.data()),
                         net_thread_.limits().max_header_bytes)) {
    status = beast_http::status::uri_too_long;
    code = StatusCode::kResourceExhausted;
    message = "request target too long";
  } else if (ec == beast_http::error::header_limit || ec == beast_http::error::buffer_overflow) {
    status = beast_http::status::request_header_fields_too_large;
    code = StatusCode::kResourceExhausted;
    message = "request headers too large";
  } else if (ec == beast_http::error::body_limit) {
    status = beast_http::status::payload_too_large;
    code = StatusCode::kResourceExhausted;
    message = "request body too large";
  }
  log::Debug("http: {} for {}:{}: {}", static_cast<unsigned>(status), peer_.address, peer_.port,
             ec.message());
  response_ = MakeErrorResponse(status, code, message);
  Write(/*keep_alive=*/false, /*linger=*/true);
}

template <typename Stream>
void Connection<Stream>::Write(bool keep_alive, bool linger) {
  keep_alive_ = keep_alive;
  linger_ = linger;
  state_ = State::kWriting;
  deadline_ = CoarseClock::now() + net_thread_.limits().write_timeout;
  Serialize(response_, !request_is_head_, out_);
  asio::async_write(stream_, asio::buffer(out_),
                    [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
                      self->OnWrite(ec);
                    });
}

template <typename Stream>
void Connection<Stream>::OnWrite(const beast::error_code& ec) {
  if (state_ == State::kClosed) return;
  response_ = Response();  // do not keep a body around while idle
  if (out_.capacity() > kMaxKeptOutputBytes) std::string().swap(out_);
  if (ec) {
    Close();
    return;
  }
  if (linger_) {
    Linger();
    return;
  }
  if (!keep_alive_ || net_thread_.stopping()) {
    if constexpr (kTls) {
      Linger();  // close_notify first
    } else {
      beast::error_code ignored;
      socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      Close();
    }
    return;
  }
  NextRequest();
}

template <typename Stream>
void Connection<Stream>::Linger() {
  state_ = State::kLingering;
  deadline_ = CoarseClock::now() + kLingerTime;
  buffer_.clear();
  if constexpr (kTls) {
    // Sends close_notify, then waits for the client's close_notify or end of stream; a client
    // that sends neither is cut off by the sweep, after kLingerTime.
    stream_.async_shutdown(
        [self = this->shared_from_this()](const beast::error_code&) { self->Close(); });
  } else {
    beast::error_code ignored;
    socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    ReadMore();
  }
}

template <typename Stream>
void Connection<Stream>::NextRequest() {
  ResetParser();
  if (buffer_.size() > 0) {  // a pipelined request is already here
    state_ = State::kReading;
    deadline_ = CoarseClock::now() + net_thread_.limits().header_timeout;
    Parse();
    return;
  }
  state_ = State::kWaiting;
  deadline_ = CoarseClock::now() + net_thread_.limits().idle_timeout;
  ReadMore();
}

void StartConnection(NetworkThread& net_thread, TcpSocket socket, asio::ssl::context* tls) {
  // Creating the connection here and starting it on its own thread keeps the accept loop short;
  // with one thread, dispatch runs it inline.
  if (tls != nullptr) {
    auto connection =
        std::make_shared<Connection<TlsStream>>(net_thread, TlsStream(std::move(socket), *tls));
    asio::dispatch(net_thread.context(),
                   [connection = std::move(connection)] { connection->Start(); });
    return;
  }
  auto connection = std::make_shared<Connection<TcpSocket>>(net_thread, std::move(socket));
  asio::dispatch(net_thread.context(),
                 [connection = std::move(connection)] { connection->Start(); });
}

template class Connection<TcpSocket>;
template class Connection<TlsStream>;

}  // namespace keyward::http
