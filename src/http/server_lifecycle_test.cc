// Connections over time: timeouts, the connection limit, threads, Listen and Stop.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status_matchers.h"
#include "http/server.h"
#include "http/server_test_fixture.h"
#include "http/test_client.h"

namespace keyward::http::test {
namespace {

TEST_F(ServerTest, HeaderTimeoutClosesAHalfSentRequest) {
  Limits limits = ShortLimits();
  limits.idle_timeout = 10s;  // so that only the header timeout can close it
  StartServer(limits);
  Client client = Connect();
  EXPECT_EQ(client.RoundTrip(RawRequest("GET", "/first")).body(), "GET /first ");
  const auto start = steady_clock::now();
  client.SendRaw("GET /slow HT");
  EXPECT_TRUE(client.WaitClosed(2s));
  EXPECT_GE(steady_clock::now() - start, 250ms);
  EXPECT_EQ(handler_calls_, 1);
}

TEST_F(ServerTest, IdleTimeoutClosesAnIdleKeepAliveConnection) {
  Limits limits = ShortLimits();
  limits.header_timeout = 10s;  // so that only the idle timeout can close it
  StartServer(limits);
  Client client = Connect();
  client.SendRaw("G");  // a started request waits on the header timeout: not closed
  std::this_thread::sleep_for(500ms);
  client.SendRaw(RawRequest("ET", "/first"));
  Response response;
  ASSERT_FALSE(client.Read(response));
  EXPECT_EQ(response.body(), "GET /first ");
  const auto start = steady_clock::now();
  EXPECT_TRUE(client.WaitClosed(2s));
  EXPECT_GE(steady_clock::now() - start, 250ms);
}

TEST_F(ServerTest, WriteTimeoutClosesAClientThatDoesNotRead) {
  StartServer(ShortLimits());
  Client client = Connect();
  client.SendRaw(RawRequest("GET", "/big"));
  // The client reads nothing, so the socket buffers fill and the 64 MiB write stalls until the
  // sweep closes the connection. Waiting on the server's own count, not on a fixed sleep, keeps
  // this right on a slow (sanitizer) build: reading first would let the write go on.
  ASSERT_TRUE(Eventually([&] { return server_->connections() == 1; }));  // accepted
  ASSERT_TRUE(Eventually([&] { return server_->connections() == 0; }, 10s));
  std::size_t bytes = 0;
  EXPECT_TRUE(client.WaitClosed(kIoTimeout, &bytes));
  EXPECT_LT(bytes, std::size_t{64} << 20);
}

TEST_F(ServerTest, ConnectionLimitClosesExtraConnections) {
  Limits limits;
  limits.max_connections = 2;
  StartServer(limits);
  Client first = Connect();
  Client second = Connect();
  EXPECT_EQ(first.RoundTrip(RawRequest("GET", "/1")).body(), "GET /1 ");
  EXPECT_EQ(second.RoundTrip(RawRequest("GET", "/2")).body(), "GET /2 ");
  Client third = Connect();
  EXPECT_TRUE(third.WaitClosed(kIoTimeout));
  EXPECT_EQ(first.RoundTrip(RawRequest("GET", "/1b")).body(), "GET /1b ");
  EXPECT_EQ(second.RoundTrip(RawRequest("GET", "/2b")).body(), "GET /2b ");
  EXPECT_EQ(handler_calls_, 4);
}

TEST_F(ServerTest, ConnectionLimitFreesTheSlotOfAClosedConnection) {
  Limits limits;
  limits.max_connections = 1;
  StartServer(limits);
  {
    Client first = Connect();
    EXPECT_EQ(first.RoundTrip(RawRequest("GET", "/1")).body(), "GET /1 ");
  }
  EXPECT_TRUE(Eventually([&] {
    Client next = Connect();
    next.SendRaw(RawRequest("GET", "/2"));
    Response response;
    return !next.Read(response) && response.body() == "GET /2 ";
  }));
}

TEST_F(ServerTest, ThreadsShareConnectionsRoundRobin) {
  StartServer({}, 4);
  std::vector<std::thread> clients;
  clients.reserve(8);
  std::atomic<int> ok{0};
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([this, c, &ok] {
      Client client = Connect();
      for (int i = 0; i < 20; ++i) {
        const std::string target = fmt::format("/{}/{}", c, i);
        if (client.RoundTrip(RawRequest("GET", target)).body() == "GET " + target + " ") ++ok;
      }
    });
  }
  for (auto& thread : clients) thread.join();
  EXPECT_EQ(ok, 160);
  MutexLock lock(mu_);
  EXPECT_EQ(handler_threads_.size(), 4u);
}

TEST_F(ServerTest, StopLetsAnInFlightRequestFinish) {
  StartServer();
  Client client = Connect();
  client.SendRaw(RawRequest("GET", "/delay/300"));
  ASSERT_TRUE(Eventually([&] { return handler_calls_ == 1; }));
  server_->Stop();
  Response response;
  ASSERT_FALSE(client.Read(response));
  EXPECT_EQ(response.body(), "GET /delay/300 ");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.WaitClosed(kIoTimeout));
  EXPECT_TRUE(RunReturnsWithin(kIoTimeout));
}

