// Runs Debian's real nginx in front of a real Keyward, with the `auth_request` configurations
// docs/gateways.md shows (its ```nginx blocks, read from the page itself, so the examples there
// are what is tested; see nginx_gateway.h), and the page's curl examples against them. Address
// limits behind nginx are in nginx_grants_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <regex>
#include <sstream>

#include "core/api_key.h"
#include "harness.h"
#include "nginx_gateway.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

// The blocks NginxGateway runs are the page's: the plain gateway, the one that requires a
// scope and the one that answers rate limits with 429, each with the directives that make it
// safe, and no other nginx block.
TEST(NginxDocs, GatewaysPageHasTheTestedConfigs) {
  std::vector<std::string> blocks = DocumentedBlocks("nginx");
  ASSERT_EQ(blocks.size(), 3u) << "docs/gateways.md: every ```nginx block must be run here";
  const std::vector<const char*> both = {
      "auth_request_set $kw_user $upstream_http_x_keyward_user;",
      "auth_request_set $kw_scopes $upstream_http_x_keyward_scopes;",
      "proxy_set_header X-Keyward-User $kw_user;",
      "proxy_set_header X-Keyward-Scopes $kw_scopes;",
      "proxy_pass_request_body off;",
      "internal;",
      "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"};
  for (const std::string& block : blocks) {
    for (const char* directive : both) {
      EXPECT_NE(block.find(directive), std::string::npos) << directive;
    }
  }
  for (const char* directive :
       {"listen 80;", "auth_request /_keyward;", "proxy_pass http://127.0.0.1:8080/auth;",
        "listen 127.0.0.1:9000;"}) {
    EXPECT_NE(blocks[0].find(directive), std::string::npos) << directive;
  }
  for (const char* directive : {"listen 81;", "auth_request /_keyward_minerva;",
                                "proxy_pass http://127.0.0.1:8080/auth?scope=minerva:query;",
                                "auth_request_set $kw_reason $upstream_http_x_keyward_reason;",
                                "add_header X-Keyward-Reason $kw_reason always;"}) {
    EXPECT_NE(blocks[1].find(directive), std::string::npos) << directive;
  }
  for (const char* directive :
       {"listen 82;", "auth_request /_keyward_limited;", "proxy_pass http://127.0.0.1:8080/auth;",
        "auth_request_set $keyward_reason $upstream_http_x_keyward_reason;",
        "auth_request_set $keyward_retry_after $upstream_http_retry_after;",
        "error_page 403 = @keyward_forbidden;", "location @keyward_forbidden {",
        "if ($keyward_reason = rate_limited) {",
        "add_header Retry-After $keyward_retry_after always;", "return 429 ",
        "proxy_set_header X-Keyward-Rate-Limit-Status 403;"}) {
    EXPECT_NE(blocks[2].find(directive), std::string::npos) << directive;
  }
}

// README's gateway paragraph quotes the scoped gateway's directive as the page has it.
TEST(NginxDocs, ReadmeQuotesTheTestedDirective) {
  const std::string readme = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/README.md");
  const std::string directive = "proxy_pass http://127.0.0.1:8080/auth?scope=minerva:query;";
  EXPECT_NE(readme.find("`" + directive + "`"), std::string::npos);
  std::vector<std::string> blocks = DocumentedBlocks("nginx");
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_NE(blocks[1].find(directive), std::string::npos);
}
class NginxTest : public NginxGateway {
 protected:
  void SetUp() override { StartGateway({}); }

  // The tags of `user` as /auth sends them: joined by ",".
  std::string TagsOf(const std::string& user) {
    HttpResult r = keyward_->As(admin_, "GET", "/api/v1/users/" + user);
    EXPECT_EQ(r.status, 200) << r.body;
    std::string tags;
    if (r.status != 200) return tags;
    json::value user_json = r.Json();
    for (const auto& tag : user_json.at("tags").as_array()) {
      if (!tags.empty()) tags += ",";
      tags += std::string(tag.as_string());
    }
    return tags;
  }

