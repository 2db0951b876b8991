#include "http/listener.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <charconv>
#include <memory>
#include <string_view>
#include <utility>

#include "common/log.h"
#include "http/network_thread.h"

namespace keyward::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// How long to wait before accepting again when the process or the system is out of file
// descriptors or memory; accepting at once would only spin.
constexpr std::chrono::milliseconds kExhaustedBackoff{50};

Result<std::uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || err != std::errc() || end != text.data() + text.size() || value > 65535) {
    return Status::InvalidArgument(fmt::format("bad port \"{}\"", text));
  }
  return static_cast<std::uint16_t>(value);
}

// "127.0.0.1:8080", "[::1]:8080", "localhost:8080" (IPv4 loopback). Names are not resolved.
Result<tcp::endpoint> ParseHostPort(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") {
      return Status::InvalidArgument(fmt::format("bad listen address \"{}\"", text));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.substr(0, colon).find(':') != std::string::npos) {
      return Status::InvalidArgument(
          fmt::format("bad listen address \"{}\": want host:port or [v6]:port", text));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  KW_ASSIGN_OR_RETURN(const std::uint16_t port_number, ParsePort(port));
  if (host == "localhost") return tcp::endpoint(asio::ip::address_v4::loopback(), port_number);
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(std::string(host), ec);
  if (ec) return Status::InvalidArgument(fmt::format("bad listen host \"{}\"", host));
  return tcp::endpoint(address, port_number);
}

bool IsExhaustion(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors ||
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

}  // namespace

Listener::Listener(asio::io_context& context, std::vector<NetworkThread*> net_threads,
                   const Limits& limits, std::atomic<std::size_t>& connections)
    : context_(context),
      net_threads_(std::move(net_threads)),
      limits_(limits),
      connections_(connections),
      acceptor_(context.get_executor()),
      backoff_timer_(context.get_executor()) {}

Status Listener::Listen(const std::string& host_port) {
  if (acceptor_.is_open()) return Status::InvalidArgument("already listening");
  KW_ASSIGN_OR_RETURN(const tcp::endpoint endpoint, ParseHostPort(host_port));
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) port_ = acceptor_.local_endpoint(ec).port();
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return Status::Unavailable(fmt::format("cannot listen on {}", host_port), ec.message());
  }
  log::Info("http: listening on {}:{}{}", endpoint.address().to_string(), port_,
            tls_ != nullptr ? " (TLS)" : "");
  return Status::Ok();
}

void Listener::Start() {
  asio::post(context_, [this] {
    if (acceptor_.is_open()) Accept();
  });
}

void Listener::Close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  backoff_timer_.cancel();
}

void Listener::Accept() {
  NetworkThread& net_thread = *net_threads_[next_net_thread_];
  next_net_thread_ = (next_net_thread_ + 1) % net_threads_.size();
  acceptor_.async_accept(
      net_thread.context(),
      [this, &net_thread](const boost::system::error_code& ec, TcpSocket socket) {
        OnAccept(ec, std::move(socket), net_thread);
      });
}

void Listener::OnAccept(const boost::system::error_code& ec, TcpSocket socket,
                        NetworkThread& net_thread) {
  if (!acceptor_.is_open()) return;  // stopped
  if (ec) {
    BackOff(ec);
    return;
  }
  Admit(std::move(socket), net_thread);
  Accept();
}

void Listener::Admit(TcpSocket socket, NetworkThread& net_thread) {
  if (connections_.fetch_add(1, std::memory_order_relaxed) >= limits_.max_connections) {
    connections_.fetch_sub(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    socket.close(ignored);
    log::Debug("http: connection limit ({}) reached; closed a new connection",
               limits_.max_connections);
    return;
  }
  // The connection now holds the slot counted above.
  StartConnection(net_thread, std::move(socket), tls_);
}

void Listener::BackOff(const boost::system::error_code& ec) {
  if (ec == asio::error::operation_aborted) return;
  if (!IsExhaustion(ec)) {
    log::Warn("http: accept failed: {}", ec.message());
    Accept();
    return;
  }
  log::Error("http: accept failed: {}; retrying in {} ms", ec.message(), kExhaustedBackoff.count());
  backoff_timer_.expires_after(kExhaustedBackoff);
  backoff_timer_.async_wait([this](const boost::system::error_code& wait_ec) {
    if (!wait_ec && acceptor_.is_open()) Accept();
  });
}

}  // namespace keyward::http
