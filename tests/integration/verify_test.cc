// Verifying keys: /api/v1/authorize, /auth revocation and expiry, and /metrics.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "harness.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

// One keep-alive connection: requests go out one after another on the same socket.
class Connection {
 public:
  explicit Connection(std::uint16_t port) : socket_(ioc_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }
  int Send(const std::string& method, const std::string& target, const std::string& token,
           const std::string& body = "", std::string* response_body = nullptr) {
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    bhttp::write(socket_, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket_, buffer_, res);
    EXPECT_TRUE(res.keep_alive());
    if (response_body != nullptr) *response_body = res.body();
    return static_cast<int>(res.result_int());
  }

 private:
  asio::io_context ioc_;
  asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ServerProcess::Start();
    ASSERT_GT(server_->port(), 0);
    admin_ = server_->Login("admin", kAdminPassword);
  }
  void TearDown() override {
    server_->Stop();
    ExpectNoSecretsIn({server_->log_path()});
  }
  std::string NewKey(const std::string& name) { return server_->NewKey(admin_, "me", name); }
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(VerifyTest, AuthorizeAnswersInTheDataOsShape) {
  ASSERT_EQ(server_
                ->As(admin_, "POST", "/api/v1/users",
                     {{"id", "svc"}, {"name", "Service"}, {"type", "application"}})
                .status,
            201);
  ASSERT_EQ(
      server_->As(admin_, "POST", "/api/v1/users/svc/tags", {{"tag", "roles:id:data-dev"}}).status,
      200);
  HttpResult key = server_->As(admin_, "POST", "/api/v1/users/svc/apikeys", {{"name", "k"}});
  std::string token(key.Json().at("token").as_string());
  RememberSecret(token);
  // The service asking: its key needs the scope `authorize`.
  HttpResult made = server_->As(admin_, "POST", "/api/v1/users/me/apikeys",
                                {{"name", "gateway"}, {"scopes", json::array{"authorize"}}});
  ASSERT_EQ(made.status, 201) << made.body;
  std::string caller(made.Json().at("token").as_string());
  RememberSecret(caller);

  HttpResult valid = server_->As(caller, "POST", "/api/v1/authorize", {{"token", token}});
  ASSERT_EQ(valid.status, 200) << valid.body;
  EXPECT_EQ(valid.Json(), json::parse(R"({"allow":true,"valid":true,)"
                                      R"("result":{"id":"svc","tags":["roles:id:data-dev"],)"
                                      R"("scopes":[],"full_access":false}})"));
  HttpResult invalid =
      server_->As(caller, "POST", "/api/v1/authorize", {{"token", "kw_" + std::string(49, 'x')}});
  ASSERT_EQ(invalid.status, 200);
  EXPECT_EQ(invalid.Json().at("allow"), false);
  EXPECT_EQ(invalid.Json().at("valid"), false);
  // The caller must present a key of its own; the apikey header works for that too.
  EXPECT_EQ(Call(server_->port(), "POST", "/api/v1/authorize",
                 json::serialize(json::value{{"token", token}}))
                .status,
            401);
  EXPECT_EQ(Call(server_->port(), "POST", "/api/v1/authorize",
                 json::serialize(json::value{{"token", token}}), {{"apikey", caller}})
                .status,
            200);
  EXPECT_EQ(server_->As(caller, "POST", "/api/v1/authorize", json::object{}).status, 400);
}

// Acceptance: 1,000 rounds of delete-then-verify give 0 successes after the delete returned,
// on the connection that deleted and on another one that had the key cached.
TEST_F(VerifyTest, RevocationIsImmediate) {
  Connection manage(server_->port());
  Connection gateway(server_->port());
  int successes_after_delete = 0;
  constexpr int kRounds = 1000;
  for (int i = 0; i < kRounds; ++i) {
    std::string body;
    ASSERT_EQ(manage.Send("POST", "/api/v1/users/me/apikeys", admin_,
                          R"({"name":"round","duration":"1h"})", &body),
              201);
    std::string token(json::parse(body).at("token").as_string());
    RememberSecret(token);
    ASSERT_EQ(gateway.Send("GET", "/auth", token), 200) << "round " << i;  // now cached
    ASSERT_EQ(manage.Send("GET", "/auth/x", token), 200) << "round " << i;
    ASSERT_EQ(manage.Send("DELETE", "/api/v1/users/me/apikeys/round", admin_), 204);
    if (manage.Send("GET", "/auth", token) != 401) ++successes_after_delete;
    if (gateway.Send("GET", "/auth", token) != 401) ++successes_after_delete;
  }
  EXPECT_EQ(successes_after_delete, 0) << "over " << kRounds << " rounds";
}

