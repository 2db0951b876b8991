#include "http/session.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
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
#include "http/worker.h"

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

}  // namespace

Session::Session(Worker& worker, TcpSocket socket) : worker_(worker), socket_(std::move(socket)) {}

Session::~Session() {
  // Normally Close() already ran on the worker thread. Only when the io_context is destroyed
  // with this session's handlers still queued does that not happen.
  ReleaseSlot();
}

void Session::ReleaseSlot() {
  if (!holds_slot_) return;
  holds_slot_ = false;
  worker_.connections().fetch_sub(1, std::memory_order_relaxed);
}

void Session::Start() {
  worker_.Add(*this);
  if (worker_.stopping()) {
    Close();
    return;
  }
  beast::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  const auto endpoint = socket_.remote_endpoint(ec);
  if (ec) {  // the peer is already gone
    Close();
    return;
  }
  peer_.address = endpoint.address().to_string();
  peer_.port = endpoint.port();
  buffer_.reserve(kInitialBufferBytes);
  ResetParser();
  // Waiting for the first request counts against the header timeout, not the idle one.
  state_ = State::kWaiting;
  deadline_ = CoarseClock::now() + worker_.limits().header_timeout;
  ReadMore();
}

void Session::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  deadline_ = CoarseClock::time_point::max();
  beast::error_code ignored;
  socket_.close(ignored);
  ReleaseSlot();
  if (hook_.is_linked()) {
    hook_.unlink();
    worker_.OnSessionClosed();
  }
}

void Session::ResetParser() {
  const Limits& limits = worker_.limits();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(limits.max_body_bytes);
  continue_sent_ = false;
}

void Session::ReadMore() {
  const std::size_t size = beast::read_size(buffer_, kMaxReadBytes);
  socket_.async_read_some(
      buffer_.prepare(size),
      [self = shared_from_this()](const beast::error_code& ec, std::size_t bytes) {
        self->OnRead(ec, bytes);
      });
}

void Session::OnRead(const beast::error_code& ec, std::size_t bytes) {
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
    deadline_ = CoarseClock::now() + worker_.limits().header_timeout;
  }
  Parse();
}

void Session::Parse() {
  Parser& parser = *parser_;
  while (buffer_.size() > 0) {
    beast::error_code ec;
    const std::size_t used = parser.put(buffer_.data(), ec);
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

bool Session::ExpectsContinue() const {
  const Request& request = parser_->get();
  return request.version() >= 11 &&
         beast::iequals(request[beast_http::field::expect], "100-continue");
}

void Session::SendContinue() {
  continue_sent_ = true;
  asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                      if (self->state_ == State::kClosed) return;
                      if (ec) {
                        self->Close();
                        return;
                      }
                      self->ReadMore();
                    });
}

void Session::OnRequest() {
  const Request& request = parser_->get();
  request_version_ = request.version();
  request_keep_alive_ = request.keep_alive();
  request_is_head_ = request.method() == beast_http::verb::head;
  state_ = State::kHandling;
  deadline_ = CoarseClock::time_point::max();
  // The boundary: nothing the handler throws goes further. If it threw before answering, the
  // Responder it was given has been destroyed on the way out, which answers 500.
  try {
    worker_.handler()(parser_->release(), peer_, Responder(shared_from_this()));
  } catch (const std::exception& e) {
    log::Error("http: handler threw: {}", e.what());
  } catch (...) {
    log::Error("http: handler threw a non-standard exception");
  }
}

void Session::Send(Response&& response) {
  // Runs inline when called on this session's own thread, else hops there.
  asio::dispatch(socket_.get_executor(),
                 [self = shared_from_this(), r = std::move(response)]() mutable {
                   self->OnResponse(std::move(r));
                 });
}

void Session::OnResponse(Response&& response) {
  if (state_ != State::kHandling) return;  // closed meanwhile: timeout or shutdown
  // A handler may ask for the connection to close (`Connection: close`); it cannot keep open
  // one the client or the shutdown closes.
  const bool keep_alive = request_keep_alive_ && response.keep_alive() && !worker_.stopping();
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

void Session::FailRequest(const beast::error_code& ec) {
  beast_http::status status = beast_http::status::bad_request;
  StatusCode code = StatusCode::kInvalidArgument;
  std::string_view message = "malformed request";
  if (ec == beast_http::error::header_limit || ec == beast_http::error::buffer_overflow) {
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

void Session::Write(bool keep_alive, bool linger) {
  keep_alive_ = keep_alive;
  linger_ = linger;
  state_ = State::kWriting;
  deadline_ = CoarseClock::now() + worker_.limits().write_timeout;
  Serialize(response_, !request_is_head_, out_);
  asio::async_write(
      socket_, asio::buffer(out_),
      [self = shared_from_this()](const beast::error_code& ec, std::size_t) { self->OnWrite(ec); });
}

void Session::OnWrite(const beast::error_code& ec) {
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
  if (!keep_alive_ || worker_.stopping()) {
    beast::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    Close();
    return;
  }
  NextRequest();
}

void Session::Linger() {
  beast::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  state_ = State::kLingering;
  deadline_ = CoarseClock::now() + kLingerTime;
  buffer_.clear();
  ReadMore();
}

void Session::NextRequest() {
  ResetParser();
  if (buffer_.size() > 0) {  // a pipelined request is already here
    state_ = State::kReading;
    deadline_ = CoarseClock::now() + worker_.limits().header_timeout;
    Parse();
    return;
  }
  state_ = State::kWaiting;
  deadline_ = CoarseClock::now() + worker_.limits().idle_timeout;
  ReadMore();
}

}  // namespace keyward::http
