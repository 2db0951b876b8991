// Sends the real server's /auth the requests Traefik ForwardAuth and Envoy ext_authz (HTTP
// service) send, with every key carrier and every kind of bad key. The contract: 200 with
// X-Keyward-User, X-Keyward-Tags and X-Keyward-Key-Name for a valid key; 401 with
// `WWW-Authenticate: Bearer` otherwise; never anything but 200, 401 or 403.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <string_view>
#include <thread>

#include "core/api_key.h"
#include "harness.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string Basic(const std::string& user, const std::string& password) {
  return "Basic " + Base64(user + ":" + password);
}

// The headers Traefik's ForwardAuth middleware adds to its `GET <address>`.
Headers TraefikHeaders(const std::string& method, const std::string& uri) {
  return {{"X-Forwarded-Method", method},          {"X-Forwarded-Proto", "https"},
          {"X-Forwarded-Host", "api.example.com"}, {"X-Forwarded-Uri", uri},
          {"X-Forwarded-For", "203.0.113.7"},      {"User-Agent", "curl/7.88.1"}};
}

// Headers Envoy's ext_authz HTTP client adds besides the allowed client headers.
Headers EnvoyHeaders() {
  return {{"X-Forwarded-Proto", "https"},
          {"X-Request-Id", "4b4c2b8e-4d06-4d1f-a9c0-6f1b3a2e9d10"},
          {"X-Envoy-Expected-Rq-Timeout-Ms", "1000"},
          {"X-Envoy-Internal", "true"}};
}

Headers With(Headers base, const std::string& name, const std::string& value) {
  base.emplace_back(name, value);
  return base;
}

class ForwardAuthTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(const std::vector<std::string>& args) {
    if (server_) server_->Stop();
    server_ = ServerProcess::Start(args);
    ASSERT_GT(server_->port(), 0);
    admin_ = server_->Login("admin", kAdminPassword);
    ASSERT_FALSE(admin_.empty());
    // An application user with two tags and a key.
    ASSERT_EQ(server_
                  ->As(admin_, "POST", "/api/v1/users",
                       {{"id", "lakesearchapi"}, {"name", "lakesearch"}, {"type", "application"}})
                  .status,
              201);
    for (const char* tag : {"roles:id:data-dev", "roles:id:user"}) {
      ASSERT_EQ(
          server_->As(admin_, "POST", "/api/v1/users/lakesearchapi/tags", {{"tag", tag}}).status,
          200);
    }
    HttpResult user = server_->As(admin_, "GET", "/api/v1/users/lakesearchapi");
    ASSERT_EQ(user.status, 200);
    app_tags_.clear();
    json::value user_json = user.Json();
    for (const auto& tag : user_json.at("tags").as_array()) {
      app_tags_ += (app_tags_.empty() ? "" : ",") + std::string(tag.as_string());
    }
    ASSERT_EQ(app_tags_.size(), std::string("roles:id:data-dev,roles:id:user").size());
    app_key_ = CreateKey("lakesearchapi", "lakesearch_app_api");
    ASSERT_FALSE(app_key_.empty());
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
      // No key, not even one sent in a query string, reaches the log.
      ExpectNoSecretsIn({server_->log_path()});
    }
  }

  std::string CreateKey(const std::string& user, const std::string& name,
                        const std::string& duration = "24h") {
    return server_->NewKey(admin_, user, name, duration, &last_expiration_);
  }

  // One request to /auth; whatever it is, the answer is 200, 401 or 403.
  HttpResult Auth(const std::string& method, const std::string& target, const Headers& headers,
                  const std::string& body = "") {
    HttpResult r = Call(server_->port(), method, target, body, headers);
    EXPECT_TRUE(r.status == 200 || r.status == 401 || r.status == 403)
        << method << " " << target << " answered " << r.status;
    return r;
  }

  static void ExpectAllowed(const HttpResult& r, const std::string& user, const std::string& tags,
                            const std::string& key_name, const std::string& what) {
    EXPECT_EQ(r.status, 200) << what << "\n" << r.body;
    EXPECT_EQ(r.body, "") << what;
    EXPECT_EQ(r.Header("x-keyward-user"), user) << what;
    EXPECT_EQ(r.Header("x-keyward-tags"), tags) << what;
    // Always present, so a proxy that copies it replaces whatever a client sent.
    EXPECT_TRUE(r.headers.contains("x-keyward-key-name")) << what;
    EXPECT_EQ(r.Header("x-keyward-key-name"), key_name) << what;
  }

  void ExpectApp(const HttpResult& r, const std::string& what) const {
    ExpectAllowed(r, "lakesearchapi", app_tags_, "lakesearch_app_api", what);
  }

  static void ExpectDenied(const HttpResult& r, const std::string& what) {
    EXPECT_EQ(r.status, 401) << what;
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer") << what;
    EXPECT_FALSE(r.headers.contains("x-keyward-user")) << what;
    EXPECT_FALSE(r.headers.contains("x-keyward-tags")) << what;
  }

  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
  std::string app_key_;
  std::string app_tags_;
  std::string last_expiration_;
};