// Acceptance: a key created with a 2-second validity verifies before it expires, not after.
TEST_F(VerifyTest, TwoSecondKeyExpiresOnTime) {
  HttpResult r = server_->As(admin_, "POST", "/api/v1/users/me/apikeys",
                             {{"name", "brief"}, {"duration", "2s"}});
  ASSERT_EQ(r.status, 201);
  std::string token(r.Json().at("token").as_string());
  RememberSecret(token);
  std::tm tm{};
  std::string expiration(r.Json().at("expiration").as_string());
  strptime(expiration.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  auto expires = std::chrono::system_clock::from_time_t(timegm(&tm));
  Connection gateway(server_->port());
  int before = 0;
  while (std::chrono::system_clock::now() + std::chrono::milliseconds(200) < expires) {
    ASSERT_EQ(gateway.Send("GET", "/auth", token), 200);
    ++before;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(before, 0);
  std::this_thread::sleep_until(expires + std::chrono::milliseconds(50));
  EXPECT_EQ(gateway.Send("GET", "/auth", token), 401);
  EXPECT_EQ(Call(server_->port(), "GET", "/api/v1/users/me", "", {{"apikey", token}}).status, 401);
}

// Parses the Prometheus text format strictly enough to catch malformed output:
// "# HELP name text", "# TYPE name counter|gauge|histogram", "name{l="v",…} number".
std::map<std::string, double> ParsePrometheus(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  const std::regex help("^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$");
  const std::regex type("^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram)$");
  const std::regex sample(
      "^([a-zA-Z_:][a-zA-Z0-9_:]*(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\""
      "(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\")*\\})?) ([-+]?[0-9.eE+-]+|\\+Inf)$");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, help) || std::regex_match(line, type)) continue;
    if (!std::regex_match(line, m, sample)) {
      ADD_FAILURE() << "not Prometheus text format: " << line;
      continue;
    }
    samples[m[1]] = std::stod(m[4]);
  }
  return samples;
}

TEST_F(VerifyTest, MetricsParseAndMove) {
  std::string token = NewKey("metered");
  HttpResult first = Call(server_->port(), "GET", "/metrics");
  ASSERT_EQ(first.status, 200);
  EXPECT_NE(first.Header("content-type").find("text/plain"), std::string::npos);
  auto before = ParsePrometheus(first.body);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(
        Call(server_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + token}}).status,
        200);
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call(server_->port(), "GET", "/auth").status, 401);
  auto after = ParsePrometheus(Call(server_->port(), "GET", "/metrics").body);
  auto delta = [&](const std::string& name) { return after[name] - before[name]; };
  EXPECT_EQ(delta(R"(keyward_http_requests_total{route="auth",code="200"})"), 5);
  EXPECT_EQ(delta(R"(keyward_http_requests_total{route="auth",code="401"})"), 3);
  EXPECT_EQ(delta(R"(keyward_verifications_total{outcome="valid"})"), 5);
  EXPECT_EQ(delta(R"(keyward_verifications_total{outcome="invalid"})"), 3);
  EXPECT_GE(delta("keyward_cache_hits_total"), 4);
  EXPECT_GE(delta("keyward_cache_misses_total"), 1);
  EXPECT_GE(after["keyward_cache_entries"], 1);
  EXPECT_EQ(delta(R"(keyward_http_request_duration_seconds_count{route="auth"})"), 8);
  EXPECT_EQ(after[R"(keyward_http_request_duration_seconds_bucket{route="auth",le="+Inf"})"],
            after[R"(keyward_http_request_duration_seconds_count{route="auth"})"]);
}

TEST_F(VerifyTest, LastUsedIsRecorded) {
  server_->Stop();
  server_ = ServerProcess::Start({"--last-used-interval", "1s"});
  admin_ = server_->Login("admin", kAdminPassword);
  std::string token = NewKey("used");
  EXPECT_EQ(Call(server_->port(), "GET", "/auth", "", {{"apikey", token}}).status, 200);
  json::value last_used = nullptr;
  for (int i = 0; i < 40 && last_used.is_null(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    json::value keys = server_->As(admin_, "GET", "/api/v1/users/me/apikeys").Json();
    last_used = keys.at(0).at("last_used");
  }
  EXPECT_TRUE(last_used.is_string()) << "last_used never written";
}

}  // namespace
}  // namespace keyward::testing