  // An application user with two tags.
  void MakeTaggedUser(const std::string& id) {
    ASSERT_EQ(keyward_
                  ->As(admin_, "POST", "/api/v1/users",
                       {{"id", id}, {"name", id + " app"}, {"type", "application"}})
                  .status,
              201);
    for (const char* tag : {"roles:id:data-dev", "roles:id:user"}) {
      ASSERT_EQ(
          keyward_->As(admin_, "POST", "/api/v1/users/" + id + "/tags", {{"tag", tag}}).status,
          200);
    }
  }
};

TEST_F(NginxTest, ValidKeyReachesTheServiceWithItsUserAndTags) {
  std::string key = CreateKey("me", "gw-admin");
  ASSERT_FALSE(key.empty());
  std::string admin_tags = TagsOf("admin");
  EXPECT_EQ(admin_tags, "roles:id:operator");
  HttpResult r = Get({{"Authorization", "Bearer " + key}});
  EXPECT_EQ(r.status, 200) << r.body << nginx_->Logs();
  EXPECT_EQ(r.body, Echo("admin", admin_tags, "gw-admin"));
  EXPECT_EQ(UpstreamHits(), 1);

  // Another user's key: that user, with both tags, reaches the service.
  MakeTaggedUser("lakesearchapi");
  std::string app_key = CreateKey("lakesearchapi", "lakesearch_app_api");
  std::string app_tags = TagsOf("lakesearchapi");
  EXPECT_NE(app_tags.find("roles:id:data-dev"), std::string::npos) << app_tags;
  EXPECT_NE(app_tags.find("roles:id:user"), std::string::npos) << app_tags;
  EXPECT_NE(app_tags.find(','), std::string::npos) << app_tags;
  r = Get({{"Authorization", "Bearer " + app_key}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, Echo("lakesearchapi", app_tags, "lakesearch_app_api"));
  // The other carriers work through nginx too: the subrequest has every header.
  r = Get({{"apikey", app_key}});
  EXPECT_EQ(r.body, Echo("lakesearchapi", app_tags, "lakesearch_app_api"));
  r = Get({{"Authorization", app_key}});
  EXPECT_EQ(r.body, Echo("lakesearchapi", app_tags, "lakesearch_app_api"));
  EXPECT_EQ(UpstreamHits(), 4);
}

TEST_F(NginxTest, MissingAndBadKeysAreRefusedBeforeTheService) {
  std::string key = CreateKey("me", "to-damage");
  ASSERT_FALSE(key.empty());
  const std::string typo = WithTypo(key);  // the checksum no longer matches
  const std::vector<std::pair<std::string, Headers>> refused = {
      {"no key", {}},
      {"garbage", {{"Authorization", "Bearer not-a-key"}}},
      {"garbage shaped like a key", {{"Authorization", "Bearer kw_" + std::string(49, 'A')}}},
      {"wrong checksum", {{"Authorization", "Bearer " + typo}}},
      {"unknown key", {{"Authorization", "Bearer " + GenerateKey("kw")}}},
      {"garbage apikey header", {{"apikey", "nope"}}},
  };
  for (const auto& [what, headers] : refused) ExpectRefused(Get(headers), what);
  EXPECT_EQ(UpstreamHits(), 0);
  // The undamaged key still passes, so the refusals above were about the keys.
  EXPECT_EQ(Get({{"Authorization", "Bearer " + key}}).status, 200);
  EXPECT_EQ(UpstreamHits(), 1);
}

TEST_F(NginxTest, ExpiredKeyIsRefused) {
  std::string key = CreateKey("me", "brief", "2s");
  ASSERT_FALSE(key.empty());
  EXPECT_EQ(Get({{"Authorization", "Bearer " + key}}).status, 200);
  // The expiration is in whole seconds: wait until one second past it.
  std::tm tm{};
  ASSERT_NE(::strptime(last_expiration_.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr);
  auto expires = std::chrono::system_clock::from_time_t(::timegm(&tm));
  auto wait = expires + std::chrono::seconds(1) - std::chrono::system_clock::now();
  ASSERT_LE(wait, std::chrono::seconds(4));
  // Asked directly (not through nginx, which would pass a valid key on to the upstream), Keyward
  // refuses it from its expiration on, in whole seconds: at the latest a second after it.
  EXPECT_TRUE(Eventually(
      [&] {
        return Call(keyward_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + key}})
                   .status == 401;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(wait)));
  ExpectRefused(Get({{"Authorization", "Bearer " + key}}), "expired key");
  EXPECT_EQ(UpstreamHits(), 1);
}

TEST_F(NginxTest, DeletedKeyIsRefused) {
  std::string key = CreateKey("me", "short-lived");
  ASSERT_FALSE(key.empty());
  EXPECT_EQ(Get({{"Authorization", "Bearer " + key}}).status, 200);
  ASSERT_EQ(keyward_->As(admin_, "DELETE", "/api/v1/users/me/apikeys/short-lived").status, 204);
  ExpectRefused(Get({{"Authorization", "Bearer " + key}}), "deleted key");
  EXPECT_EQ(UpstreamHits(), 1);
}

TEST_F(NginxTest, ClientsCannotForgeTheIdentityHeaders) {
  const Headers forged = {{"X-Keyward-User", "admin"},
                          {"X-Keyward-Tags", "roles:id:operator"},
                          {"X-Keyward-Key-Name", "forged"},
                          {"X-Keyward-Scopes", "minerva:query"}};
  // Forged headers and no key: refused.
  ExpectRefused(Get(forged), "forged headers, no key");
  EXPECT_EQ(UpstreamHits(), 0);

  // Forged headers with a valid key of another user: the service sees the key's owner.
  MakeTaggedUser("lakesearchapi");
  std::string app_key = CreateKey("lakesearchapi", "lakesearch_app_api");
  Headers with_key = forged;
  with_key.emplace_back("Authorization", "Bearer " + app_key);
  HttpResult r = Get(with_key);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Echo("lakesearchapi", TagsOf("lakesearchapi"), "lakesearch_app_api"));

  // A session token has no key name: the forged one must not get through either.
  Headers with_session = forged;
  with_session.emplace_back("Authorization", "Bearer " + admin_);
  r = Get(with_session);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Echo("admin", "roles:id:operator", "", "*"));
  EXPECT_EQ(UpstreamHits(), 2);
}

