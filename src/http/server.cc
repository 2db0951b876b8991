#include "http/server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

#include "common/log.h"
#include "http/coarse_clock.h"
#include "http/error_response.h"
#include "http/listener.h"
#include "http/network_thread.h"
#include "http/tls.h"

namespace keyward::http {
namespace {

// Tells the connection that the handler gave up without answering.
void Abandon(detail::ResponseSink& sink) noexcept {
  try {
    sink.Send(MakeErrorResponse(beast_http::status::internal_server_error, StatusCode::kInternal,
                                "internal error"));
  } catch (const std::exception& e) {
    log::Error("http: cannot answer an abandoned request: {}", e.what());
  } catch (...) {
    log::Error("http: cannot answer an abandoned request");
  }
}

}  // namespace

Responder::~Responder() {
  if (sink_ != nullptr) Abandon(*sink_);
}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (sink_ != nullptr) Abandon(*sink_);
    sink_ = std::move(other.sink_);
  }
  return *this;
}

void Responder::operator()(Response&& response) {
  if (sink_ == nullptr) {
    log::Error("http: a Responder was called twice or after being moved from");
    return;
  }
  const std::shared_ptr<detail::ResponseSink> sink = std::move(sink_);
  sink->Send(std::move(response));
}

// Owns the network threads (one io_context and thread each) and the listener on network thread 0's
// context. Members are destroyed listener first, then network threads in order (see ~Impl).
class Server::Impl {
 public:
  Impl(Limits limits, Handler handler, int threads)
      : limits_(limits), handler_(std::move(handler)) {
    const int count = std::max(threads, 1);
    for (int i = 0; i < count; ++i) {
      net_threads_.push_back(std::make_unique<NetworkThread>(limits_, handler_, connections_));
    }
    std::vector<NetworkThread*> net_threads;
    for (const auto& net_thread : net_threads_) net_threads.push_back(net_thread.get());
    listener_ = std::make_unique<Listener>(net_threads_[0]->context(), std::move(net_threads),
                                           limits_, connections_);
  }

  ~Impl() {
    // The listener's pending accept (queued on context 0) holds a socket bound to another
    // network thread's context, so context 0 goes first, while the others still exist.
    listener_.reset();
    for (auto& net_thread : net_threads_) net_thread.reset();
  }

  Status EnableTls(const TlsFiles& files) {
    KW_ASSIGN_OR_RETURN(tls_, MakeTlsContext(files));
    listener_->UseTls(tls_.get());
    return Status::Ok();
  }
  Status Listen(const std::string& host_port) { return listener_->Listen(host_port); }
  std::uint16_t port() const { return listener_->port(); }

  void Run() {
    listener_->Start();
    std::vector<std::thread> threads;
    threads.reserve(net_threads_.size() - 1);
    for (std::size_t i = 1; i < net_threads_.size(); ++i) {
      threads.emplace_back([net_thread = net_threads_[i].get()] { net_thread->Run(); });
    }
    net_threads_[0]->Run();
    for (auto& thread : threads) thread.join();
  }

  std::size_t connections() const { return connections_.load(std::memory_order_relaxed); }

  void Stop() {
    if (stop_requested_.exchange(true)) return;
    const CoarseClock::time_point deadline = CoarseClock::now() + limits_.shutdown_grace;
    // The acceptor is closed first, on its own thread; only then are the network threads told, so
    // that every connection it handed out is started (and then closed) before its network thread
    // finishes.
    boost::asio::post(net_threads_[0]->context(), [this, deadline] {
      listener_->Close();
      for (auto& net_thread : net_threads_) net_thread->Shutdown(deadline);
    });
  }

 private:
  const Limits limits_;
  const Handler handler_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<bool> stop_requested_{false};
  std::unique_ptr<boost::asio::ssl::context> tls_;  // null: plain HTTP; outlives the connections
  std::vector<std::unique_ptr<NetworkThread>> net_threads_;
  std::unique_ptr<Listener> listener_;
};

Server::Server(Limits limits, Handler handler, int threads)
    : impl_(std::make_unique<Impl>(limits, std::move(handler), threads)) {}

Server::~Server() = default;

Status Server::EnableTls(const TlsFiles& files) { return impl_->EnableTls(files); }

Status Server::Listen(const std::string& host_port) { return impl_->Listen(host_port); }

std::uint16_t Server::port() const { return impl_->port(); }

std::size_t Server::connections() const { return impl_->connections(); }

void Server::Run() { impl_->Run(); }

void Server::Stop() { impl_->Stop(); }

}  // namespace keyward::http