TEST_F(ServerTest, StopClosesAnUnansweredRequestAfterTheGrace) {
  StartServer(ShortLimits());
  Client client = Connect();
  client.SendRaw(RawRequest("GET", "/hold"));
  ASSERT_TRUE(Eventually([&] { return handler_calls_ == 1; }));
  const auto start = steady_clock::now();
  server_->Stop();
  EXPECT_TRUE(RunReturnsWithin(2s));
  EXPECT_GE(steady_clock::now() - start, 250ms);
  EXPECT_TRUE(client.WaitClosed(kIoTimeout));
}

TEST_F(ServerTest, StopReturnsPromptlyWithIdleConnections) {
  StartServer();  // default limits: a 60 s idle timeout and a 5 s grace
  Client first = Connect();
  Client second = Connect();
  EXPECT_EQ(first.RoundTrip(RawRequest("GET", "/1")).body(), "GET /1 ");
  Client fresh = Connect();  // connected, nothing sent
  const auto start = steady_clock::now();
  server_->Stop();
  server_->Stop();  // a second call is harmless
  EXPECT_TRUE(RunReturnsWithin(1s));
  EXPECT_LT(steady_clock::now() - start, 1s);
  EXPECT_TRUE(first.WaitClosed(1s));
  EXPECT_TRUE(second.WaitClosed(1s));
  EXPECT_TRUE(fresh.WaitClosed(1s));
}

TEST_F(ServerTest, StopBeforeRunMakesRunReturn) {
  server_ = std::make_unique<Server>(
      Limits{}, [](Request&&, const Peer&, Responder) {}, 2);
  ASSERT_THAT(server_->Listen("127.0.0.1:0"), IsOk());
  server_->Stop();
  run_done_ = run_returned_.get_future();
  runner_ = std::thread([this] {
    server_->Run();
    run_returned_.set_value();
  });
  EXPECT_TRUE(RunReturnsWithin(1s));
}

TEST(ServerListenTest, RejectsMalformedAddresses) {
  Server server(
      Limits{}, [](Request&&, const Peer&, Responder) {}, 1);
  for (const char* bad : {"", "nonsense", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http",
                          "127.0.0.1:65536", "1.2.3.4.5:80", "::1:80", "[::1:80", "[::1]80"}) {
    EXPECT_THAT(server.Listen(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(ServerListenTest, PortInUseIsUnavailable) {
  Server first(
      Limits{}, [](Request&&, const Peer&, Responder) {}, 1);
  ASSERT_THAT(first.Listen("127.0.0.1:0"), IsOk());
  Server second(
      Limits{}, [](Request&&, const Peer&, Responder) {}, 1);
  EXPECT_EQ(second.Listen(fmt::format("127.0.0.1:{}", first.port())).code(),
            StatusCode::kUnavailable);
  EXPECT_THAT(first.Listen("127.0.0.1:0"), StatusIs(StatusCode::kInvalidArgument));  // twice
}

TEST_F(ServerTest, ServesIpv6Loopback) {
  server_ = std::make_unique<Server>(
      Limits{},
      [](Request&&, const Peer& peer, Responder respond) {
        respond(TextResponse(fmt::format("{}:{}", peer.address, peer.port)));
      },
      1);
  const Status status = server_->Listen("[::1]:0");
  if (status.code() == StatusCode::kUnavailable) GTEST_SKIP() << "no IPv6: " << status.ToString();
  ASSERT_THAT(status, IsOk());
  run_done_ = run_returned_.get_future();
  runner_ = std::thread([this] {
    server_->Run();
    run_returned_.set_value();
  });
  Client client(server_->port(), "::1");
  EXPECT_EQ(client.RoundTrip(RawRequest("GET", "/")).body(),
            "::1:" + std::to_string(client.local_port()));
}

}  // namespace
}  // namespace keyward::http::test