TEST_F(NginxTest, KeywardDownMeansDenied) {
  std::string key = CreateKey("me", "gw-admin");
  ASSERT_FALSE(key.empty());
  ASSERT_EQ(Get({{"Authorization", "Bearer " + key}}).status, 200);
  keyward_->Stop();
  for (const Headers& headers : {Headers{{"Authorization", "Bearer " + key}}, Headers{}}) {
    HttpResult r = Get(headers);
    EXPECT_TRUE(r.status < 200 || r.status >= 300) << r.status << " with Keyward stopped";
    EXPECT_EQ(r.body.find("upstream saw"), std::string::npos) << r.body;
  }
  EXPECT_EQ(UpstreamHits(), 1);
}

TEST_F(NginxTest, TheScopedGatewayLetsOnlyKeysWithTheScopeThrough) {
  const std::string with = CreateGrantedKey("minerva-driver", {"minerva:query"});
  const std::string two = CreateGrantedKey("two-scopes", {"minerva:query", "pulsar:produce"});
  const std::string without = CreateGrantedKey("other-driver", {});
  ASSERT_FALSE(with.empty() || two.empty() || without.empty());
  HttpResult r = GetScoped({{"Authorization", "Bearer " + with}});
  EXPECT_EQ(r.status, 200) << r.body << nginx_->Logs();
  EXPECT_EQ(r.body, Echo("admin", "roles:id:operator", "minerva-driver", "minerva:query"));
  r = GetScoped({{"apikey", two}});
  EXPECT_EQ(r.body,
            Echo("admin", "roles:id:operator", "two-scopes", "minerva:query,pulsar:produce"));
  // A session holds every scope.
  r = GetScoped({{"Authorization", "Bearer " + admin_}});
  EXPECT_EQ(r.body, Echo("admin", "roles:id:operator", "", "*"));
  EXPECT_EQ(UpstreamHits(), 3);

  ExpectForbidden(GetScoped({{"Authorization", "Bearer " + without}}), "scope", "no scopes");
  // What a client sends only adds requirements: it cannot lift one, and one it adds holds.
  ExpectForbidden(
      GetScoped({{"Authorization", "Bearer " + without}, {"X-Keyward-Require-Scope", ""}}), "scope",
      "an empty requirement header");
  ExpectForbidden(GetScoped({{"Authorization", "Bearer " + with},
                             {"X-Keyward-Require-Scope", "pulsar:produce"}}),
                  "scope", "a requirement the client added");
  ExpectRefused(GetScoped(), "no key");
  ExpectRefused(GetScoped({{"Authorization", "Bearer not-a-key"}}), "garbage");
  EXPECT_EQ(UpstreamHits(), 3);

  // Without the scope a key still passes where nothing is required.
  r = Get({{"Authorization", "Bearer " + without}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, Echo("admin", "roles:id:operator", "other-driver", ""));
  EXPECT_EQ(UpstreamHits(), 4);

  // Keyward's own answer (nginx shows its error page instead) names what the key lacks.
  r = Call(keyward_->port(), "GET", "/auth?scope=minerva:query", "",
           {{"Authorization", "Bearer " + without}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Header("x-keyward-reason"), "scope");
  ASSERT_EQ(r.Header("content-type").rfind("application/json", 0), 0u) << r.body;
  EXPECT_EQ(r.Json(), json::parse(R"({"error":{"code":"permission_denied",)"
                                  R"("message":"the key lacks the scope minerva:query"}})"));
}

// Each ```sh block of the page, run with bash against this nginx: every `# <text>` line under
// a command is text its output must hold, in that order.
TEST_F(NginxTest, DocumentedCurlExamplesAnswerAsShown) {
  std::vector<std::string> blocks = DocumentedBlocks("sh");
  ASSERT_EQ(blocks.size(), 2u) << "docs/gateways.md: every ```sh block must be run here";
  const std::string key = CreateGrantedKey("presto-driver", {"minerva:query"});
  const std::string other = CreateGrantedKey("other-driver", {});
  ASSERT_FALSE(key.empty() || other.empty());
  const std::string plain = "http://127.0.0.1:" + std::to_string(listen_port_) + "/";
  const std::string scoped = "http://127.0.0.1:" + std::to_string(scoped_port_) + "/";
  for (std::string block : blocks) {
    int commands = 0;
    for (std::size_t at = block.find("curl "); at != std::string::npos;
         at = block.find("curl ", at + 1)) {
      commands += at == 0 || block[at - 1] == '\n';
    }
    ASSERT_EQ(ReplaceAll(block, "http://127.0.0.1/", plain) +
                  ReplaceAll(block, "http://127.0.0.1:81/", scoped),
              commands)
        << "one gateway URL per curl command:\n"
        << block;
    ProcessResult run = RunProcess({"bash", "-c", block}, {{"KEY", key}, {"OTHER_KEY", other}});
    ASSERT_EQ(run.exit_code, 0) << block << run.err;
    std::istringstream lines(block);
    std::string line;
    std::size_t at = 0;
    int expectations = 0;
    while (std::getline(lines, line)) {
      if (!line.starts_with("# ")) continue;
      ++expectations;
      const std::size_t found = run.out.find(line.substr(2), at);
      ASSERT_NE(found, std::string::npos) << line << "\nin:\n" << run.out.substr(at);
      at = found + line.size() - 2;
    }
    EXPECT_GE(expectations, 3) << block;
  }
}

// Without --trusted-proxies the client of Keyward is nginx: a key limited to the real client's
// address is refused, and one limited to nginx's passes for any client.
TEST_F(NginxTest, WithoutTrustedProxiesKeywardSeesOnlyNginx) {
  const std::string from_client =
      CreateGrantedKey("from-client", {"minerva:query"}, {"127.0.0.7/32"});
  const std::string from_nginx =
      CreateGrantedKey("from-nginx", {"minerva:query"}, {"127.0.0.1/32"});
  ASSERT_FALSE(from_client.empty() || from_nginx.empty());
  ExpectForbidden(GetScoped({{"Authorization", "Bearer " + from_client}}, "127.0.0.7"), "address",
                  "the client's own address, not seen");
  HttpResult r = GetScoped({{"Authorization", "Bearer " + from_nginx}}, "127.0.0.7");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, Echo("admin", "roles:id:operator", "from-nginx", "minerva:query"));
  EXPECT_EQ(UpstreamHits(), 1);
}

// Issue 16, "Rate limits behind nginx": through the documented gateway (port 82), a key limited
// to 2 a minute gets 200, 200, then 429 with Retry-After and the reason, and the service sees
// only the first two; a key without a limit is never refused; a scope refusal stays 403 with its
// reason, and no key 401.
TEST_F(NginxTest, RateLimitedKeyGets429WithRetryAfterThroughTheDocumentedSnippet) {
  HttpResult created = keyward_->As(
      admin_, "POST", "/api/v1/users/me/apikeys",
      {{"name", "limited"}, {"duration", "1h"}, {"rate_limit", {{"requests", 2}, {"per", "1m"}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string limited(created.Json().at("token").as_string());
  RememberSecret(limited);
  const std::string unlimited = CreateGrantedKey("unlimited", {});
  ASSERT_FALSE(unlimited.empty());
  const Headers as_limited = {{"Authorization", "Bearer " + limited}};

  const int before = UpstreamHits();
  for (int i = 0; i < 2; ++i) {
    HttpResult ok = GetLimited(as_limited);
    EXPECT_EQ(ok.status, 200) << i << ": " << ok.body;
    EXPECT_TRUE(ok.body.starts_with("upstream saw user=admin ")) << ok.body;
    EXPECT_NE(ok.body.find(" key=limited "), std::string::npos) << ok.body;
  }
  HttpResult over = GetLimited(as_limited);
  EXPECT_EQ(over.status, 429) << over.body;
  EXPECT_EQ(over.Header("x-keyward-reason"), "rate_limited");
  const std::string retry = over.Header("retry-after");
  ASSERT_FALSE(retry.empty());
  EXPECT_TRUE(std::all_of(retry.begin(), retry.end(), ::isdigit)) << retry;
  EXPECT_GE(std::stoi(retry), 1);
  EXPECT_LE(std::stoi(retry), 30);  // one request per 30 s
  EXPECT_EQ(over.body.find("upstream saw"), std::string::npos);
  EXPECT_EQ(UpstreamHits(), before + 2);

  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(GetLimited({{"Authorization", "Bearer " + unlimited}}).status, 200) << i;
  }
  // A requirement the key does not meet (sent by the client here: requirements only narrow).
  HttpResult scope = GetLimited(
      {{"Authorization", "Bearer " + unlimited}, {"X-Keyward-Require-Scope", "minerva:query"}});
  ExpectForbidden(scope, "scope", "a scope refusal through the rate-limit gateway");
  ExpectRefused(GetLimited(), "no key through the rate-limit gateway");
}

}  // namespace
}  // namespace keyward::testing
