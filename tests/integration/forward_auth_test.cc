// Sends the real server's /auth the requests Traefik ForwardAuth and Envoy ext_authz (HTTP
// service) send, with every key carrier and every kind of bad key. The contract: 200 with
// X-Keyward-User, X-Keyward-Tags, X-Keyward-Scopes and X-Keyward-Key-Name for a valid key; 401
// with `WWW-Authenticate: Bearer` otherwise; never anything but 200, 401 or 403. Then what a
// gateway requires (scopes, tags; 403 with X-Keyward-Reason), keys limited by address, the
// client address behind trusted proxies, and POST /api/v1/authorize with requirements.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <map>
#include <string_view>
#include <thread>
#include <utility>

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
    EXPECT_TRUE(r.headers.contains("x-keyward-scopes")) << what;
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
  EXPECT_EQ(Auth("GET", "/auth", bearer).Header("x-keyward-scopes"), "*") << "a session";
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

// ---------------------------------------------------------------------------------------------
// Requirements, address limits and the client address: one server for the suite, trusting the
// proxy at 127.0.0.2 (tests play the proxy, and clients, from other 127.0.0.0/8 addresses).

constexpr const char* kProxy = "127.0.0.2";
constexpr const char* kClient = "127.0.0.3";
constexpr const char* kOtherClient = "127.0.0.4";

class GrantsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = ServerProcess::Start({"--trusted-proxies", "127.0.0.2/32,192.0.2.0/24"}).release();
    ASSERT_GT(server_->port(), 0);
    admin_ = new std::string(server_->Login("admin", kAdminPassword));
    ASSERT_FALSE(admin_->empty());
    ASSERT_EQ(server_
                  ->As(*admin_, "POST", "/api/v1/users",
                       {{"id", "minerva-client"}, {"name", "Minerva"}, {"type", "application"}})
                  .status,
              201);
    for (const char* tag : {"team:x", "roles:id:user"}) {
      ASSERT_EQ(
          server_->As(*admin_, "POST", "/api/v1/users/minerva-client/tags", {{"tag", tag}}).status,
          200);
    }
    keys_ = new std::map<std::string, std::string>();
    auto& k = *keys_;
    k["query"] = MakeKey("query", {{"scopes", json::array{"minerva:query", "authorize"}}});
    k["plain"] = MakeKey("plain", {});
    k["tagged"] = MakeKey(
        "tagged", {{"scopes", json::array{"minerva:query"}}, {"tags", json::array{"team:x"}}});
    k["v4"] = MakeKey("v4", {{"scopes", json::array{"minerva:query"}},
                             {"allowed_addresses", json::array{"198.51.100.0/24"}}});
    k["v6"] = MakeKey("v6", {{"scopes", json::array{"minerva:query"}},
                             {"allowed_addresses", json::array{"2001:db8::/32"}}});
    k["v6b"] = MakeKey("v6b", {{"allowed_addresses", json::array{"2001:db9::/32"}}});
    k["local"] = MakeKey("local", {{"allowed_addresses", json::array{"127.0.0.3"}}});
  }

  static void TearDownTestSuite() {
    server_->Stop();
    ExpectNoSecretsIn({server_->log_path()});
    delete server_;
    delete admin_;
    delete keys_;
    server_ = nullptr;
  }

  // A key of minerva-client, made by the admin's session through the API with `grant` (the
  // members scopes, tags, allowed_addresses); "" (and a failed test) unless 201.
  static std::string MakeKey(const std::string& name, json::object grant) {
    grant["name"] = name;
    HttpResult r = server_->As(*admin_, "POST", "/api/v1/users/minerva-client/apikeys", grant);
    EXPECT_EQ(r.status, 201) << name << ": " << r.body;
    if (r.status != 201) return "";
    std::string token(r.Json().at("token").as_string());
    RememberSecret(token);
    return token;
  }

  static const std::string& Key(const std::string& name) { return keys_->at(name); }

  static HttpResult AuthFrom(const std::string& from, const std::string& target,
                             const std::string& key, Headers headers = {}) {
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    HttpResult r = CallFrom(from, server_->port(), "GET", target, "", headers);
    EXPECT_TRUE(r.status == 200 || r.status == 401 || r.status == 403) << target << r.status;
    return r;
  }
  static HttpResult Auth(const std::string& target, const std::string& key, Headers headers = {}) {
    return AuthFrom(kClient, target, key, std::move(headers));
  }

  // 403, X-Keyward-Reason `reason`, the error body with `message`, and no identity.
  static void ExpectRefused(const HttpResult& r, const std::string& reason,
                            const std::string& message, const std::string& what) {
    EXPECT_EQ(r.status, 403) << what << "\n" << r.body;
    EXPECT_EQ(r.Header("x-keyward-reason"), reason) << what;
    EXPECT_FALSE(r.headers.contains("x-keyward-user")) << what;
    EXPECT_FALSE(r.headers.contains("www-authenticate")) << what;
    boost::system::error_code ec;
    json::value body = json::parse(r.body, ec);
    ASSERT_FALSE(ec) << what << ": " << r.body;
    EXPECT_EQ(body.at("error").at("code"), "permission_denied") << what;
    if (!message.empty()) {
      EXPECT_EQ(body.at("error").at("message"), json::value(message)) << what;
    }
  }

  static void ExpectOk(const HttpResult& r, const std::string& what) {
    EXPECT_EQ(r.status, 200) << what << "\n" << r.body;
    EXPECT_FALSE(r.headers.contains("x-keyward-reason")) << what;
  }

  // keyward_denials_total{reason="<reason>"} as /metrics shows it now.
  static long Denials(const std::string& reason) {
    HttpResult m = Call(server_->port(), "GET", "/metrics");
    const std::string line = "keyward_denials_total{reason=\"" + reason + "\"} ";
    const auto at = m.body.find(line);
    if (at == std::string::npos) return -1;
    return std::stol(m.body.substr(at + line.size()));
  }

  static json::value Authorize(const std::string& caller, json::object body) {
    HttpResult r = server_->As(caller, "POST", "/api/v1/authorize", std::move(body));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.Json() : json::value();
  }

  // An authorize answer's reason, or "(none)".
  static std::string ReasonOf(const json::value& v) {
    if (!v.is_object() || !v.as_object().contains("reason")) return "(none)";
    return std::string(v.at("reason").as_string());
  }

  // The address the newest audit event of the admin's records.
  static std::string NewestAuditAddress() {
    HttpResult r = server_->As(*admin_, "GET", "/api/v1/audit?user=admin&limit=1");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return "";
    return std::string(r.Json().at("events").at(0).at("address").as_string());
  }

  // Signs the admin in from `from` with `headers`; the event's recorded address.
  static std::string SignInAddress(const std::string& from, const Headers& headers) {
    const std::string body =
        json::serialize(json::object{{"username", "admin"}, {"password", kAdminPassword}});
    HttpResult r = CallFrom(from, server_->port(), "POST", "/api/v1/login", body, headers);
    EXPECT_EQ(r.status, 200) << r.body;
    RememberSecret(std::string(r.Json().at("token").as_string()));
    return NewestAuditAddress();
  }

  static ServerProcess* server_;
  static std::string* admin_;
  static std::map<std::string, std::string>* keys_;
};

ServerProcess* GrantsTest::server_ = nullptr;
std::string* GrantsTest::admin_ = nullptr;
std::map<std::string, std::string>* GrantsTest::keys_ = nullptr;

// --- what passes with any store: sessions (full power), tags, the client address ---

TEST_F(GrantsTest, SessionMeetsScopeRequirementsAndShowsStar) {
  HttpResult r = Auth("/auth?scope=minerva:query&scope=pulsar:produce", *admin_);
  ExpectOk(r, "session, two scopes");
  EXPECT_EQ(r.Header("x-keyward-scopes"), "*");
}