TEST_F(ForwardAuthTest, TraefikForwardAuth) {
  for (const char* method : {"POST", "GET", "DELETE"}) {
    Headers traefik = TraefikHeaders(method, "/api/things?x=1");
    ExpectApp(Auth("GET", "/auth", With(traefik, "Authorization", "Bearer " + app_key_)),
              std::string("Traefik, Bearer, ") + method);
    ExpectApp(Auth("GET", "/auth", With(traefik, "apikey", app_key_)),
              std::string("Traefik, apikey, ") + method);
    ExpectDenied(Auth("GET", "/auth", traefik), std::string("Traefik, no key, ") + method);
    ExpectDenied(Auth("GET", "/auth", With(traefik, "Authorization", "Bearer not-a-key")),
                 std::string("Traefik, garbage, ") + method);
  }
  // The original URI's query is not a key carrier, even when it looks like one.
  ExpectDenied(Auth("GET", "/auth", TraefikHeaders("GET", "/api/things?apikey=" + app_key_)),
               "Traefik, key only in X-Forwarded-Uri");
}

TEST_F(ForwardAuthTest, EnvoyExtAuthzKeepsTheMethodBehindThePathPrefix) {
  const std::string target = "/auth/api/things/42?x=1";
  for (const char* method : {"POST", "DELETE", "PUT", "PATCH", "GET", "HEAD"}) {
    std::string what = std::string("Envoy, ") + method;
    ExpectApp(Auth(method, target, With(EnvoyHeaders(), "Authorization", "Bearer " + app_key_)),
              what + ", Bearer");
    ExpectApp(Auth(method, target, With(EnvoyHeaders(), "apikey", app_key_)), what + ", apikey");
    ExpectDenied(Auth(method, target, EnvoyHeaders()), what + ", no key");
    ExpectDenied(Auth(method, target, With(EnvoyHeaders(), "Authorization", "Bearer not-a-key")),
                 what + ", garbage");
  }
  // With with_request_body, Envoy sends the client's body too: it changes nothing.
  ExpectApp(Auth("POST", target, With(EnvoyHeaders(), "Authorization", "Bearer " + app_key_),
                 R"({"some":"payload"})"),
            "Envoy, POST with a body");
}

TEST_F(ForwardAuthTest, AnyMethodAndAnyPathBelowAuth) {
  for (const char* target : {"/auth", "/auth/", "/auth/anything/else?x=y", "/auth?x=y"}) {
    for (const char* method : {"GET", "POST", "OPTIONS"}) {
      std::string what = std::string(method) + " " + target;
      ExpectApp(Auth(method, target, {{"Authorization", "Bearer " + app_key_}}), what);
      ExpectDenied(Auth(method, target, {}), what + " without a key");
    }
  }
}

