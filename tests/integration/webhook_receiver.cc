#include "webhook_receiver.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace keyward::testing {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::string ReceivedHook::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

json::value ReceivedHook::Json() const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return ec ? json::value() : v;
}

std::string ReceivedHook::Type() const {
  const json::value v = Json();
  const auto* t = v.is_object() ? v.as_object().if_contains("type") : nullptr;
  return t != nullptr && t->is_string() ? std::string(t->as_string()) : "";
}

std::string ReceivedHook::Data(const char* member) const {
  const json::value v = Json();
  const auto* d = v.is_object() ? v.as_object().if_contains("data") : nullptr;
  if (d == nullptr || !d->is_object()) return "";
  const auto* m = d->as_object().if_contains(member);
  return m != nullptr && m->is_string() ? std::string(m->as_string()) : "";
}

json::value ReceivedHook::DataValue(const char* member) const {
  const json::value v = Json();
  const auto* d = v.is_object() ? v.as_object().if_contains("data") : nullptr;
  const auto* m = d != nullptr && d->is_object() ? d->as_object().if_contains(member) : nullptr;
  return m != nullptr ? *m : json::value();
}

struct WebhookReceiver::Impl {
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor{ioc};
  std::atomic<bool> stopping{false};
};

WebhookReceiver::WebhookReceiver(Responder responder)
    : impl_(std::make_unique<Impl>()), responder_(std::move(responder)) {
  const asio::ip::tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(at.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(at);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] { Serve(); });
}

WebhookReceiver::~WebhookReceiver() {
  impl_->stopping.store(true);
  // Wakes the blocking accept with a connection of our own. Without it the join would wait for
  // ever, so a failure to make one ends the test run at once, saying why.
  try {
    boost::system::error_code ec;
    asio::io_context ioc;
    asio::ip::tcp::socket wake(ioc);
    wake.connect({asio::ip::address_v4::loopback(), port_}, ec);
    wake.close(ec);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "WebhookReceiver: cannot wake the server thread: %s\n", e.what());
    std::abort();
  }
  thread_.join();
}

std::string WebhookReceiver::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void WebhookReceiver::Serve() {
  while (!impl_->stopping.load()) {
    asio::ip::tcp::socket socket(impl_->ioc);
    boost::system::error_code ec;
    impl_->acceptor.accept(socket, ec);
    if (ec || impl_->stopping.load()) continue;
    boost::beast::flat_buffer buffer;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(1 << 20);
    bhttp::read(socket, buffer, parser, ec);
    if (ec) continue;
    const auto& req = parser.get();
    ReceivedHook hook;
    hook.method = std::string(req.method_string());
    hook.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      hook.headers[name] = std::string(field.value());
    }
    hook.body = req.body();
    hook.at = Clock::now();
    HookAnswer answer;
    if (responder_) answer = responder_(hook, static_cast<int>(Count()));
    hook.answered = answer.status;
    Record(hook);
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(answer.status), 11};
    res.set(bhttp::field::connection, "close");
    for (const auto& [name, value] : answer.headers) res.set(name, value);
    res.prepare_payload();
    bhttp::write(socket, res, ec);
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }
}

void WebhookReceiver::Record(ReceivedHook hook) {
  std::lock_guard lock(mu_);
  received_.push_back(std::move(hook));
}

std::vector<ReceivedHook> WebhookReceiver::Received() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::size_t WebhookReceiver::Count() const {
  std::lock_guard lock(mu_);
  return received_.size();
}

bool WebhookReceiver::WaitFor(const std::function<bool(const std::vector<ReceivedHook>&)>& done,
                              std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (!done(Received())) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace keyward::testing
