// The fixture of the transport's tests: a Server on a thread of its own, with a handler that
// echoes "METHOD TARGET BODY" and a few special targets (see Handle).
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status_matchers.h"
#include "common/thread_annotations.h"
#include "http/server.h"
#include "http/test_client.h"

namespace keyward::http::test {

inline Response TextResponse(std::string body) {
  Response response(beast_http::status::ok, 11);
  response.set(beast_http::field::content_type, "text/plain");
  response.body() = std::move(body);
  return response;
}

inline std::string Echo(const Request& request) {
  return fmt::format("{} {} {}", request.method_string(), request.target(), request.body());
}

// Runs a Server on a thread of its own; TearDown stops it and releases held Responders first.
class ServerTest : public ::testing::Test {
 protected:
  static Limits ShortLimits() {
    Limits limits;
    limits.header_timeout = 300ms;
    limits.idle_timeout = 300ms;
    limits.write_timeout = 300ms;
    limits.sweep_interval = 50ms;
    limits.shutdown_grace = 300ms;
    return limits;
  }

  void StartServer(Limits limits = {}, int threads = 1) {
    server_ = std::make_unique<Server>(
        limits,
        [this](Request&& request, const Peer& peer, Responder respond) {
          Handle(std::move(request), peer, std::move(respond));
        },
        threads);
    const Status status = server_->Listen("127.0.0.1:0");
    ASSERT_THAT(status, IsOk());
    ASSERT_NE(server_->port(), 0);
    run_done_ = run_returned_.get_future();
    runner_ = std::thread([this] {
      server_->Run();
      run_returned_.set_value();
    });
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
    if (runner_.joinable()) runner_.join();
    {
      MutexLock lock(mu_);
      held_.clear();  // every Responder goes before the Server
    }
    pool_.join();
    server_.reset();
  }

  bool RunReturnsWithin(milliseconds timeout) {
    return run_done_.valid() && run_done_.wait_for(timeout) == std::future_status::ready;
  }

  // Polls `done` until it holds or `timeout` passes.
  static bool Eventually(const std::function<bool()>& done, milliseconds timeout = kIoTimeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (!done()) {
      if (steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  Client Connect() { return Client(server_->port()); }

  // /drop drops the Responder; /throw throws; /hold keeps the Responder in held_; /peer answers
  // "address:port"; /close answers with `Connection: close`; /nocontent answers 204 (and
  // /badnocontent a 204 with a body); /big answers 64 MiB; /delay/<ms> answers from a pool thread
  // after <ms>; anything else echoes "METHOD TARGET BODY".
  void Handle(Request&& request, const Peer& peer, Responder respond) {
    {
      MutexLock lock(mu_);
      handler_threads_.insert(std::this_thread::get_id());
    }
    ++handler_calls_;
    const std::string target(request.target());
    if (target == "/drop") return;
    if (target == "/throw") throw std::runtime_error("handler failure");
    if (target == "/hold") {
      MutexLock lock(mu_);
      held_.push_back(std::move(respond));
      return;
    }
    if (target == "/peer") {
      respond(TextResponse(fmt::format("{}:{}", peer.address, peer.port)));
      return;
    }
    if (target == "/close") {
      Response response = TextResponse("bye");
      response.keep_alive(false);
      respond(std::move(response));
      return;
    }
    if (target == "/nocontent" || target == "/badnocontent") {
      Response response(beast_http::status::no_content, 11);
      if (target == "/badnocontent") response.body() = "not allowed";
      respond(std::move(response));
      return;
    }
    if (target == "/big") {
      respond(TextResponse(std::string(64 << 20, 'x')));
      return;
    }
    if (target.starts_with("/delay/")) {
      const milliseconds delay(std::stoi(target.substr(7)));
      asio::post(pool_, [delay, body = Echo(request), respond = std::move(respond)]() mutable {
        std::this_thread::sleep_for(delay);
        respond(TextResponse(body));
      });
      return;
    }
    respond(TextResponse(Echo(request)));
  }

  asio::thread_pool pool_{2};
  std::unique_ptr<Server> server_;
  std::thread runner_;
  std::promise<void> run_returned_;
  std::future<void> run_done_;
  std::atomic<int> handler_calls_{0};
  Mutex mu_;
  std::vector<Responder> held_ GUARDED_BY(mu_);
  std::set<std::thread::id> handler_threads_ GUARDED_BY(mu_);
};

inline void ExpectJsonError(const Response& response, beast_http::status status,
                            std::string_view code) {
  EXPECT_EQ(response.result(), status);
  EXPECT_EQ(response[beast_http::field::content_type], "application/json");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_NE(response.body().find(fmt::format(R"("code":"{}")", code)), std::string::npos)
      << response.body();
}

}  // namespace keyward::http::test