TEST_F(ForwardAuthTest, EveryKeyCarrier) {
  ExpectApp(Auth("GET", "/auth", {{"Authorization", "Bearer " + app_key_}}), "Bearer");
  ExpectApp(Auth("GET", "/auth", {{"Authorization", "bearer " + app_key_}}), "bearer");
  ExpectApp(Auth("GET", "/auth", {{"Authorization", app_key_}}), "bare Authorization");
  ExpectApp(Auth("GET", "/auth", {{"Authorization", Basic("lakesearchapi", app_key_)}}),
            "Basic user:key");
  ExpectApp(Auth("GET", "/auth", {{"Authorization", Basic("anyone", app_key_)}}),
            "Basic with another user name");
  ExpectApp(Auth("GET", "/auth", {{"apikey", app_key_}}), "apikey header");

  ExpectDenied(Auth("GET", "/auth", {{"Authorization", Basic("lakesearchapi", "garbage")}}),
               "Basic user:garbage");
  ExpectDenied(Auth("GET", "/auth", {{"Authorization", "Basic " + Base64(app_key_)}}),
               "Basic without a colon");
  ExpectDenied(Auth("GET", "/auth", {{"Authorization", "Basic !!not-base64!!"}}),
               "Basic, not base64");
  ExpectDenied(Auth("GET", "/auth", {{"apikey", "garbage"}}), "apikey garbage");
  // The first carrier present decides, as on /api/v1.
  ExpectDenied(Auth("GET", "/auth", {{"Authorization", "Bearer not-a-key"}, {"apikey", app_key_}}),
               "bad Authorization with a good apikey");
  ExpectApp(Auth("GET", "/auth", {{"Authorization", "Bearer " + app_key_}, {"apikey", "nope"}}),
            "good Authorization with a bad apikey");
}

TEST_F(ForwardAuthTest, QueryKeyIsIgnoredByDefault) {
  for (const std::string& target :
       {"/auth?apikey=" + app_key_, "/auth/api/things?x=1&apikey=" + app_key_}) {
    ExpectDenied(Auth("GET", target, {}), target.substr(0, 20));
  }
}

TEST_F(ForwardAuthTest, QueryKeyWithAllowQueryKey) {
  ASSERT_NO_FATAL_FAILURE(Start({"--allow-query-key"}));
  ExpectApp(Auth("GET", "/auth?apikey=" + app_key_, {}), "?apikey=");
  ExpectApp(Auth("DELETE", "/auth/api/things/42?x=1&apikey=" + app_key_, EnvoyHeaders()),
            "Envoy, &apikey=");
  ExpectDenied(Auth("GET", "/auth?apikey=garbage", {}), "?apikey=garbage");
  ExpectDenied(Auth("GET", "/auth?x=1", {}), "no apikey parameter");
  // The headers still work.
  ExpectApp(Auth("GET", "/auth", {{"Authorization", "Bearer " + app_key_}}), "Bearer");
}

TEST_F(ForwardAuthTest, BadKeysAreAll401) {
  const std::string typo = WithTypo(app_key_);  // the checksum no longer matches
  const std::vector<std::pair<std::string, Headers>> refused = {
      {"no key", {}},
      {"empty Authorization", {{"Authorization", ""}}},
      {"Bearer alone", {{"Authorization", "Bearer"}}},
      {"Bearer and a space", {{"Authorization", "Bearer "}}},
      {"another scheme", {{"Authorization", "Digest " + app_key_}}},
      {"garbage", {{"Authorization", "Bearer not-a-key"}}},
      {"garbage shaped like a key", {{"Authorization", "Bearer kw_" + std::string(49, 'A')}}},
      {"long garbage", {{"Authorization", "Bearer " + std::string(4000, 'x')}}},
      {"wrong checksum", {{"Authorization", "Bearer " + typo}}},
      {"unknown key", {{"Authorization", "Bearer " + GenerateKey("kw")}}},
      {"another prefix", {{"Authorization", "Bearer acme_" + app_key_.substr(3)}}},
      {"empty apikey", {{"apikey", ""}}},
  };
  for (const auto& [what, headers] : refused) {
    ExpectDenied(Auth("GET", "/auth", headers), what);
    ExpectDenied(Auth("POST", "/auth/api/things", headers), what + ", Envoy style");
  }
  // All of them get the same answer.
  HttpResult none = Auth("GET", "/auth", {});
  HttpResult unknown = Auth("GET", "/auth", {{"Authorization", "Bearer " + GenerateKey("kw")}});
  EXPECT_EQ(none.body, unknown.body);
}

