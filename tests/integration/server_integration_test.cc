// Drives every /api/v1 route of the real server: keys, users, tags, sign-in, authorization,
// durability across kill -9, and what reaches disk and the log.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>
#include <utility>

#include "core/api_key.h"
#include "harness.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

bool IsRfc3339Utc(const json::value& v) {
  static const std::regex re("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$");
  return v.is_string() && std::regex_match(std::string(v.as_string()), re);
}

std::int64_t SecondsUntil(const json::value& rfc3339) {
  std::tm tm{};
  std::string s(rfc3339.as_string());
  strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return static_cast<std::int64_t>(timegm(&tm)) -
         std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count();
}

const json::value* FindByName(const json::value& list, const std::string& name) {
  for (const auto& item : list.as_array()) {
    if (item.at("name").as_string() == name) return &item;
  }
  return nullptr;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ServerProcess::Start();
    ASSERT_GT(server_->port(), 0);
    admin_ = server_->Login("admin", kAdminPassword);
    ASSERT_FALSE(admin_.empty());
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      // Acceptance: no key, password or session token ever reaches the log.
      ExpectNoSecretsIn({server_->log_path()});
    }
  }

  // Creates a key for `user` as `token` and remembers it as a secret.
  HttpResult CreateKey(const std::string& token, const std::string& user, json::object body) {
    HttpResult r =
        server_->As(token, "POST", "/api/v1/users/" + user + "/apikeys", std::move(body));
    if (r.status == 201) RememberSecret(std::string(r.Json().at("token").as_string()));
    return r;
  }

  // Creates a person with a password and returns their session token.
  std::string MakePerson(const std::string& id) {
    std::string password = "pw-" + id + "-secret-1";
    RememberSecret(password);
    HttpResult r = server_->As(
        admin_, "POST", "/api/v1/users",
        {{"id", id}, {"name", id + " person"}, {"type", "person"}, {"password", password}});
    EXPECT_EQ(r.status, 201) << r.body;
    return server_->Login(id, password);
  }

  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