TEST_F(GrantsTest, TagRequirementsQueryAndHeader) {
  ExpectOk(Auth("/auth?tag=roles%3Aid%3Aoperator", *admin_), "percent-encoded tag held");
  ExpectOk(Auth("/auth", *admin_, {{"X-Keyward-Require-Tag", "roles:id:operator"}}), "header");
  ExpectRefused(Auth("/auth?tag=team:z", *admin_), "tag", "the key lacks the tag team:z",
                "tag not held");
  ExpectRefused(Auth("/auth", *admin_, {{"X-Keyward-Require-Tag", "roles:id:operator, team:z"}}),
                "tag", "the key lacks the tag team:z", "comma-separated header, one not held");
  ExpectRefused(Auth("/auth?tag=", *admin_), "tag", "", "an empty requirement is never met");
  // The requirement is checked only for a valid key: 401 stays "no valid key".
  EXPECT_EQ(Auth("/auth?tag=team:z", "").status, 401);
  EXPECT_EQ(Auth("/auth?tag=team:z", "kw_garbage").status, 401);
}

TEST_F(GrantsTest, DenialsAreCountedByReason) {
  const long tag = Denials("tag");
  const long scope = Denials("scope");
  const long address = Denials("address");
  ASSERT_GE(tag, 0);
  ASSERT_GE(scope, 0);
  ASSERT_GE(address, 0);
  EXPECT_EQ(Auth("/auth?tag=team:z", *admin_).status, 403);
  EXPECT_EQ(Auth("/auth?tag=team:z", *admin_).status, 403);
  EXPECT_EQ(Auth("/auth?tag=roles:id:operator", *admin_).status, 200);
  EXPECT_EQ(Denials("tag"), tag + 2);
  EXPECT_EQ(Denials("scope"), scope);
  EXPECT_EQ(Denials("address"), address);
}

TEST_F(GrantsTest, AuditRecordsTheClientAddressBehindTrustedProxies) {
  // A trusted proxy: X-Forwarded-For right to left, the client's own entries (forged) skipped.
  EXPECT_EQ(SignInAddress(kProxy, {{"X-Forwarded-For", "203.0.113.1, 198.51.100.7"}}),
            "198.51.100.7");
  EXPECT_EQ(SignInAddress(kProxy, {{"X-Forwarded-For", "198.51.100.8, 192.0.2.10"}}),
            "198.51.100.8")
      << "a second trusted proxy in the chain is skipped";
  EXPECT_EQ(SignInAddress(kProxy, {{"X-Real-IP", "198.51.100.9"}}), "198.51.100.9");
  EXPECT_EQ(SignInAddress(kProxy, {{"X-Forwarded-For", "2001:db8::5"}}), "2001:db8::5");
  EXPECT_EQ(SignInAddress(kProxy, {}), kProxy);
  // Not a trusted proxy: whatever it writes in the headers is ignored.
  EXPECT_EQ(
      SignInAddress(kClient, {{"X-Forwarded-For", "198.51.100.7"}, {"X-Real-IP", "198.51.100.7"}}),
      kClient);
}

// --- keys with grants ---

TEST_F(GrantsTest, ScopeRequirementMetOrRefused) {
  HttpResult ok = Auth("/auth?scope=minerva:query", Key("query"));
  ExpectOk(ok, "scope held");
  EXPECT_EQ(ok.Header("x-keyward-scopes"), "authorize,minerva:query");
  EXPECT_EQ(ok.Header("x-keyward-user"), "minerva-client");
  EXPECT_EQ(ok.Header("x-keyward-tags"), "roles:id:user,team:x");
  ExpectOk(Auth("/auth?scope=minerva%3Aquery&scope=authorize", Key("query")), "both, encoded");
  ExpectRefused(Auth("/auth?scope=minerva:query", Key("plain")), "scope",
                "the key lacks the scope minerva:query", "key without scopes");
  ExpectRefused(Auth("/auth?scope=minerva:query&scope=pulsar:produce", Key("query")), "scope",
                "the key lacks the scope pulsar:produce", "one of two missing");
  // Without requirements a key without scopes still authenticates.
  HttpResult plain = Auth("/auth", Key("plain"));
  ExpectOk(plain, "no requirement");
  EXPECT_EQ(plain.Header("x-keyward-scopes"), "");
  EXPECT_EQ(Auth("/auth?scope=minerva:query", "").status, 401);
}

