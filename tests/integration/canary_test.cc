// Canary keys against the real server (issue 17, acceptance 6): for /auth, POST
// /api/v1/authorize, the token endpoint and GET /api/v1/users/me, the answer to a canary key is
// byte-identical to the answer to an unknown well-formed key — status, every header but Date
// and X-Request-Id (a per-request counter, different for any two calls), body — both on its
// first presentation (read from the store) and on a repeated one (a cached refusal); and every
// presentation's key.canary_used delivery reaches a webhook receiver within 1 s of the request,
// with the audit record and the metric beside it.
//
// One server for the suite (SQLite, the token issuer on, webhooks to 127.0.0.1), a receiver
// subscribed to key.canary_used only. Each route gets its own canary and unknown key, so that
// its first presentation is a store read whatever the routes before it did.
//
// DocsExamplesRun runs the ```sh blocks of the "Canary keys" section of docs/leaks.md as
// written (bash -e -o pipefail, `keyward` on PATH, KEYWARD_SERVER and KEYWARD_APIKEY set, the
// doc's http://127.0.0.1:8080 and https://alerts.example.com/keyward pointed at the test's
// server and receiver) and checks its ```json delivery against a real one.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"
#include "webhook_receiver.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

// The answer without what differs between any two calls: Date, and the API's X-Request-Id.
std::string Comparable(const HttpResult& r) {
  std::string out = std::to_string(r.status) + "\n";
  for (const auto& [name, value] : r.headers) {
    if (name == "date" || name == "x-request-id") continue;
    out.append(name).append(": ").append(value).append("\n");
  }
  return out + "\n" + r.body;
}

class CanaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    receiver_ = std::make_unique<WebhookReceiver>();
    // 127.0.0.1 a trusted proxy: /auth then reads the forwarded method and URI it sends.
    server_ = ServerProcess::Start({"--webhook-allow-private", "--trusted-proxies", "127.0.0.1",
                                    "--issuer", "http://issuer.keyward.test", "--issuer-allow-http",
                                    "--token-audience", "pulsar", "--gateway-audience", "pulsar"});
    ASSERT_GT(server_->port(), 0);
    admin_ = new std::string(server_->Login("admin", kAdminPassword));
    HttpResult hook = server_->As(*admin_, "POST", "/api/v1/webhooks",
                                  {{"url", receiver_->Url()}, {"events", {"key.canary_used"}}});
    ASSERT_EQ(hook.status, 201) << hook.body;
    RememberSecret(Str(hook.Json(), "secret"));
  }
  static void TearDownTestSuite() {
    if (server_) server_->Stop();
    server_.reset();
    receiver_.reset();
    delete admin_;
    admin_ = nullptr;
  }

  // A new canary key of admin, named `name`.
  static std::string NewCanary(const std::string& name) {
    HttpResult made = server_->As(*admin_, "POST", "/api/v1/users/me/apikeys",
                                  {{"name", name}, {"canary", true}, {"duration", "1h"}});
    EXPECT_EQ(made.status, 201) << made.body;
    if (made.status != 201) return "";
    EXPECT_EQ(made.Json().at("canary"), json::value(true));
    std::string key = Str(made.Json(), "token");
    RememberSecret(key);
    return key;
  }
  // A well-formed key the server does not know: made, then deleted.
  static std::string UnknownKey(const std::string& name) {
    std::string key = server_->NewKey(*admin_, "admin", name, "1h");
    EXPECT_EQ(server_->As(*admin_, "DELETE", "/api/v1/users/me/apikeys/" + name).status, 204);
    return key;
  }

  // Presents `key` as the route under test does, with a recognizable user agent.
  using Present = HttpResult (*)(std::uint16_t port, const std::string& key);

  // Canary and unknown answered alike, first and again; each canary use delivered within 1 s.
  void ExpectAnsweredAsUnknown(const std::string& route, Present present) {
    SCOPED_TRACE(route);
    const std::string canary = NewCanary("canary-" + route);
    const std::string unknown = UnknownKey("unknown-" + route);
    ASSERT_FALSE(canary.empty());
    for (const char* round : {"first (store)", "repeated (cache)"}) {
      SCOPED_TRACE(round);
      const std::size_t before = receiver_->Count();
      const auto sent = SteadyClock::now();
      HttpResult c = present(server_->port(), canary);
      HttpResult u = present(server_->port(), unknown);
      EXPECT_EQ(Comparable(c), Comparable(u));
      EXPECT_EQ(c.Header("date").empty(), u.Header("date").empty());
      EXPECT_EQ(c.Header("x-request-id").empty(), u.Header("x-request-id").empty());
      const bool delivered = receiver_->WaitFor(
          [&](const std::vector<ReceivedHook>& got) {
            return std::any_of(got.begin() + static_cast<std::ptrdiff_t>(before), got.end(),
                               [&](const ReceivedHook& h) {
                                 return h.Type() == "key.canary_used" &&
                                        h.Data("name") == "canary-" + route;
                               });
          },
          std::chrono::milliseconds(3000));
      ASSERT_TRUE(delivered);
      const std::vector<ReceivedHook> got = receiver_->Received();
      auto hook =
          std::find_if(got.begin() + static_cast<std::ptrdiff_t>(before), got.end(),
                       [&](const ReceivedHook& h) { return h.Data("name") == "canary-" + route; });
      const double ms = std::chrono::duration<double, std::milli>(hook->at - sent).count();
      std::printf("[ canary ] %s %s: key.canary_used delivered %.0f ms after the request\n",
                  route.c_str(), round, ms);
      EXPECT_LT(ms, 1000.0);
      EXPECT_EQ(hook->Data("user"), "admin");
      EXPECT_EQ(hook->Data("address"), "127.0.0.1");
      EXPECT_EQ(hook->Data("user_agent"), "canary-test/1");
      EXPECT_FALSE(hook->Data("method").empty());
      EXPECT_FALSE(hook->Data("path").empty());
      EXPECT_EQ(hook->body.find(canary), std::string::npos) << "the key itself was sent";
    }
  }

  static inline std::unique_ptr<WebhookReceiver> receiver_;
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string* admin_ = nullptr;
};