// Issue 15's routes through the real server, each answer recorded for the OpenAPI conformance
// check: a key with a description is rotated (the old secret still works in its grace), edited
// and disabled, found by expiring_within; a webhook is added, listed, tested, its deliveries
// read (a refused connection to 127.0.0.1:1: pending, with the error) and deleted.
TEST(Issue15ServerTest, RotateEditWebhooksEndToEnd) {
  auto server = ServerProcess::Start({"--webhook-allow-private", "--webhook-timeout", "1s"});
  ASSERT_GT(server->port(), 0);
  const std::string admin = server->Login("admin", kAdminPassword);
  HttpResult made = server->As(admin, "POST", "/api/v1/users/me/apikeys",
                               {{"name", "ci"}, {"duration", "2h"}, {"description", "runner"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string old_key(made.Json().at("token").as_string());
  RememberSecret(old_key);
  HttpResult rotated =
      server->As(admin, "POST", "/api/v1/users/me/apikeys/ci/rotate", {{"grace", "10m"}});
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  const std::string new_key(rotated.Json().at("token").as_string());
  RememberSecret(new_key);
  EXPECT_EQ(rotated.Json().at("status"), "rotating");
  EXPECT_EQ(server->As(old_key, "GET", "/api/v1/users/me").status, 200);
  EXPECT_EQ(server->As(new_key, "GET", "/api/v1/users/me").status, 200);
  HttpResult edited = server->As(admin, "PATCH", "/api/v1/users/me/apikeys/ci",
                                 {{"description", "edited"}, {"disabled", true}});
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(edited.Json().at("status"), "disabled");
  EXPECT_EQ(server->As(new_key, "GET", "/api/v1/users/me").status, 401);
  EXPECT_EQ(server->As(admin, "PATCH", "/api/v1/users/me/apikeys/ci", json::object()).status, 400);
  HttpResult soon = server->As(admin, "GET", "/api/v1/users/me/apikeys?expiring_within=3h");
  ASSERT_EQ(soon.status, 200);
  ASSERT_EQ(soon.Json().as_array().size(), 1u) << soon.body;

  HttpResult hook =
      server->As(admin, "POST", "/api/v1/webhooks",
                 {{"url", "http://127.0.0.1:1/hook"}, {"events", json::array{"key.rotated"}}});
  ASSERT_EQ(hook.status, 201) << hook.body;
  RememberSecret(std::string(hook.Json().at("secret").as_string()));
  const std::string id(hook.Json().at("id").as_string());
  EXPECT_EQ(server->As(admin, "GET", "/api/v1/webhooks").status, 200);
  EXPECT_EQ(server->As(admin, "GET", "/api/v1/webhooks/" + id).status, 200);
  EXPECT_EQ(server->As(admin, "POST", "/api/v1/webhooks/" + id + "/test").status, 202);
  ASSERT_TRUE(Eventually(
      [&] {
        HttpResult d = server->As(admin, "GET", "/api/v1/webhooks/" + id + "/deliveries");
        return d.status == 200 && !d.Json().as_array().empty() &&
               d.Json().as_array()[0].at("attempts").as_int64() > 0;
      },
      std::chrono::seconds(10)))
      << "the test event was never attempted";
  EXPECT_EQ(server->As(admin, "GET", "/api/v1/webhooks/nope").status, 404);
  EXPECT_EQ(server->As(admin, "DELETE", "/api/v1/webhooks/" + id).status, 204);
  server->Stop();
  ExpectNoSecretsIn({server->log_path()});
}

// Issue 16's routes and key fields through the real server, each answer recorded for the OpenAPI
// conformance check: a key made with a rate limit, its limit changed and removed, its usage read
// by the hour and by the day, the busiest keys, and refusals. (The counts themselves are
// usage_test's.)
TEST(Issue16ServerTest, RateLimitAndUsageEndToEnd) {
  auto server = ServerProcess::Start();
  ASSERT_GT(server->port(), 0);
  const std::string admin = server->Login("admin", kAdminPassword);
  HttpResult made =
      server->As(admin, "POST", "/api/v1/users/me/apikeys",
                 {{"name", "limited"}, {"rate_limit", {{"requests", 10}, {"per", "1s"}}}});
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.Json().at("rate_limit"), (json::object{{"requests", 10}, {"per", "1s"}}));
  const std::string key(made.Json().at("token").as_string());
  RememberSecret(key);
  EXPECT_EQ(server->As(key, "GET", "/api/v1/users/me").status, 200);
  HttpResult changed = server->As(admin, "PATCH", "/api/v1/users/me/apikeys/limited",
                                  {{"rate_limit", {{"requests", 5}, {"per", "1m"}}}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.Json().at("rate_limit"), (json::object{{"requests", 5}, {"per", "1m"}}));
  HttpResult removed =
      server->As(admin, "PATCH", "/api/v1/users/me/apikeys/limited", {{"rate_limit", nullptr}});
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_TRUE(removed.Json().at("rate_limit").is_null());
  EXPECT_EQ(server
                ->As(admin, "PATCH", "/api/v1/users/me/apikeys/limited",
                     {{"rate_limit", {{"requests", 5}, {"per", "1m"}, {"burst", 1}}}})
                .status,
            400);

  HttpResult usage = server->As(admin, "GET", "/api/v1/users/me/apikeys/limited/usage?since=2h");
  ASSERT_EQ(usage.status, 200) << usage.body;
  EXPECT_EQ(usage.Json().at("buckets").as_array().size(), 3u) << usage.body;
  HttpResult days =
      server->As(admin, "GET", "/api/v1/users/me/apikeys/limited/usage?since=7d&granularity=day");
  ASSERT_EQ(days.status, 200) << days.body;
  EXPECT_EQ(days.Json().at("buckets").as_array().size(), 8u) << days.body;
  EXPECT_EQ(server->As(admin, "GET", "/api/v1/users/me/apikeys/limited/usage?since=40d").status,
            400);
  EXPECT_EQ(server->As(admin, "GET", "/api/v1/users/me/apikeys/absent/usage").status, 404);
  HttpResult top = server->As(admin, "GET", "/api/v1/usage/top?since=1h&limit=5");
  ASSERT_EQ(top.status, 200) << top.body;
  EXPECT_EQ(server->As(key, "GET", "/api/v1/usage/top").status, 403);  // no usage:read
  server->Stop();
  ExpectNoSecretsIn({server->log_path()});
}

TEST_F(ServerTest, HealthzAnswers) {
  HttpResult r = Call(server_->port(), "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().at("status").as_string(), "ok");
}

TEST_F(ServerTest, KeyLifecycleCreateListRevealDelete) {
  HttpResult created = CreateKey(admin_, "me", {{"name", "presto"}, {"duration", "30m"}});
  ASSERT_EQ(created.status, 201) << created.body;
  json::value key = created.Json();
  std::string token(key.at("token").as_string());
  EXPECT_EQ(key.at("name").as_string(), "presto");
  EXPECT_EQ(key.at("type").as_string(), "apikey");
  EXPECT_TRUE(IsRfc3339Utc(key.at("expiration"))) << key;
  EXPECT_NEAR(SecondsUntil(key.at("expiration")), 1800, 5);
  EXPECT_TRUE(IsWellFormedKey(token, "kw")) << token;
  EXPECT_EQ(created.Header("cache-control"), "no-store");

  HttpResult list = server_->As(admin_, "GET", "/api/v1/users/me/apikeys");
  ASSERT_EQ(list.status, 200);
  json::value list_json = list.Json();
  const json::value* listed = FindByName(list_json, "presto");
  ASSERT_NE(listed, nullptr) << list.body;
  EXPECT_EQ(listed->at("type").as_string(), "apikey");
  EXPECT_TRUE(IsRfc3339Utc(listed->at("expiration")));
  EXPECT_EQ(listed->at("expiration"), key.at("expiration"));
  EXPECT_EQ(listed->at("token").as_string(), MaskKey(token));
  EXPECT_EQ(list.body.find(token), std::string::npos) << "an unrevealed list shows the key";

  HttpResult revealed = server_->As(admin_, "GET", "/api/v1/users/me/apikeys?reveal=true");
  ASSERT_EQ(revealed.status, 200);
  json::value revealed_json = revealed.Json();
  ASSERT_NE(FindByName(revealed_json, "presto"), nullptr);
  EXPECT_EQ(FindByName(revealed_json, "presto")->at("token").as_string(), token);
  HttpResult one = server_->As(admin_, "GET", "/api/v1/users/admin/apikeys/presto/token");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.Json().at("token").as_string(), token);

  HttpResult me = server_->As(token, "GET", "/api/v1/users/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.Json().at("id").as_string(), "admin");
  EXPECT_EQ(me.Json().at("can_manage_users"), json::value(true));

  EXPECT_EQ(server_->As(admin_, "DELETE", "/api/v1/users/me/apikeys/presto").status, 204);
  json::value after = server_->As(admin_, "GET", "/api/v1/users/me/apikeys").Json();
  EXPECT_EQ(FindByName(after, "presto"), nullptr);
  EXPECT_EQ(server_->As(token, "GET", "/api/v1/users/me").status, 401);
  EXPECT_EQ(server_->As(admin_, "DELETE", "/api/v1/users/me/apikeys/presto").status, 404);
  EXPECT_EQ(server_->As(admin_, "GET", "/api/v1/users/me/apikeys/presto/token").status, 404);
}

TEST_F(ServerTest, DefaultsNameAndValidity) {
  HttpResult created = CreateKey(admin_, "me", {});
  ASSERT_EQ(created.status, 201) << created.body;
  json::value key = created.Json();
  EXPECT_TRUE(
      std::regex_match(std::string(key.at("name").as_string()), std::regex("^token_[a-z0-9]{19}$")))
      << key;
  EXPECT_NEAR(SecondsUntil(key.at("expiration")), 24 * 3600, 5);
}

TEST_F(ServerTest, DuplicateNameConflicts) {
  ASSERT_EQ(CreateKey(admin_, "me", {{"name", "dup"}}).status, 201);
  HttpResult again = CreateKey(admin_, "me", {{"name", "dup"}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.Json().at("error").at("code").as_string(), "already_exists");
}

TEST_F(ServerTest, BadAndTooLongDurationsAre400) {
  for (const char* d : {"soon", "24", "-1h", "0s", "1y"}) {
    HttpResult r = CreateKey(admin_, "me", {{"name", "x"}, {"duration", d}});
    EXPECT_EQ(r.status, 400) << d << " " << r.body;
    EXPECT_EQ(r.Json().at("error").at("code").as_string(), "invalid_argument");
  }
  EXPECT_EQ(CreateKey(admin_, "me", {{"name", "max"}, {"duration", "9999h"}}).status, 201);
  HttpResult over = CreateKey(admin_, "me", {{"name", "over"}, {"duration", "10000h"}});
  EXPECT_EQ(over.status, 400);
  EXPECT_NE(over.body.find("maximum"), std::string::npos) << over.body;
}

TEST_F(ServerTest, ExpiredKeysAreRefusedButStillListed) {
  HttpResult created = CreateKey(admin_, "me", {{"name", "brief"}, {"duration", "1s"}});
  ASSERT_EQ(created.status, 201);
  std::string token(created.Json().at("token").as_string());
  // Valid for 1 s, in whole seconds: refused within 2 s, and for good.
  EXPECT_TRUE(
      Eventually([&] { return server_->As(token, "GET", "/api/v1/users/me").status == 401; },
                 std::chrono::milliseconds(2100)));
  EXPECT_EQ(server_->As(token, "GET", "/api/v1/users/me").status, 401);
  json::value list = server_->As(admin_, "GET", "/api/v1/users/me/apikeys").Json();
  const json::value* listed = FindByName(list, "brief");
  ASSERT_NE(listed, nullptr);
  EXPECT_EQ(listed->at("expiration"), created.Json().at("expiration"));
  EXPECT_LE(SecondsUntil(listed->at("expiration")), 0);  // expired: expiration <= now
}

TEST_F(ServerTest, UsersCannotReachEachOthersKeys) {
  std::string alice = MakePerson("alice");
  std::string bob = MakePerson("bob");
  ASSERT_EQ(CreateKey(alice, "me", {{"name", "alice-key"}}).status, 201);
  ASSERT_EQ(CreateKey(alice, "alice", {{"name", "alice-key2"}}).status, 201);

  // Another user's keys and keys that do not exist look the same: 404.
  HttpResult list = server_->As(bob, "GET", "/api/v1/users/alice/apikeys");
  EXPECT_EQ(list.status, 404);
  EXPECT_EQ(list.body, server_->As(bob, "GET", "/api/v1/users/nobody/apikeys").body);
  EXPECT_EQ(server_->As(bob, "GET", "/api/v1/users/alice/apikeys?reveal=true").status, 404);
  EXPECT_EQ(server_->As(bob, "GET", "/api/v1/users/alice/apikeys/alice-key/token").status, 404);
  EXPECT_EQ(server_->As(bob, "DELETE", "/api/v1/users/alice/apikeys/alice-key").status, 404);
  EXPECT_EQ(CreateKey(bob, "alice", {{"name", "planted"}}).status, 404);
  // Alice still has her key.
  EXPECT_EQ(server_->As(alice, "GET", "/api/v1/users/me/apikeys/alice-key/token").status, 200);

  // Operator routes: 403 for a non-operator, who is told so by /users/me.
  EXPECT_EQ(server_->As(bob, "GET", "/api/v1/users").status, 403);
  EXPECT_EQ(server_->As(bob, "GET", "/api/v1/users/me").Json().at("can_manage_users"),
            json::value(false));
  EXPECT_EQ(server_
                ->As(bob, "POST", "/api/v1/users",
                     {{"id", "mallory"}, {"name", "m"}, {"type", "application"}})
                .status,
            403);
  EXPECT_EQ(server_->As(bob, "GET", "/api/v1/users/alice").status, 403);
  EXPECT_EQ(server_->As(bob, "DELETE", "/api/v1/users/alice").status, 403);
  EXPECT_EQ(
      server_->As(bob, "POST", "/api/v1/users/bob/tags", {{"tag", "roles:id:operator"}}).status,
      403);
  EXPECT_EQ(server_->As(bob, "DELETE", "/api/v1/users/alice/tags/x").status, 403);
  // A user may read themselves.
  EXPECT_EQ(server_->As(bob, "GET", "/api/v1/users/bob").status, 200);

  // Operators reach everyone's keys.
  HttpResult as_admin = server_->As(admin_, "GET", "/api/v1/users/alice/apikeys");
  ASSERT_EQ(as_admin.status, 200);
  EXPECT_EQ(as_admin.Json().as_array().size(), 2u);
}

// Every route that needs a credential, as the server's own document lists them:
// src/api/openapi_test.cc checks that the document has exactly the router's routes, with
// "security": [] exactly for the public ones, so a new route is walked here too.
std::vector<std::pair<std::string, std::string>> ProtectedRoutes(std::uint16_t port) {
  std::vector<std::pair<std::string, std::string>> routes;
  HttpResult doc = Call(port, "GET", "/api/v1/openapi.json");
  EXPECT_EQ(doc.status, 200);
  if (doc.status != 200) return routes;
  static const std::regex placeholder("\\{[^}]+\\}");
  const boost::json::value document = doc.Json();
  for (const auto& [path, item] : document.at("paths").as_object()) {
    if (!std::string_view(path).starts_with("/api/v1/")) continue;
    for (const auto& [method, op] : item.as_object()) {
      if (!op.is_object() || !op.as_object().contains("security")) continue;  // "parameters"
      if (op.at("security").as_array().empty()) continue;                     // public
      std::string upper(method);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      routes.emplace_back(upper, std::regex_replace(std::string(path), placeholder, "admin"));
    }
  }
  return routes;
}

TEST_F(ServerTest, EveryProtectedRouteNeedsACredential) {
  const auto routes = ProtectedRoutes(server_->port());
  EXPECT_GE(routes.size(), 14u);
  std::string garbage = "kw_" + std::string(49, 'A');
  for (const auto& [method, path] : routes) {
    HttpResult none = Call(server_->port(), method, path);
    EXPECT_EQ(none.status, 401) << method << " " << path;
    EXPECT_EQ(none.Header("www-authenticate"), "Bearer") << method << " " << path;
    EXPECT_EQ(none.Json().at("error").at("code").as_string(), "unauthenticated");
    HttpResult bad =
        Call(server_->port(), method, path, "", {{"Authorization", "Bearer " + garbage}});
    EXPECT_EQ(bad.status, 401) << method << " " << path;
    EXPECT_EQ(bad.body, none.body);
  }
}

TEST_F(ServerTest, KeyCarriers) {
  HttpResult created = CreateKey(admin_, "me", {{"name", "carried"}});
  std::string token(created.Json().at("token").as_string());
  const std::vector<std::pair<std::string, std::string>> ok = {
      {"Authorization", "Bearer " + token},
      {"Authorization", "bearer " + token},
      {"Authorization", token},
      {"apikey", token},
  };
  for (const auto& header : ok) {
    HttpResult r = Call(server_->port(), "GET", "/api/v1/users/me", "", {header});
    EXPECT_EQ(r.status, 200) << header.first << ": " << header.second.substr(0, 7);
  }
  // The Authorization header decides even when an apikey header is also present.
  HttpResult r = Call(server_->port(), "GET", "/api/v1/users/me", "",
                      {{"Authorization", "Basic Zm9vOmJhcg=="}, {"apikey", token}});
  EXPECT_EQ(r.status, 401);
}

TEST_F(ServerTest, SignInFailuresAreUniformAndThrottled) {
  std::string password = "bob-password-1";
  RememberSecret(password);
  ASSERT_EQ(server_
                ->As(admin_, "POST", "/api/v1/users",
                     {{"id", "bob"}, {"name", "Bob"}, {"password", password}})
                .status,
            201);
  auto login = [&](const std::string& user, const std::string& pw) {
    return Call(server_->port(), "POST", "/api/v1/login",
                json::serialize(json::value{{"username", user}, {"password", pw}}));
  };
  HttpResult wrong = login("bob", "not-the-password");
  HttpResult unknown = login("nobody", "not-the-password");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.status, unknown.status);
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_TRUE(wrong.Header("set-cookie").empty());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(login("bob", "not-the-password").status, 401);
  // Five failures: now even the right password waits.
  HttpResult throttled = login("bob", password);
  EXPECT_EQ(throttled.status, 429) << throttled.body;
  EXPECT_FALSE(throttled.Header("retry-after").empty());
  // The owner gets in once the backoff has passed.
  std::this_thread::sleep_for(std::chrono::seconds(std::stoi(throttled.Header("retry-after"))));
  EXPECT_EQ(login("bob", password).status, 200);
}

TEST_F(ServerTest, LogoutRevokesTheSession) {
  std::string session = server_->Login("admin", kAdminPassword);
  ASSERT_EQ(server_->As(session, "GET", "/api/v1/users/me").status, 200);
  HttpResult out = server_->As(session, "POST", "/api/v1/logout");
  EXPECT_EQ(out.status, 204);
  EXPECT_EQ(server_->As(session, "GET", "/api/v1/users/me").status, 401);
  EXPECT_EQ(server_->As(admin_, "GET", "/api/v1/users/me").status, 200);
}

TEST_F(ServerTest, LoginSetsAStrictHttpOnlyCookie) {
  HttpResult r =
      Call(server_->port(), "POST", "/api/v1/login",
           json::serialize(json::value{{"username", "admin"}, {"password", kAdminPassword}}));
  ASSERT_EQ(r.status, 200);
  RememberSecret(std::string(r.Json().at("token").as_string()));
  std::string cookie = r.Header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_TRUE(IsRfc3339Utc(r.Json().at("expiration")));
  EXPECT_NEAR(SecondsUntil(r.Json().at("expiration")), 12 * 3600, 5);
}

TEST_F(ServerTest, UsersAndTags) {
  HttpResult created = server_->As(
      admin_, "POST", "/api/v1/users",
      {{"id", "lakesearchapi"}, {"name", "lakesearch_app_token"}, {"type", "application"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json().at("type").as_string(), "application");
  EXPECT_EQ(server_
                ->As(admin_, "POST", "/api/v1/users",
                     {{"id", "lakesearchapi"}, {"name", "again"}, {"type", "application"}})
                .status,
            409);
  EXPECT_EQ(server_
                ->As(admin_, "POST", "/api/v1/users",
                     {{"id", "Bad Id"}, {"name", "x"}, {"type", "application"}})
                .status,
            400);
  EXPECT_EQ(
      server_->As(admin_, "POST", "/api/v1/users", {{"id", "x"}, {"name", "x"}, {"type", "robot"}})
          .status,
      400);

  HttpResult tagged = server_->As(admin_, "POST", "/api/v1/users/lakesearchapi/tags",
                                  {{"tag", "roles:id:data-dev"}});
  ASSERT_EQ(tagged.status, 200) << tagged.body;
  EXPECT_EQ(tagged.Json().at("tags").as_array().size(), 1u);

  HttpResult key =
      CreateKey(admin_, "lakesearchapi", {{"name", "lakesearch_app_api"}, {"duration", "9999h"}});
  ASSERT_EQ(key.status, 201) << key.body;
  std::string token(key.Json().at("token").as_string());
  HttpResult me = server_->As(token, "GET", "/api/v1/users/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.Json().at("id").as_string(), "lakesearchapi");
  EXPECT_EQ(me.Json().at("tags").as_array()[0].as_string(), "roles:id:data-dev");

  HttpResult users = server_->As(admin_, "GET", "/api/v1/users");
  ASSERT_EQ(users.status, 200);
  EXPECT_EQ(users.Json().as_array().size(), 2u);
  EXPECT_EQ(server_->As(admin_, "GET", "/api/v1/users/lakesearchapi").status, 200);

  EXPECT_EQ(
      server_->As(admin_, "DELETE", "/api/v1/users/lakesearchapi/tags/roles:id:data-dev").status,
      200);
  EXPECT_EQ(
      server_->As(admin_, "DELETE", "/api/v1/users/lakesearchapi/tags/roles:id:data-dev").status,
      404);
  EXPECT_EQ(server_->As(admin_, "DELETE", "/api/v1/users/lakesearchapi").status, 204);
  EXPECT_EQ(server_->As(token, "GET", "/api/v1/users/me").status, 401);
  EXPECT_EQ(server_->As(admin_, "GET", "/api/v1/users/lakesearchapi").status, 404);
  EXPECT_EQ(server_->As(admin_, "DELETE", "/api/v1/users/admin").status, 400);
}

TEST_F(ServerTest, MalformedRequestsGet4xx) {
  EXPECT_EQ(Call(server_->port(), "GET", "/api/v1/nothing").status, 404);
  HttpResult wrong_method = Call(server_->port(), "PUT", "/api/v1/login");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.Header("allow"), "POST");
  auto post = [&](const std::string& body, const std::string& type) {
    return Call(server_->port(), "POST", "/api/v1/users/me/apikeys", body,
                {{"Authorization", "Bearer " + admin_}, {"Content-Type", type}});
  };
  EXPECT_EQ(post("{", "application/json").status, 400);
  EXPECT_EQ(post("[]", "application/json").status, 400);
  EXPECT_EQ(post(R"({"name":"a","name":"b"})", "application/json").status, 400);
  EXPECT_EQ(post(R"({"name":7})", "application/json").status, 400);
  EXPECT_EQ(post(R"({"name":"x"})", "text/plain").status, 415);
  EXPECT_EQ(post(std::string(5000, '[') + std::string(5000, ']'), "application/json").status, 400);
}

TEST_F(ServerTest, UnicodeNamesRoundTripAndLongNamesAreRefused) {
  const std::string name = "caf\xC3\xA9 \xF0\x9F\x94\x91 e\xCC\x81 '; DROP TABLE api_keys;--";
  ASSERT_EQ(CreateKey(admin_, "me", {{"name", name}}).status, 201);
  json::value list = server_->As(admin_, "GET", "/api/v1/users/me/apikeys").Json();
  EXPECT_NE(FindByName(list, name), nullptr) << list;
  HttpResult too_long = CreateKey(admin_, "me", {{"name", std::string(129, 'n')}});
  EXPECT_EQ(too_long.status, 400);
  // Deleting by the percent-encoded name finds it.
  EXPECT_EQ(server_
                ->As(admin_, "DELETE",
                     "/api/v1/users/me/apikeys/caf%C3%A9%20%F0%9F%94%91%20e%CC%81%20'%3B%20DROP%"
                     "20TABLE%20api_keys%3B--")
                .status,
            204);
}

TEST(ServerDurability, CreatedKeySurvivesKillNine) {
  std::string data_dir = MakeTempDir();
  std::string token;
  {
    auto server = ServerProcess::Start({}, data_dir);
    std::string admin = server->Login("admin", kAdminPassword);
    // keys:reveal: the key reveals itself below (a key has only the scopes it is given).
    HttpResult r = server->As(admin, "POST", "/api/v1/users/me/apikeys",
                              {{"name", "durable"}, {"scopes", boost::json::array{"keys:reveal"}}});
    ASSERT_EQ(r.status, 201);
    token = std::string(r.Json().at("token").as_string());
    RememberSecret(token);
    server->Kill();  // SIGKILL right after the 201
  }
  auto server = ServerProcess::Start({}, data_dir);
  EXPECT_EQ(server->As(token, "GET", "/api/v1/users/me").status, 200);
  HttpResult revealed = server->As(token, "GET", "/api/v1/users/me/apikeys/durable/token");
  ASSERT_EQ(revealed.status, 200);
  EXPECT_EQ(revealed.Json().at("token").as_string(), token);
  server->Stop();
  RemoveTree(data_dir);
}

TEST(ServerFiles, DiskHoldsNoSecretsAndIsPrivate) {
  std::string data_dir = MakeTempDir() + "/fresh";
  auto server = ServerProcess::Start({}, data_dir);
  std::string admin = server->Login("admin", kAdminPassword);
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    HttpResult r =
        server->As(admin, "POST", "/api/v1/users/me/apikeys", {{"name", "k" + std::to_string(i)}});
    ASSERT_EQ(r.status, 201);
    created.emplace_back(r.Json().at("token").as_string());
    RememberSecret(created.back());
  }
  std::string master = ReadFile(data_dir + "/master.key");
  ASSERT_EQ(master.size(), 65u);
  // The master key, in hex as in its file, must not be in the database either.
  std::vector<std::string> files = {data_dir + "/keyward.db", data_dir + "/keyward.db-wal",
                                    data_dir + "/keyward.db-shm", server->log_path()};
  for (const auto& file : {data_dir + "/keyward.db", data_dir + "/keyward.db-wal"}) {
    std::string content = ReadFile(file);
    EXPECT_EQ(content.find(master.substr(0, 64)), std::string::npos) << file;
    for (const auto& key : created) EXPECT_EQ(content.find(key), std::string::npos) << file;
    EXPECT_EQ(content.find(kAdminPassword), std::string::npos) << file;
  }
  ExpectNoSecretsIn(files);
  EXPECT_GT(
      ReadFile(data_dir + "/keyward.db-wal").size() + ReadFile(data_dir + "/keyward.db").size(),
      0u);

  auto mode = [](const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  };
  EXPECT_EQ(mode(data_dir), 0700u);
  EXPECT_EQ(mode(data_dir + "/keyward.db"), 0600u);
  EXPECT_EQ(mode(data_dir + "/master.key"), 0600u);
  server->Stop();
  RemoveTree(std::filesystem::path(data_dir).parent_path().string());
}

TEST(ServerRevealOff, KeysAreShownOnceAndNeverKept) {
  auto server = ServerProcess::Start({"--reveal=false"});
  std::string admin = server->Login("admin", kAdminPassword);
  HttpResult r = server->As(admin, "POST", "/api/v1/users/me/apikeys", {{"name", "once"}});
  ASSERT_EQ(r.status, 201);
  std::string token(r.Json().at("token").as_string());
  RememberSecret(token);
  EXPECT_TRUE(IsWellFormedKey(token, "kw"));
  EXPECT_EQ(server->As(token, "GET", "/api/v1/users/me").status, 200);
  HttpResult list = server->As(admin, "GET", "/api/v1/users/me/apikeys?reveal=true");
  ASSERT_EQ(list.status, 200);
  json::value list_json = list.Json();
  ASSERT_NE(FindByName(list_json, "once"), nullptr);
  EXPECT_EQ(FindByName(list_json, "once")->at("token").as_string(), MaskKey(token));
  EXPECT_EQ(server->As(admin, "GET", "/api/v1/users/me/apikeys/once/token").status, 403);
  EXPECT_FALSE(std::filesystem::exists(server->data_dir() + "/master.key"));
  server->Stop();
  ExpectNoSecretsIn({server->log_path()});
}

TEST(ServerPrefix, CustomKeyPrefixAndValidityFlagsFromEnvironment) {
  auto server = ServerProcess::Start({}, "",
                                     {{"KEYWARD_KEY_PREFIX", "acme"},
                                      {"KEYWARD_DEFAULT_VALIDITY", "2h"},
                                      {"KEYWARD_MAX_VALIDITY", "48h"}});
  std::string admin = server->Login("admin", kAdminPassword);
  EXPECT_TRUE(admin.starts_with("acme_"));
  HttpResult r = server->As(admin, "POST", "/api/v1/users/me/apikeys", json::object{});
  ASSERT_EQ(r.status, 201);
  RememberSecret(std::string(r.Json().at("token").as_string()));
  EXPECT_TRUE(IsWellFormedKey(r.Json().at("token").as_string(), "acme"));
  EXPECT_NEAR(SecondsUntil(r.Json().at("expiration")), 2 * 3600, 5);
  EXPECT_EQ(server->As(admin, "POST", "/api/v1/users/me/apikeys", {{"duration", "49h"}}).status,
            400);
  server->Stop();
}

// Not on a terminal (here: a log file), the generated password goes to a private file in the
// data dir, never to the output; the output says where it is.
TEST(ServerBootstrap, GeneratedAdminPasswordGoesToAPrivateFileAndWorks) {
  std::string data_dir = MakeTempDir();
  std::string password;
  {
    auto server = ServerProcess::Start({}, data_dir, {{"KEYWARD_ADMIN_PASSWORD", ""}});
    const std::string file = data_dir + "/initial-admin-password";
    std::string log = server->Log();
    EXPECT_NE(log.find(file), std::string::npos) << log;
    password = ReadFile(file);
    ASSERT_TRUE(password.ends_with("\n"));
    password.pop_back();
    ASSERT_GE(password.size(), 16u);
    EXPECT_EQ(log.find(password), std::string::npos) << "the password reached the log";
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(server->Login("admin", password).empty());
    server->Stop();
  }
  auto again = ServerProcess::Start({}, data_dir, {{"KEYWARD_ADMIN_PASSWORD", ""}});
  EXPECT_EQ(again->Log().find(password), std::string::npos) << "printed twice";
  EXPECT_FALSE(again->Login("admin", password).empty());
  again->Stop();
  RemoveTree(data_dir);
}

// `taskset -c <one CPU> keyward serve` with no --threads, as a container limited to one CPU runs
// it: one network thread, and the start-up line says why. (ServerProcess::Start passes
// --threads 2.)
TEST(ServerThreads, DefaultNetworkThreadsFollowTheAffinityMask) {
  const std::string root = MakeTempDir();
  const std::string log_path = root + "/server.log";
  // The first CPU this test may use (CPU 0 is not always one of them).
  cpu_set_t mine;
  ASSERT_EQ(sched_getaffinity(0, sizeof(mine), &mine), 0);
  int cpu = 0;
  while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &mine)) ++cpu;
  const pid_t pid = Spawn({"/usr/bin/taskset", "-c", std::to_string(cpu), KeywardBinary(), "serve",
                           "--listen", "127.0.0.1:0", "--data-dir", root + "/data"},
                          log_path, {{"KEYWARD_ADMIN_PASSWORD", kAdminPassword}});
  ASSERT_GT(pid, 0);
  std::string log;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (log.find(" blocking threads)") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log = ReadFile(log_path);
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log;
  EXPECT_NE(log.find(" 1 network thread (one per usable CPU: 1 CPU in the affinity mask"),
            std::string::npos)
      << log;
  RemoveTree(root);

  auto flagged = ServerProcess::Start();  // with --threads 2
  const std::string flagged_log = flagged->Log();
  EXPECT_NE(flagged_log.find(" 2 network threads (--network-threads)"), std::string::npos)
      << flagged_log;
}

TEST(ServerShutdown, SigtermExitsCleanly) {
  auto server = ServerProcess::Start();
  int status = server->Stop();
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(server->Log().find("keyward stopped"), std::string::npos);
}

}  // namespace
}  // namespace keyward::testing

namespace keyward::testing {
namespace {

TEST(ServerWeb, UiIsServedWithAStrictPolicy) {
  auto server = ServerProcess::Start();
  HttpResult index = Call(server->port(), "GET", "/");
  ASSERT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("/assets/app.js"), std::string::npos);
  std::string csp = index.Header("content-security-policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(index.Header("x-frame-options"), "DENY");
  EXPECT_EQ(Call(server->port(), "GET", "/assets/app.js").Header("content-type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(Call(server->port(), "GET", "/assets/../master.key").status, 404);
  EXPECT_EQ(Call(server->port(), "GET", "/api/v1/settings").Json().at("max_validity_seconds"),
            9999 * 3600);
  server->Stop();
}

TEST(ServerWeb, CookieSessionsNeedTheCsrfHeaderToChangeThings) {
  auto server = ServerProcess::Start();
  std::string session = server->Login("admin", kAdminPassword);
  const std::string cookie = "keyward_session=" + session;
  const std::string body = R"({"name":"via-cookie"})";
  EXPECT_EQ(Call(server->port(), "GET", "/api/v1/users/me", "", {{"Cookie", cookie}}).status, 200);
  EXPECT_EQ(
      Call(server->port(), "POST", "/api/v1/users/me/apikeys", body, {{"Cookie", cookie}}).status,
      403);
  EXPECT_EQ(Call(server->port(), "POST", "/api/v1/users/me/apikeys", body,
                 {{"Cookie", cookie}, {"X-Keyward-CSRF", "1"}, {"Origin", "http://evil.example"}})
                .status,
            403);
  HttpResult ok = Call(server->port(), "POST", "/api/v1/users/me/apikeys", body,
                       {{"Cookie", cookie}, {"X-Keyward-CSRF", "1"}});
  ASSERT_EQ(ok.status, 201);
  RememberSecret(std::string(ok.Json().at("token").as_string()));
  // Sign-in from another site's page is refused too (login CSRF).
  EXPECT_EQ(Call(server->port(), "POST", "/api/v1/login", R"({"username":"admin","password":"x"})",
                 {{"Origin", "http://evil.example"}})
                .status,
            403);
  server->Stop();
  ExpectNoSecretsIn({server->log_path()});
}

}  // namespace
}  // namespace keyward::testing