TEST_F(GrantsTest, TagSubsetsAndLiveTags) {
  HttpResult tagged = Auth("/auth?tag=team:x&scope=minerva:query", Key("tagged"));
  ExpectOk(tagged, "subset tag");
  EXPECT_EQ(tagged.Header("x-keyward-tags"), "team:x");
  ExpectRefused(Auth("/auth?tag=roles:id:user", Key("tagged")), "tag",
                "the key lacks the tag roles:id:user", "an owner's tag outside the subset");
  ExpectOk(Auth("/auth?tag=roles:id:user", Key("plain")), "live tags: all of the owner's");
}

TEST_F(GrantsTest, HeaderFormsAndTheOrderOfChecks) {
  ExpectOk(Auth("/auth", Key("query"), {{"X-Keyward-Require-Scope", "minerva:query authorize"}}),
           "space-separated");
  ExpectRefused(
      Auth("/auth", Key("query"), {{"X-Keyward-Require-Scope", "minerva:query, pulsar:produce"}}),
      "scope", "the key lacks the scope pulsar:produce", "comma-separated");
  ExpectRefused(Auth("/auth?tag=team:z", Key("plain"), {{"X-Keyward-Require-Scope", "a:b"}}),
                "scope", "the key lacks the scope a:b", "scope before tag");
  ExpectRefused(AuthFrom(kOtherClient, "/auth?scope=nope:x", Key("local")), "address",
                "the key may not be used from 127.0.0.4", "address before scope");
}

TEST_F(GrantsTest, AddressLimitsThroughATrustedProxy) {
  const long before = Denials("address");
  ExpectOk(AuthFrom(kProxy, "/auth?scope=minerva:query", Key("v4"),
                    {{"X-Forwarded-For", "198.51.100.7"}}),
           "client in range, through the proxy");
  ExpectOk(AuthFrom(kProxy, "/auth", Key("v4"), {{"X-Forwarded-For", "203.0.113.1, 198.51.100.7"}}),
           "a forged leftmost entry is not the client");
  ExpectOk(AuthFrom(kProxy, "/auth", Key("v4"), {{"X-Real-IP", "198.51.100.7"}}), "X-Real-IP");
  ExpectRefused(
      AuthFrom(kProxy, "/auth", Key("v4"), {{"X-Forwarded-For", "198.51.100.7, 203.0.113.1"}}),
      "address", "the key may not be used from 203.0.113.1", "client out of range");
  // An untrusted peer forges X-Forwarded-For: ignored, the peer is the client.
  ExpectRefused(AuthFrom(kClient, "/auth", Key("v4"), {{"X-Forwarded-For", "198.51.100.7"}}),
                "address", "the key may not be used from 127.0.0.3", "forged from untrusted");
  // Garbage from a trusted proxy is no address, and no range holds it.
  ExpectRefused(AuthFrom(kProxy, "/auth", Key("v4"), {{"X-Forwarded-For", "not-an-ip"}}), "address",
                "the key may not be used from unknown", "garbage");
  // The limit holds without requirements too.
  ExpectOk(Auth("/auth", Key("local")), "direct client in range");
  ExpectRefused(AuthFrom(kOtherClient, "/auth", Key("local")), "address", "", "direct, out");
  EXPECT_EQ(Denials("address"), before + 4);
}