const Headers kAgent = {{"User-Agent", "canary-test/1"}};

TEST_F(CanaryTest, ForwardAuthAnswersACanaryAsAnUnknownKeyAndReportsTheForwardedRequest) {
  ExpectAnsweredAsUnknown("auth", [](std::uint16_t port, const std::string& key) {
    return Call(port, "GET", "/auth", "",
                {{"Authorization", "Bearer " + key},
                 {"User-Agent", "canary-test/1"},
                 {"X-Forwarded-Method", "DELETE"},
                 {"X-Forwarded-Uri", "/orders/7?apikey=secret"}});
  });
  // The forwarded request, without its query string.
  const std::vector<ReceivedHook> got = receiver_->Received();
  auto hook = std::find_if(got.begin(), got.end(),
                           [](const ReceivedHook& h) { return h.Data("name") == "canary-auth"; });
  ASSERT_NE(hook, got.end());
  EXPECT_EQ(hook->Data("method"), "DELETE");
  EXPECT_EQ(hook->Data("path"), "/orders/7");
}

TEST_F(CanaryTest, ForwardAuthAskedForA403AnswersACanaryAsAnUnknownKey) {
  ExpectAnsweredAsUnknown("auth-403", [](std::uint16_t port, const std::string& key) {
    return Call(port, "GET", "/auth", "",
                {{"Authorization", "Bearer " + key},
                 {"User-Agent", "canary-test/1"},
                 {"X-Keyward-Rate-Limit-Status", "403"}});
  });
}

TEST_F(CanaryTest, AuthorizeAnswersACanaryAsAnUnknownKey) {
  ExpectAnsweredAsUnknown("authorize", [](std::uint16_t port, const std::string& key) {
    Headers headers = kAgent;
    headers.emplace_back("Authorization", "Bearer " + *admin_);
    headers.emplace_back("Content-Type", "application/json");
    return Call(port, "POST", "/api/v1/authorize", json::serialize(json::object{{"token", key}}),
                headers);
  });
}

TEST_F(CanaryTest, AuthorizeForAGatewaysClientAnswersACanaryAsAnUnknownKey) {
  ExpectAnsweredAsUnknown("authorize-address", [](std::uint16_t port, const std::string& key) {
    Headers headers = kAgent;
    headers.emplace_back("Authorization", "Bearer " + *admin_);
    headers.emplace_back("Content-Type", "application/json");
    return Call(port, "POST", "/api/v1/authorize",
                json::serialize(json::object{{"token", key}, {"address", "127.0.0.1"}}), headers);
  });
}

TEST_F(CanaryTest, TokenExchangeAnswersACanarySubjectAsAnUnknownKey) {
  ExpectAnsweredAsUnknown("exchange", [](std::uint16_t port, const std::string& key) {
    Headers headers = kAgent;
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return Call(port, "POST", "/oauth/token",
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
                "&subject_token=" +
                    key +
                    "&subject_token_type=urn%3Akeyward%3Aparams%3Aoauth%3Atoken-type%3Aapi_key",
                headers);
  });
}

