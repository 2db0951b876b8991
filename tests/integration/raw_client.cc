#include "raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <cerrno>

namespace keyward::testing {

namespace bhttp = boost::beast::http;

std::string RawResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

RawConnection::RawConnection(std::uint16_t port, std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(std::string_view bytes) {
  if (fd_ < 0) return false;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void RawConnection::ShutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

long RawConnection::Receive() {
  if (fd_ < 0) return -1;
  pollfd p{fd_, POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, static_cast<int>(timeout_.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return -1;
  char chunk[16 * 1024];
  ssize_t n;
  do {
    n = ::recv(fd_, chunk, sizeof chunk, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
  return n;
}

std::optional<RawResponse> RawConnection::Read(bool head) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.body_limit(64 * 1024 * 1024);
  if (head) parser.skip(true);
  for (;;) {
    while (!buffer_.empty()) {
      boost::beast::error_code ec;
      std::size_t used = parser.put(boost::asio::buffer(buffer_), ec);
      buffer_.erase(0, used);
      if (ec == bhttp::error::need_more) break;
      if (ec) return std::nullopt;
      if (parser.is_done()) break;
      if (used == 0) break;
    }
    if (parser.is_done()) break;
    long n = Receive();
    if (n == 0 && parser.got_some()) {  // a body that runs to the end of the stream
      boost::beast::error_code ec;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) return std::nullopt;
      break;
    }
    if (n <= 0) return std::nullopt;
  }
  const auto& res = parser.get();
  RawResponse out;
  out.status = static_cast<int>(res.result_int());
  out.reason = std::string(res.reason());
  out.body = res.body();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  return out;
}

bool RawConnection::ReadsEndOfStream() {
  if (!buffer_.empty()) return false;
  return Receive() == 0 && buffer_.empty();
}

RawResponse RawExchange(std::uint16_t port, std::string_view request, bool head) {
  RawConnection connection(port);
  if (!connection.Send(request)) {
    // The server may have answered and closed before taking all of it: read what it said.
    auto early = connection.Read(head);
    return early ? *early : RawResponse{};
  }
  auto response = connection.Read(head);
  return response ? *response : RawResponse{};
}

}  // namespace keyward::testing