TEST_F(GrantsTest, IPv6Ranges) {
  ExpectOk(AuthFrom(kProxy, "/auth?scope=minerva:query", Key("v6"),
                    {{"X-Forwarded-For", "2001:db8::5"}}),
           "2001:db8::5 in 2001:db8::/32");
  ExpectRefused(AuthFrom(kProxy, "/auth", Key("v6b"), {{"X-Forwarded-For", "2001:db8::5"}}),
                "address", "the key may not be used from 2001:db8::5", "not in 2001:db9::/32");
  ExpectRefused(AuthFrom(kProxy, "/auth", Key("v6"), {{"X-Forwarded-For", "198.51.100.7"}}),
                "address", "", "IPv4 client, IPv6 range");
}

TEST_F(GrantsTest, ApiRefusesAKeyFromOutsideItsRanges) {
  EXPECT_EQ(CallFrom(kClient, server_->port(), "GET", "/api/v1/users/me", "",
                     {{"Authorization", "Bearer " + Key("local")}})
                .status,
            200);
  HttpResult out = CallFrom(kOtherClient, server_->port(), "GET", "/api/v1/users/me", "",
                            {{"Authorization", "Bearer " + Key("local")}});
  ASSERT_EQ(out.status, 403) << out.body;
  EXPECT_EQ(out.Json().at("error").at("message"), "this API key may not be used from 127.0.0.4");
  EXPECT_EQ(CallFrom(kProxy, server_->port(), "GET", "/api/v1/users/me", "",
                     {{"Authorization", "Bearer " + Key("local")}, {"X-Forwarded-For", kClient}})
                .status,
            200)
      << "through the trusted proxy, for a client in range";
}

TEST_F(GrantsTest, AuthorizeWithRequirements) {
  const std::string& caller = Key("query");  // holds `authorize`
  json::value v = Authorize(caller, {{"token", Key("tagged")},
                                     {"scopes", json::array{"minerva:query"}},
                                     {"tags", json::array{"team:x"}}});
  EXPECT_EQ(v.at("allow"), true);
  EXPECT_EQ(v.at("valid"), true);
  EXPECT_EQ(v.at("result").at("id"), "minerva-client");
  EXPECT_EQ(v.at("result").at("tags"), json::array{"team:x"});
  EXPECT_EQ(v.at("result").at("scopes"), json::array{"minerva:query"});
  EXPECT_EQ(v.at("result").at("full_access"), false);
  const json::value no_scope =
      json::value{{"allow", false}, {"valid", true}, {"reason", "scope"}, {"result", nullptr}};
  EXPECT_EQ(
      Authorize(caller, {{"token", Key("tagged")}, {"scopes", json::array{"pulsar:produce"}}}),
      no_scope);
  EXPECT_EQ(ReasonOf(Authorize(caller,
                               {{"token", Key("tagged")}, {"tags", json::array{"roles:id:user"}}})),
            "tag");
  EXPECT_EQ(ReasonOf(Authorize(caller, {{"token", Key("v4")}})), "address")
      << "a key limited by address, asked about without one";
  EXPECT_EQ(Authorize(caller, {{"token", Key("v4")}, {"address", "198.51.100.7"}}).at("allow"),
            true);
  EXPECT_EQ(ReasonOf(Authorize(caller, {{"token", Key("v4")}, {"address", "203.0.113.1"}})),
            "address");
  EXPECT_EQ(Authorize(caller, {{"token", Key("v6")}, {"address", "2001:db8::1"}}).at("allow"),
            true);
  EXPECT_EQ(Authorize(caller, {{"token", "kw_garbage"}, {"scopes", json::array{"a"}}}),
            (json::value{{"allow", false}, {"valid", false}, {"result", nullptr}}));
  // The caller needs `authorize`; a session has it.
  HttpResult refused = server_->As(Key("plain"), "POST", "/api/v1/authorize", {{"token", caller}});
  ASSERT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.Json().at("error").at("message"), "this API key lacks the scope authorize");
  EXPECT_EQ(Authorize(*admin_, {{"token", caller}}).at("result").at("scopes"),
            (json::array{"authorize", "minerva:query"}));
  const long scope_denials = Denials("scope");
  Authorize(caller, {{"token", Key("plain")}, {"scopes", json::array{"minerva:query"}}});
  EXPECT_EQ(Denials("scope"), scope_denials + 1);
}