TEST_F(CanaryTest, IntrospectionAnswersACanaryAsAnUnknownKey) {
  ExpectAnsweredAsUnknown("introspect", [](std::uint16_t port, const std::string& key) {
    Headers headers = kAgent;
    headers.emplace_back("Authorization", "Bearer " + *admin_);
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return Call(port, "POST", "/oauth/introspect", "token=" + key, headers);
  });
}

TEST_F(CanaryTest, TokenEndpointAnswersACanaryAsAnUnknownKey) {
  ExpectAnsweredAsUnknown("token", [](std::uint16_t port, const std::string& key) {
    Headers headers = kAgent;
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return Call(port, "POST", "/oauth/token",
                "grant_type=client_credentials&client_id=admin&client_secret=" + key, headers);
  });
}

TEST_F(CanaryTest, ManagementApiAnswersACanaryBearerAsAnUnknownKey) {
  ExpectAnsweredAsUnknown("api", [](std::uint16_t port, const std::string& key) {
    Headers headers = kAgent;
    headers.emplace_back("Authorization", "Bearer " + key);
    return Call(port, "GET", "/api/v1/users/me", "", headers);
  });
  const std::vector<ReceivedHook> got = receiver_->Received();
  auto hook = std::find_if(got.begin(), got.end(),
                           [](const ReceivedHook& h) { return h.Data("name") == "canary-api"; });
  ASSERT_NE(hook, got.end());
  EXPECT_EQ(hook->Data("method"), "GET");
  EXPECT_EQ(hook->Data("path"), "/api/v1/users/me");
}

// keyward_canary_uses_total in the server's /metrics (-1 when absent).
long long CanaryUses(std::uint16_t port) {
  HttpResult metrics = Call(port, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("# TYPE keyward_canary_uses_total counter"), std::string::npos);
  const std::string name = "\nkeyward_canary_uses_total ";
  const std::size_t at = metrics.body.find(name);
  if (at == std::string::npos) return -1;
  return std::stoll(metrics.body.substr(at + name.size()));
}

TEST_F(CanaryTest, EveryUseIsAuditedAndCountedAndTheKeyIsListedAsACanary) {
  const std::string canary = NewCanary("canary-audit");
  const long long uses_before = CanaryUses(server_->port());
  ASSERT_GE(uses_before, 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Call(server_->port(), "GET", "/auth", "",
                   {{"Authorization", "Bearer " + canary},
                    {"User-Agent", "evil\tagent"},
                    {"X-Original-Method", "PUT"},
                    {"X-Original-URI", "/a\tb"}})
                  .status,
              401);
  }
  std::vector<json::value> records;
  ASSERT_TRUE(Eventually(
      [&] {
        HttpResult r = server_->As(*admin_, "GET", "/api/v1/audit?limit=1000");
        records.clear();
        const json::value body = r.Json();
        for (const json::value& e : body.at("events").as_array()) {
          if (Str(e, "action") == "key.canary_used" && Str(e, "target") == "canary-audit") {
            records.push_back(e);
          }
        }
        return records.size() == 3;
      },
      std::chrono::seconds(5)));
  for (const json::value& e : records) {
    EXPECT_EQ(Str(e, "actor"), "system");
    EXPECT_EQ(Str(e, "user"), "admin");
    EXPECT_EQ(Str(e, "address"), "127.0.0.1");
    EXPECT_EQ(Str(e, "detail"), "method=PUT path=/a?b");  // no control character
  }
  EXPECT_EQ(CanaryUses(server_->port()), uses_before + 3);

  HttpResult listed = server_->As(*admin_, "GET", "/api/v1/users/me/apikeys");
  ASSERT_EQ(listed.status, 200);
  const json::value keys = listed.Json();
  for (const json::value& key : keys.as_array()) {
    EXPECT_EQ(key.at("canary"), json::value(Str(key, "name").rfind("canary-", 0) == 0))
        << Str(key, "name");
  }
  // Reveal works: one plants it.
  HttpResult revealed = server_->As(*admin_, "GET", "/api/v1/users/me/apikeys/canary-audit/token");
  ASSERT_EQ(revealed.status, 200) << revealed.body;
  EXPECT_EQ(Str(revealed.Json(), "token"), canary);
}

