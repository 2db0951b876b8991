#include "load_client.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <mutex>
#include <thread>

namespace keyward::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

struct KeepAliveClient::Impl {
  std::uint16_t port;
  std::string source;
  asio::io_context ioc;
  asio::ip::tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  bool Connect() {
    boost::system::error_code ec;
    socket.close(ec);
    buffer.clear();
    socket.open(asio::ip::tcp::v4(), ec);
    if (!ec && !source.empty()) socket.bind({asio::ip::make_address(source), 0}, ec);
    if (!ec) socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) {
      // A server that never answers fails the request (status 0) instead of hanging the test.
      timeval tv{10, 0};
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    connected = !ec;
    return connected;
  }

  HttpResult Exchange(const bhttp::request<bhttp::string_body>& req) {
    HttpResult out;
    boost::system::error_code ec;
    bhttp::write(socket, req, ec);
    if (ec) return out;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    bhttp::read(socket, buffer, parser, ec);
    if (ec) return out;
    const auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(field.value());
    }
    if (!res.keep_alive()) connected = false;
    return out;
  }
};

KeepAliveClient::KeepAliveClient(std::uint16_t port, std::string source)
    : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->source = std::move(source);
}

KeepAliveClient::~KeepAliveClient() = default;

HttpResult KeepAliveClient::Send(const std::string& method, const std::string& target,
                                 const HeaderList& headers, const std::string& body) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.insert(name, value);
  if (!body.empty()) {
    if (req.find(bhttp::field::content_type) == req.end()) {
      req.set(bhttp::field::content_type, "application/json");
    }
    req.body() = body;
  }
  req.keep_alive(true);
  req.prepare_payload();
  const bool fresh = !impl_->connected;
  if (fresh && !impl_->Connect()) return {};
  HttpResult out = impl_->Exchange(req);
  // A kept-alive connection the server closed meanwhile: once more on a new one.
  if (out.status == 0 && !fresh && impl_->Connect()) out = impl_->Exchange(req);
  return out;
}

int LoadResult::CountStatus(int status) const {
  return static_cast<int>(std::count_if(replies.begin(), replies.end(), [status](const auto& r) {
    return r.result.status == status;
  }));
}

LoadResult RunPacedLoad(const std::vector<std::uint16_t>& ports, const LoadRequest& request,
                        int connections, double rate, double seconds) {
  LoadResult result;
  std::mutex mu;
  // Connected before the clock starts, so that connecting is not part of the window.
  std::vector<std::unique_ptr<KeepAliveClient>> clients;
  clients.reserve(static_cast<std::size_t>(connections));
  for (int c = 0; c < connections; ++c) {
    clients.push_back(std::make_unique<KeepAliveClient>(ports[c % ports.size()]));
  }
  const auto total = static_cast<long>(rate * seconds);
  result.start = LoadClock::now() + std::chrono::milliseconds(20);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(connections));
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      std::vector<LoadReply> mine;
      for (long i = c; i < total; i += connections) {
        const auto due =
            result.start + std::chrono::duration_cast<LoadClock::duration>(
                               std::chrono::duration<double>(static_cast<double>(i) / rate));
        std::this_thread::sleep_until(due);
        LoadReply reply;
        reply.port_index = static_cast<std::size_t>(c) % ports.size();
        reply.sent = LoadClock::now();
        reply.result =
            clients[c]->Send(request.method, request.target, request.headers, request.body);
        reply.answered = LoadClock::now();
        mine.push_back(std::move(reply));
      }
      std::lock_guard lock(mu);
      for (auto& r : mine) result.replies.push_back(std::move(r));
    });
  }
  for (auto& t : threads) t.join();
  result.end = result.start;
  for (const auto& r : result.replies) result.end = std::max(result.end, r.answered);
  return result;
}

}  // namespace keyward::testing