TEST_F(GrantsTest, AuthorizeRefusesMalformedRequirements) {
  for (const json::object& body :
       {json::object{{"token", "x"}, {"scopes", "minerva:query"}},
        json::object{{"token", "x"}, {"scopes", json::array{1}}},
        json::object{{"token", "x"}, {"scopes", json::array{"NOT VALID"}}},
        json::object{{"token", "x"}, {"tags", json::array{json::object{{"a", 1}}}}},
        json::object{{"token", "x"}, {"address", "10.0.0.0/8"}},
        json::object{{"token", "x"}, {"address", "1.2.3"}},
        json::object{{"token", "x"}, {"address", 7}}, json::object{{"token", "x"}, {"bogus", 1}}}) {
    HttpResult r = server_->As(*admin_, "POST", "/api/v1/authorize", body);
    EXPECT_EQ(r.status, 400) << json::serialize(body) << ": " << r.body;
  }
}

TEST_F(GrantsTest, KeysCarryTheirGrantInListRevealAndAudit) {
  const std::string token =
      MakeKey("shown", {{"scopes", json::array{"minerva:query", "keys:read"}},
                        {"tags", json::array{"team:x"}},
                        {"allowed_addresses", json::array{"10.1.2.3", "2001:db8::/32"}}});
  HttpResult list = server_->As(*admin_, "GET", "/api/v1/users/minerva-client/apikeys");
  ASSERT_EQ(list.status, 200);
  const json::value listed = list.Json();
  json::value shown;
  for (const auto& key : listed.as_array()) {
    if (key.at("name") == "shown") shown = key;
  }
  ASSERT_TRUE(shown.is_object()) << list.body;
  EXPECT_EQ(shown.at("scopes"), (json::array{"keys:read", "minerva:query"}));
  EXPECT_EQ(shown.at("tags"), json::array{"team:x"});
  EXPECT_EQ(shown.at("allowed_addresses"), (json::array{"10.1.2.3/32", "2001:db8::/32"}));
  EXPECT_EQ(shown.at("full_access"), false);
  HttpResult reveal =
      server_->As(*admin_, "GET", "/api/v1/users/minerva-client/apikeys/shown/token");
  ASSERT_EQ(reveal.status, 200) << reveal.body;
  json::value revealed = reveal.Json();
  EXPECT_EQ(revealed.at("token"), json::value(token));
  EXPECT_EQ(revealed.at("name"), "shown");
  EXPECT_EQ(revealed.at("scopes"), shown.at("scopes"));
  EXPECT_EQ(revealed.at("tags"), shown.at("tags"));
  EXPECT_EQ(revealed.at("full_access"), false);
  // Live tags list as null.
  for (const auto& key : listed.as_array()) {
    if (key.at("name") == "plain") {
      EXPECT_TRUE(key.at("tags").is_null());
    }
  }
  HttpResult audit = server_->As(*admin_, "GET", "/api/v1/audit?user=minerva-client");
  ASSERT_EQ(audit.status, 200);
  bool found = false;
  const json::value events = audit.Json();
  for (const auto& event : events.at("events").as_array()) {
    if (event.at("action") != "key.create" || event.at("target") != "shown") continue;
    found = true;
    const std::string detail(event.at("detail").as_string());
    EXPECT_NE(detail.find("scopes=keys:read,minerva:query"), std::string::npos) << detail;
  }
  EXPECT_TRUE(found) << audit.body;
}

}  // namespace
}  // namespace keyward::testing