// The "## Canary keys" section of docs/leaks.md, up to the next "## " heading.
std::string CanarySection() {
  const std::string doc = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/leaks.md");
  const std::size_t start = doc.find("\n## Canary keys\n");
  if (start == std::string::npos) return "";
  const std::size_t end = doc.find("\n## ", start + 1);
  return doc.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The fenced blocks of `lang` in `text`.
std::vector<std::string> BlocksOf(const std::string& text, const std::string& lang) {
  std::vector<std::string> blocks;
  std::regex block("\n```" + lang + "\n([\\s\\S]*?)\n```");
  for (std::sregex_iterator it(text.begin(), text.end(), block), last; it != last; ++it) {
    blocks.push_back((*it)[1].str());
  }
  return blocks;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

TEST_F(CanaryTest, DocsExamplesRun) {
  const std::string section = CanarySection();
  const std::vector<std::string> sh = BlocksOf(section, "sh");
  const std::vector<std::string> examples = BlocksOf(section, "json");
  ASSERT_EQ(sh.size(), 3u) << section;
  ASSERT_EQ(examples.size(), 1u);
  WebhookReceiver alerts;
  const std::string home = MakeTempDir();
  const std::string server = "http://127.0.0.1:" + std::to_string(server_->port());
  const std::string bin = std::filesystem::path(KeywardBinary()).parent_path().string();
  auto run = [&](const std::string& block) {
    std::string script = Replace(block, "http://127.0.0.1:8080", server);
    script = Replace(script, "https://alerts.example.com/keyward", alerts.Url("/keyward"));
    ProcessResult r = RunProcess({"bash", "-e", "-o", "pipefail", "-c", script},
                                 {{"HOME", home},
                                  {"XDG_CONFIG_HOME", ""},
                                  {"PATH", bin + ":" + std::getenv("PATH")},
                                  {"KEYWARD_SERVER", server},
                                  {"KEYWARD_APIKEY", *admin_}});
    EXPECT_EQ(r.exit_code, 0) << script << "\n" << r.out << r.err;
    return r;
  };
  // The CLI: a canary, its TYPE canary in the table it prints.
  ProcessResult cli = run(sh[0]);
  EXPECT_NE(cli.out.find("| canary "), std::string::npos) << cli.out;
  // The API: the answer is the new key, a canary.
  ProcessResult api = run(sh[1]);
  const json::value made = json::parse(api.out);
  EXPECT_EQ(Str(made, "name"), "ci-deploy-token");
  EXPECT_EQ(made.at("canary"), json::value(true));
  RememberSecret(Str(made, "token"));
  HttpResult revealed =
      server_->As(*admin_, "GET", "/api/v1/users/me/apikeys/aws-backup-creds/token");
  ASSERT_EQ(revealed.status, 200) << revealed.body;
  const std::string planted = Str(revealed.Json(), "token");
  RememberSecret(planted);
  HttpResult listed = server_->As(*admin_, "GET", "/api/v1/users/me/apikeys");
  const json::value keys = listed.Json();
  for (const json::value& key : keys.as_array()) {
    if (Str(key, "name") == "aws-backup-creds") {
      EXPECT_EQ(key.at("canary"), json::value(true));
      EXPECT_EQ(Str(key, "description"), "planted in the old wiki");
    }
  }
  // The webhook and the audit log: a use first, so that the audit holds one.
  ASSERT_EQ(
      Call(server_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + planted}}).status,
      401);
  ASSERT_TRUE(Eventually(
      [&] {
        return server_->As(*admin_, "GET", "/api/v1/audit").body.find("key.canary_used") !=
               std::string::npos;
      },
      std::chrono::seconds(5)));
  ProcessResult told = run(sh[2]);
  EXPECT_NE(told.out.find("key.canary_used"), std::string::npos) << told.out;
  EXPECT_EQ(Call(server_->port(), "GET", "/auth", "",
                 {{"Authorization", "Bearer " + planted}, {"User-Agent", "curl/8.5.0"}})
                .status,
            401);
  ASSERT_TRUE(
      alerts.WaitFor([](const auto& got) { return !got.empty(); }, std::chrono::seconds(5)));
  // The documented delivery has the real one's shape: type, and the members of data.
  const json::value documented = json::parse(examples[0]);
  const json::value real = alerts.Received().front().Json();
  EXPECT_EQ(Str(documented, "type"), Str(real, "type"));
  auto members = [](const json::value& v) {
    std::vector<std::string> names;
    for (const auto& m : v.at("data").as_object()) names.emplace_back(m.key());
    std::sort(names.begin(), names.end());
    return names;
  };
  EXPECT_EQ(members(documented), members(real));
  EXPECT_EQ(Str(real.at("data"), "name"), "aws-backup-creds");
  EXPECT_EQ(Str(real.at("data"), "path"), "/auth");
  EXPECT_EQ(Str(real.at("data"), "user_agent"), "curl/8.5.0");
  RemoveTree(home);
}

}  // namespace
}  // namespace keyward::testing
