// A small blocking HTTP client for the transport's tests: raw bytes out, Beast-parsed
// responses in, every wait bounded so that a hung server fails a test instead of hanging it.
//
// Not thread safe: one Client per test thread.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/server.h"

namespace keyward::http::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

// How long a read waits by default.
constexpr milliseconds kIoTimeout = 3s;

inline std::string RawRequest(std::string_view method, std::string_view target,
                              std::string_view body = {}, std::string_view extra_headers = {}) {
  return fmt::format("{} {} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n{}\r\n{}", method,
                     target, body.size(), extra_headers, body);
}

// A small blocking client on its own io_context; every wait is bounded by a timeout.
class Client {
 public:
  explicit Client(std::uint16_t port, const char* address = "127.0.0.1") : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address(address), port));
  }

  std::uint16_t local_port() const { return socket_.local_endpoint().port(); }

  void SendRaw(std::string_view bytes) {
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()));
  }

  // Reads the next response; an error when the connection ends first or nothing comes.
  beast::error_code Read(Response& response, milliseconds timeout = kIoTimeout) {
    response = {};
    return RunFor(timeout, [&](auto handler) {
      beast::http::async_read(socket_, buffer_, response, std::move(handler));
    });
  }

  // Reads the next response to a HEAD request: its headers only, as HTTP says.
  beast::error_code ReadHead(Response& response, milliseconds timeout = kIoTimeout) {
    auto parser = std::make_shared<beast::http::response_parser<beast::http::string_body>>();
    parser->skip(true);
    beast::error_code ec = RunFor(timeout, [&](auto handler) {
      beast::http::async_read(socket_, buffer_, *parser, std::move(handler));
    });
    response = parser->release();
    return ec;
  }

  // Sends a request and reads its response, failing the test on a transport error.
  Response RoundTrip(std::string_view raw) {
    SendRaw(raw);
    Response response;
    const beast::error_code ec = Read(response);
    EXPECT_FALSE(ec) << ec.message();
    return response;
  }

  // True when the server closes the connection (end of stream or reset) within `timeout`.
  // Counts, in `bytes`, what still arrived before that.
  bool WaitClosed(milliseconds timeout, std::size_t* bytes = nullptr) {
    const auto deadline = steady_clock::now() + timeout;
    std::array<char, 64 * 1024> data;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
      if (left <= 0ms) return false;
      std::size_t got = 0;
      const beast::error_code ec = RunFor(left, [&](auto handler) {
        socket_.async_read_some(asio::buffer(data),
                                [&got, handler](const beast::error_code& e, std::size_t n) {
                                  got = n;
                                  handler(e, n);
                                });
      });
      if (bytes != nullptr) *bytes += got;
      if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
      if (ec) return false;
    }
  }

 private:
  template <typename Start>
  beast::error_code RunFor(milliseconds timeout, Start start) {
    std::optional<beast::error_code> result;
    start([&result](const beast::error_code& ec, std::size_t) { result = ec; });
    io_.restart();
    io_.run_for(timeout);
    if (result) return *result;
    socket_.cancel();
    io_.restart();
    io_.run();
    return asio::error::timed_out;
  }

  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

}  // namespace keyward::http::test
