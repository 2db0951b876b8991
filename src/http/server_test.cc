// Requests and responses over real sockets: round trips, keep-alive, pipelining, the
// Responder's contract, and the transport's own 4xx answers.
#include "http/server.h"

#include <gtest/gtest.h>

#include <string>

#include "http/server_test_fixture.h"
#include "http/test_client.h"

namespace keyward::http::test {
namespace {

TEST_F(ServerTest, RoundTrip) {
  StartServer();
  Client client = Connect();
  const Response response = client.RoundTrip(RawRequest("POST", "/echo?x=1", "hello"));
  EXPECT_EQ(response.result(), beast_http::status::ok);
  EXPECT_EQ(response.body(), "POST /echo?x=1 hello");
  EXPECT_EQ(response[beast_http::field::content_length], "20");
  EXPECT_EQ(response[beast_http::field::content_type], "text/plain");
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(response.version(), 11u);
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  Client client = Connect();
  for (int i = 0; i < 100; ++i) {
    const std::string target = "/n/" + std::to_string(i);
    const Response response = client.RoundTrip(RawRequest("GET", target));
    ASSERT_EQ(response.body(), "GET " + target + " ") << "request " << i;
  }
  EXPECT_EQ(handler_calls_, 100);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Client client = Connect();
  // The first answers last if the handler runs them at once: order must still hold.
  client.SendRaw(RawRequest("GET", "/delay/100") + RawRequest("GET", "/b") +
                 RawRequest("POST", "/c", "xyz"));
  for (const char* expected : {"GET /delay/100 ", "GET /b ", "POST /c xyz"}) {
    Response response;
    ASSERT_FALSE(client.Read(response));
    EXPECT_EQ(response.body(), expected);
  }
}

TEST_F(ServerTest, HeadResponsesCarryNoBody) {
  StartServer();
  Client client = Connect();
  // If the HEAD answer carried its body, those bytes would be read as the start of the next
  // response and the GET would not parse.
  client.SendRaw(RawRequest("HEAD", "/h") + RawRequest("GET", "/b"));
  Response head;
  ASSERT_FALSE(client.ReadHead(head));
  EXPECT_EQ(head[beast::http::field::content_length], "8");  // what a GET would carry
  Response get;
  ASSERT_FALSE(client.Read(get));
  EXPECT_EQ(get.body(), "GET /b ");
}

TEST_F(ServerTest, HandlerMayAnswerFromAnotherThreadWithoutADeadline) {
  // The handler takes longer than every timeout: a connection waiting on it is not swept.
  StartServer(ShortLimits());
  Client client = Connect();
  const auto start = steady_clock::now();
  const Response response = client.RoundTrip(RawRequest("POST", "/delay/500", "later"));
  EXPECT_GE(steady_clock::now() - start, 500ms);
  EXPECT_EQ(response.result(), beast_http::status::ok);
  EXPECT_EQ(response.body(), "POST /delay/500 later");
  EXPECT_EQ(client.RoundTrip(RawRequest("GET", "/again")).body(), "GET /again ");
}

TEST_F(ServerTest, DroppedResponderAnswers500AndCloses) {
  StartServer();
  Client client = Connect();
  ExpectJsonError(client.RoundTrip(RawRequest("GET", "/drop")),
                  beast_http::status::internal_server_error, "internal");
  EXPECT_TRUE(client.WaitClosed(kIoTimeout));
}

TEST_F(ServerTest, ThrowingHandlerAnswers500) {
  StartServer();
  Client client = Connect();
  ExpectJsonError(client.RoundTrip(RawRequest("GET", "/throw")),
                  beast_http::status::internal_server_error, "internal");
  EXPECT_TRUE(client.WaitClosed(kIoTimeout));
  EXPECT_EQ(Connect().RoundTrip(RawRequest("GET", "/after")).body(), "GET /after ");
}

TEST_F(ServerTest, PeerIsTheClientsAddress) {
  StartServer();
  Client client = Connect();
  EXPECT_EQ(client.RoundTrip(RawRequest("GET", "/peer")).body(),
            "127.0.0.1:" + std::to_string(client.local_port()));
}

TEST_F(ServerTest, OversizeHeaderAnswers431AndCloses) {
  Limits limits;
  limits.max_header_bytes = 1024;
  StartServer(limits);
  Client client = Connect();
  const std::string big = "X-Big: " + std::string(2000, 'a') + "\r\n";
  ExpectJsonError(client.RoundTrip(RawRequest("GET", "/", "", big)),
                  beast_http::status::request_header_fields_too_large, "resource_exhausted");
  EXPECT_TRUE(client.WaitClosed(kIoTimeout));
  EXPECT_EQ(handler_calls_, 0);
}

TEST_F(ServerTest, OversizeBodyAnswers413AndCloses) {
  Limits limits;
  limits.max_body_bytes = 1024;
  StartServer(limits);
  EXPECT_EQ(Connect().RoundTrip(RawRequest("POST", "/", std::string(1024, 'b'))).result(),
            beast_http::status::ok);
  Client client = Connect();
  ExpectJsonError(client.RoundTrip(RawRequest("POST", "/", std::string(1025, 'b'))),
                  beast_http::status::payload_too_large, "resource_exhausted");
  EXPECT_TRUE(client.WaitClosed(kIoTimeout));
  EXPECT_EQ(handler_calls_, 1);
}

TEST_F(ServerTest, OversizeChunkedBodyAnswers413) {
  Limits limits;
  limits.max_body_bytes = 1024;
  StartServer(limits);
  Client client = Connect();
  client.SendRaw(
      "POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "400\r\n" +
      std::string(1024, 'c') + "\r\n1\r\nc\r\n0\r\n\r\n");
  Response response;
  ASSERT_FALSE(client.Read(response));
  ExpectJsonError(response, beast_http::status::payload_too_large, "resource_exhausted");
}

TEST_F(ServerTest, GarbageAnswers400AndCloses) {
  StartServer();
  Client client = Connect();
  client.SendRaw(std::string("\x01\x02\xff garbage\r\n\r\n", 15));
  Response response;
  ASSERT_FALSE(client.Read(response));
  ExpectJsonError(response, beast_http::status::bad_request, "invalid_argument");
  EXPECT_TRUE(client.WaitClosed(kIoTimeout));
  EXPECT_EQ(handler_calls_, 0);
}

TEST_F(ServerTest, BadContentLengthAnswers400) {
  StartServer();
  Client client = Connect();
  client.SendRaw("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 12abc\r\n\r\n");
  Response response;
  ASSERT_FALSE(client.Read(response));
  ExpectJsonError(response, beast_http::status::bad_request, "invalid_argument");
}

TEST_F(ServerTest, Http10ClosesUnlessAskedToKeepAlive) {
  StartServer();
  Client keep = Connect();
  for (int i = 0; i < 2; ++i) {
    const Response response = keep.RoundTrip("GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(response.version(), 10u);
    EXPECT_TRUE(response.keep_alive());
    EXPECT_EQ(response.body(), "GET /ka ");
  }
  Client once = Connect();
  const Response response = once.RoundTrip("GET /once HTTP/1.0\r\n\r\n");
  EXPECT_EQ(response.body(), "GET /once ");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(once.WaitClosed(kIoTimeout));
}

TEST_F(ServerTest, ConnectionCloseFromClientOrHandlerCloses) {
  StartServer();
  Client client = Connect();
  const Response response = client.RoundTrip(RawRequest("GET", "/x", "", "Connection: close\r\n"));
  EXPECT_EQ(response.body(), "GET /x ");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.WaitClosed(kIoTimeout));

  Client other = Connect();
  EXPECT_FALSE(other.RoundTrip(RawRequest("GET", "/close")).keep_alive());
  EXPECT_TRUE(other.WaitClosed(kIoTimeout));
}

TEST_F(ServerTest, NoContentHasNoLengthAndKeepsTheConnection) {
  StartServer();
  Client client = Connect();
  const Response response = client.RoundTrip(RawRequest("DELETE", "/nocontent"));
  EXPECT_EQ(response.result(), beast_http::status::no_content);
  EXPECT_EQ(response.count(beast_http::field::content_length), 0u);
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(client.RoundTrip(RawRequest("GET", "/next")).body(), "GET /next ");
}

TEST_F(ServerTest, UnsendableResponseAnswers500) {
  StartServer();
  Client client = Connect();
  ExpectJsonError(client.RoundTrip(RawRequest("GET", "/badnocontent")),
                  beast_http::status::internal_server_error, "internal");
}

TEST_F(ServerTest, ExpectContinueGets100BeforeTheBody) {
  StartServer();
  Client client = Connect();
  client.SendRaw(
      "POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  Response interim;
  ASSERT_FALSE(client.Read(interim));
  EXPECT_EQ(interim.result(), beast_http::status::continue_);
  client.SendRaw("data");
  Response response;
  ASSERT_FALSE(client.Read(response));
  EXPECT_EQ(response.body(), "POST /up data");
}

}  // namespace
}  // namespace keyward::http::test
