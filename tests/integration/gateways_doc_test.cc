// The Traefik and Envoy configurations of docs/gateways.md, checked by what can run here: the
// test reads the page's ```yaml blocks, works out from each the request the gateway sends to
// /auth for a client's request (Traefik: a GET of the ForwardAuth address with its query, the
// customRequestHeaders of headers middlewares before it, the client's headers and its address
// in X-Forwarded-For; Envoy: the method and path behind path_prefix, headers_to_add, only the
// client headers allowed_headers lets through, X-Forwarded-For when use_remote_address appends
// the client), and sends it to a real Keyward started with --trusted-proxies 127.0.0.1/32 from
// 127.0.0.1, where the gateway would be. A change to the page's YAML changes what is sent.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <memory>
#include <regex>
#include <set>

#include "harness.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kDocumentedKeyward[] = "http://127.0.0.1:8080";

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> YamlBlocks() {
  const std::string page = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/gateways.md");
  std::vector<std::string> blocks;
  std::regex block("```yaml\n([\\s\\S]*?)```");
  for (std::sregex_iterator it(page.begin(), page.end(), block), end; it != end; ++it) {
    blocks.push_back((*it)[1]);
  }
  return blocks;
}

// The node at `keys` below `node`, or an undefined one (which iterates as empty) when any is
// missing. yaml-cpp throws when asked for a key below a missing one.
YAML::Node At(const YAML::Node& node, std::initializer_list<std::string> keys) {
  YAML::Node current;
  current.reset(node);
  for (const std::string& key : keys) {
    if (!current.IsDefined() || !current.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& parent = current;
    YAML::Node child = parent[key];
    if (!child.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    current.reset(child);
  }
  return current;
}

// What a gateway sends to /auth for one client request, from its configuration.
struct GatewayCheck {
  std::string what;
  std::string method;
  std::string target;
  Headers fixed;                       // the gateway's own headers
  std::set<std::string> client_allow;  // lower-case; empty: every client header goes
  bool forwards_client = false;        // X-Forwarded-For: <client>
  std::vector<std::string> passed_on;  // Keyward's headers the service receives (lower-case)
  bool requires_scope = false;         // minerva:query, in the target or a header
};

// One check per Traefik router of `root`.
std::vector<GatewayCheck> TraefikChecks(const YAML::Node& root) {
  std::vector<GatewayCheck> checks;
  const YAML::Node middlewares = At(root, {"http", "middlewares"});
  for (const auto& router : At(root, {"http", "routers"})) {
    GatewayCheck c;
    c.what = "Traefik router " + router.first.as<std::string>();
    c.method = "GET";
    for (const auto& name : router.second["middlewares"]) {
      const YAML::Node m = At(middlewares, {name.as<std::string>()});
      EXPECT_TRUE(m.IsMap()) << c.what << ": no middleware " << name.as<std::string>();
      if (!m.IsMap()) continue;
      for (const auto& h : At(m, {"headers", "customRequestHeaders"})) {
        c.fixed.emplace_back(h.first.as<std::string>(), h.second.as<std::string>());
        c.requires_scope |= Lower(h.first.as<std::string>()) == "x-keyward-require-scope" &&
                            h.second.as<std::string>() == "minerva:query";
      }
      if (!At(m, {"forwardAuth"}).IsDefined()) continue;
      const std::string address = At(m, {"forwardAuth", "address"}).as<std::string>("");
      EXPECT_TRUE(address.starts_with(std::string(kDocumentedKeyward) + "/auth")) << address;
      c.target = address.substr(std::string(kDocumentedKeyward).size());
      c.requires_scope |= c.target.find("scope=minerva:query") != std::string::npos;
      for (const auto& h : At(m, {"forwardAuth", "authResponseHeaders"})) {
        c.passed_on.push_back(Lower(h.as<std::string>()));
      }
      break;  // what comes after ForwardAuth does not reach Keyward
    }
    EXPECT_FALSE(c.target.empty()) << c.what << " has no forwardAuth middleware";
    // ForwardAuth's own headers, and the client's address (its connection's).
    for (auto [name, value] : Headers{{"X-Forwarded-Method", "DELETE"},
                                      {"X-Forwarded-Proto", "https"},
                                      {"X-Forwarded-Host", "api.example.com"},
                                      {"X-Forwarded-Uri", "/minerva/things/42?x=1"}}) {
      c.fixed.emplace_back(name, value);
    }
    c.forwards_client = true;
    checks.push_back(c);
  }
  return checks;
}

// The exact: strings of a list of matchers.
std::vector<std::string> Exacts(const YAML::Node& patterns) {
  std::vector<std::string> out;
  for (const auto& p : patterns) out.push_back(Lower(p["exact"].as<std::string>()));
  return out;
}

// One check per ext_authz filter of `root`.
std::vector<GatewayCheck> EnvoyChecks(const YAML::Node& root) {
  std::vector<GatewayCheck> checks;
  for (const auto& listener : At(root, {"static_resources", "listeners"})) {
    for (const auto& chain : At(listener, {"filter_chains"})) {
      for (const auto& filter : At(chain, {"filters"})) {
        const YAML::Node hcm = At(filter, {"typed_config"});
        for (const auto& http_filter : At(hcm, {"http_filters"})) {
          if (At(http_filter, {"name"}).as<std::string>("") != "envoy.filters.http.ext_authz")
            continue;
          const YAML::Node ea = At(http_filter, {"typed_config"});
          const YAML::Node service = At(ea, {"http_service"});
          EXPECT_EQ(At(service, {"server_uri", "uri"}).as<std::string>(""), kDocumentedKeyward);
          GatewayCheck c;
          c.what = "Envoy listener " + listener["name"].as<std::string>();
          c.method = "DELETE";
          c.target = At(service, {"path_prefix"}).as<std::string>("") + "/minerva/things/42?x=1";
          for (const auto& h : At(service, {"authorization_request", "headers_to_add"})) {
            c.fixed.emplace_back(h["key"].as<std::string>(), h["value"].as<std::string>());
            c.requires_scope |= Lower(h["key"].as<std::string>()) == "x-keyward-require-scope" &&
                                h["value"].as<std::string>() == "minerva:query";
          }
          for (auto [name, value] : Headers{{"X-Forwarded-Proto", "https"},
                                            {"X-Request-Id", "4b4c2b8e-4d06-4d1f-a9c0"},
                                            {"X-Envoy-Expected-Rq-Timeout-Ms", "1000"}}) {
            c.fixed.emplace_back(name, value);
          }
          std::vector<std::string> allowed = Exacts(At(ea, {"allowed_headers", "patterns"}));
          c.client_allow = {allowed.begin(), allowed.end()};
          c.client_allow.insert("authorization");  // always sent
          // With use_remote_address Envoy appends the client to X-Forwarded-For before filters.
          c.forwards_client = At(hcm, {"use_remote_address"}).as<bool>(false) &&
                              c.client_allow.contains("x-forwarded-for");
          c.passed_on = Exacts(
              At(service, {"authorization_response", "allowed_upstream_headers", "patterns"}));
          checks.push_back(c);
        }
      }
    }
  }
  return checks;
}

class GatewaysDocTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keyward_ = ServerProcess::Start({"--trusted-proxies", "127.0.0.1/32"});
    ASSERT_GT(keyward_->port(), 0);
    admin_ = keyward_->Login("admin", kAdminPassword);
    ASSERT_FALSE(admin_.empty());
    scoped_ = Key("gw-scoped", {"minerva:query"}, {});
    plain_ = Key("gw-plain", {}, {});
    limited_ = Key("gw-limited", {"minerva:query"}, {"203.0.113.0/24"});
  }

  static void TearDownTestSuite() {
    if (keyward_ == nullptr) return;
    keyward_->Stop();
    ExpectNoSecretsIn({keyward_->log_path()});
    keyward_.reset();
  }

  static std::string Key(const std::string& name, const std::vector<std::string>& scopes,
                         const std::vector<std::string>& addresses) {
    HttpResult r =
        keyward_->As(admin_, "POST", "/api/v1/users/me/apikeys",
                     {{"name", name},
                      {"duration", "1h"},
                      {"scopes", json::array(scopes.begin(), scopes.end())},
                      {"allowed_addresses", json::array(addresses.begin(), addresses.end())}});
    EXPECT_EQ(r.status, 201) << name << ": " << r.body;
    if (r.status != 201) return "";
    std::string token(r.Json().at("token").as_string());
    RememberSecret(token);
    return token;
  }

  // The request `c`'s gateway sends for a client at `client` with `key` ("" for none), sent
  // from `peer` (where the gateway is).
  static HttpResult Send(const GatewayCheck& c, const std::string& key,
                         const std::string& client = "198.51.100.7",
                         const std::string& peer = "127.0.0.1") {
    Headers headers = c.fixed;
    Headers from_client = {{"User-Agent", "curl/8.5.0"}, {"Accept", "*/*"}};
    if (!key.empty()) from_client.emplace_back("Authorization", "Bearer " + key);
    for (const auto& [name, value] : from_client) {
      if (c.client_allow.empty() || c.client_allow.contains(Lower(name))) {
        headers.emplace_back(name, value);
      }
    }
    if (c.forwards_client) headers.emplace_back("X-Forwarded-For", client);
    return CallFrom(peer, keyward_->port(), c.method, c.target, "", headers);
  }

  static void Expect403(const HttpResult& r, const std::string& reason, const std::string& what) {
    EXPECT_EQ(r.status, 403) << what << "\n" << r.body;
    EXPECT_EQ(r.Header("x-keyward-reason"), reason) << what;
    EXPECT_FALSE(r.headers.contains("x-keyward-user")) << what;
  }

  void Run(const GatewayCheck& c) {
    SCOPED_TRACE(c.what + ": " + c.method + " " + c.target);
    HttpResult r = Send(c, scoped_);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("x-keyward-scopes"), "minerva:query");
    EXPECT_EQ(r.Header("x-keyward-key-name"), "gw-scoped");
    // The service receives every identity header, and a client can forge none: each
    // X-Keyward-* header of the answer is one the gateway replaces.
    for (const std::string& name : c.passed_on) EXPECT_TRUE(r.headers.contains(name)) << name;
    for (const auto& [name, value] : r.headers) {
      if (!name.starts_with("x-keyward-")) continue;
      EXPECT_NE(std::find(c.passed_on.begin(), c.passed_on.end(), name), c.passed_on.end())
          << name << " is not passed on, so a client's " << name << " would reach the service";
    }
    r = Send(c, plain_);
    if (c.requires_scope) {
      Expect403(r, "scope", "a key without minerva:query");
      EXPECT_EQ(r.Json(), json::parse(R"({"error":{"code":"permission_denied",)"
                                      R"("message":"the key lacks the scope minerva:query"}})"));
    } else {
      EXPECT_EQ(r.status, 200) << "nothing required: " << r.body;
    }
    r = Send(c, "");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer");
    // The client's address, forwarded by the gateway, against the key's range.
    r = Send(c, limited_, "203.0.113.7");
    EXPECT_EQ(r.status, 200) << "client in the key's range: " << r.body;
    Expect403(Send(c, limited_, "198.51.100.7"), "address", "client outside the key's range");
    Expect403(Send(c, limited_, "203.0.113.7", "127.0.0.9"), "address",
              "the same X-Forwarded-For from an untrusted peer");
  }

  // One server for the suite: the checks only read.
  inline static std::unique_ptr<ServerProcess> keyward_;
  inline static std::string admin_, scoped_, plain_, limited_;
};