TEST_F(ForwardAuthTest, ExpiredKeyIs401) {
  std::string key = CreateKey("me", "brief", "2s");
  ASSERT_FALSE(key.empty());
  const Headers bearer = {{"Authorization", "Bearer " + key}};
  ExpectAllowed(Auth("GET", "/auth", bearer), "admin", "roles:id:operator", "brief", "fresh");
  std::tm tm{};
  ASSERT_NE(::strptime(last_expiration_.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr);
  auto expires = std::chrono::system_clock::from_time_t(::timegm(&tm));
  auto wait = expires + std::chrono::seconds(1) - std::chrono::system_clock::now();
  ASSERT_LE(wait, std::chrono::seconds(4));
  // Refused from its expiration on (in whole seconds), at the latest a second after it.
  EXPECT_TRUE(Eventually([&] { return Auth("GET", "/auth", bearer).status == 401; },
                         std::chrono::duration_cast<std::chrono::milliseconds>(wait)));
  ExpectDenied(Auth("GET", "/auth", bearer), "expired");
  ExpectDenied(Auth("HEAD", "/auth/x", bearer), "expired, HEAD");
}

TEST_F(ForwardAuthTest, DeletedKeysAndUsersAre401AtOnce) {
  std::string key = CreateKey("me", "short-lived");
  ASSERT_FALSE(key.empty());
  const Headers bearer = {{"Authorization", "Bearer " + key}};
  ExpectAllowed(Auth("GET", "/auth", bearer), "admin", "roles:id:operator", "short-lived",
                "before delete");
  ASSERT_EQ(server_->As(admin_, "DELETE", "/api/v1/users/me/apikeys/short-lived").status, 204);
  ExpectDenied(Auth("GET", "/auth", bearer), "deleted key");

  // Deleting a user takes their keys with them.
  ExpectApp(Auth("GET", "/auth", {{"apikey", app_key_}}), "before the user is deleted");
  ASSERT_EQ(server_->As(admin_, "DELETE", "/api/v1/users/lakesearchapi").status, 204);
  ExpectDenied(Auth("GET", "/auth", {{"apikey", app_key_}}), "deleted user");
}

TEST_F(ForwardAuthTest, SessionTokenHasAnEmptyKeyName) {
  std::string session = server_->Login("admin", kAdminPassword);
  const Headers bearer = {{"Authorization", "Bearer " + session}};
  ExpectAllowed(Auth("GET", "/auth", bearer), "admin", "roles:id:operator", "", "session");
  ASSERT_EQ(server_->As(session, "POST", "/api/v1/logout").status, 204);
  ExpectDenied(Auth("GET", "/auth", bearer), "signed-out session");
}

TEST_F(ForwardAuthTest, ClientSentIdentityHeadersAreIgnored) {
  const Headers forged = {{"X-Keyward-User", "admin"},
                          {"X-Keyward-Tags", "roles:id:operator"},
                          {"X-Keyward-Key-Name", "forged"}};
  ExpectDenied(Auth("GET", "/auth", forged), "forged, no key");
  ExpectApp(Auth("GET", "/auth", With(forged, "Authorization", "Bearer " + app_key_)),
            "forged, with a key");
}

}  // namespace
}  // namespace keyward::testing