TEST_F(GatewaysDocTest, TraefikAndEnvoyConfigurationsAskWhatTheyShould) {
  std::vector<GatewayCheck> traefik, envoy;
  const std::vector<std::string> blocks = YamlBlocks();
  for (const std::string& block : blocks) {
    const YAML::Node root = YAML::Load(block);
    std::vector<GatewayCheck> t =
        At(root, {"http"}).IsDefined() ? TraefikChecks(root) : std::vector<GatewayCheck>{};
    std::vector<GatewayCheck> e = At(root, {"static_resources"}).IsDefined()
                                      ? EnvoyChecks(root)
                                      : std::vector<GatewayCheck>{};
    EXPECT_FALSE(t.empty() && e.empty()) << "a ```yaml block this test does not run:\n" << block;
    traefik.insert(traefik.end(), t.begin(), t.end());
    envoy.insert(envoy.end(), e.begin(), e.end());
  }
  // The page shows: a Traefik router with nothing required, one requiring the scope in the
  // address's query, one with a headers middleware; an Envoy filter with headers_to_add.
  auto count = [](const std::vector<GatewayCheck>& checks, auto pred) {
    return std::count_if(checks.begin(), checks.end(), pred);
  };
  EXPECT_GE(count(traefik, [](const auto& c) { return !c.requires_scope; }), 1);
  EXPECT_GE(count(traefik, [](const auto& c) { return c.target.find('?') != std::string::npos; }),
            1);
  EXPECT_GE(count(traefik,
                  [](const auto& c) {
                    return c.requires_scope && c.target.find('?') == std::string::npos;
                  }),
            1);
  EXPECT_GE(count(envoy, [](const auto& c) { return c.requires_scope; }), 1);
  for (const GatewayCheck& c : traefik) Run(c);
  for (const GatewayCheck& c : envoy) Run(c);
}

}  // namespace
}  // namespace keyward::testing
