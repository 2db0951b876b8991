// The OpenAPI document (src/api/openapi.json) against the router the server really builds, its
// own consistency ($refs, schema keywords, parameters), the schema validator the conformance
// test relies on, and docs/api.md being what the document renders to.
#include "tools/openapi.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "api/routes.h"
#include "app/config.h"
#include "app/service_graph.h"
#include "common/status_matchers.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_util.h"
#include "tools/openapi_markdown.h"

namespace keyward {
namespace {

namespace json = boost::json;
using openapi::Document;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const json::object& Paths() { return Document().at("paths").as_object(); }

bool Documented(const std::string& path, const std::string& method) {
  auto it = Paths().find(path);
  return it != Paths().end() && it->value().is_object() && it->value().as_object().contains(method);
}

// The router of a real server, built by the composition root on a SQLite store in a temporary
// folder: the routes only bind the services, so nothing is called here.
class RealRouter : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqliteStore(dir_.File("keyward.db"));
    ASSERT_THAT(store, IsOk());
    Config config;
    config.service.reveal = false;
    config.blocking_threads = 1;
    graph_ = std::make_unique<ServiceGraph>(config, std::move(store).value(), std::nullopt,
                                            Clock::System());
  }
  const Router& router() { return graph_->api().router(); }

  TempDir dir_;
  std::unique_ptr<ServiceGraph> graph_;
};

TEST_F(RealRouter, EveryRouteIsDocumented) {
  ASSERT_GE(router().routes().size(), 15u);
  for (const Route& route : router().routes()) {
    const std::string method = Lower(http::beast_http::to_string(route.method));
    EXPECT_TRUE(Documented(route.pattern, method))
        << method << " " << route.pattern << " is a route but not in src/api/openapi.json";
  }
}

// "security": [] exactly for the public routes; tests/integration walk the served document to
// reach every route that needs a credential.
TEST_F(RealRouter, DocumentedSecurityIsTheRoutesAccess) {
  for (const Route& route : router().routes()) {
    const std::string method = Lower(http::beast_http::to_string(route.method));
    if (!Documented(route.pattern, method)) continue;  // EveryRouteIsDocumented says so
    const json::value& op = Paths().at(route.pattern).at(method);
    ASSERT_TRUE(op.as_object().contains("security")) << method << " " << route.pattern;
    EXPECT_EQ(op.at("security").as_array().empty(), route.access == Access::kPublic)
        << method << " " << route.pattern;
  }
}

TEST_F(RealRouter, EveryDocumentedApiOperationIsARoute) {
  int operations = 0;
  for (const auto& [path, item] : Paths()) {
    // The router's paths: /api/v1, the token issuer's and /readyz (the rest are answered before
    // it).
    const std::string_view p(path);
    if (!p.starts_with("/api/") && !p.starts_with("/oauth/") && !p.starts_with("/.well-known/") &&
        p != "/readyz") {
      continue;
    }
    for (const auto& [method, op] : item.as_object()) {
      if (std::find(openapi::Methods().begin(), openapi::Methods().end(), std::string(method)) ==
          openapi::Methods().end()) {
        continue;  // "parameters", "summary" and the like
      }
      ++operations;
      // Named captures: clang 14 cannot capture structured bindings.
      const bool routed = std::any_of(router().routes().begin(), router().routes().end(),
                                      [&path = path, &method = method](const Route& route) {
                                        return route.pattern == path &&
                                               Lower(http::beast_http::to_string(route.method)) ==
                                                   std::string(method);
                                      });
      EXPECT_TRUE(routed) << std::string(method) << " " << std::string(path)
                          << " is documented but no route of routes.cc";
    }
  }
  EXPECT_EQ(operations, static_cast<int>(router().routes().size()));
}

TEST_F(RealRouter, ServesTheEmbeddedDocument) {
  auto match = router().Find(http::beast_http::verb::get, {"api", "v1", "openapi.json"});
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->access, Access::kPublic);
  http::Request request{http::beast_http::verb::get, "/api/v1/openapi.json", 11};
  http::Peer peer{"127.0.0.1", 1};
  ApiCall call{request, peer, {}, {}, std::nullopt, {}};
  Result<Reply> reply = match.route->fn(call);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, Document());
}

TEST(OpenApiDocumentTest, OutsideTheRouterTooEveryEndpointIsDocumented) {
  for (const std::string path : {"/auth", "/auth/{path}"}) {
    for (const std::string& method : openapi::Methods()) {
      EXPECT_TRUE(Documented(path, method)) << method << " " << path;
    }
  }
  EXPECT_TRUE(Documented("/healthz", "get"));
  EXPECT_TRUE(Documented("/metrics", "get"));
  EXPECT_TRUE(Documented("/api/v1/openapi.json", "get"));
  EXPECT_TRUE(Documented("/api/v1/audit", "get"));
}

TEST(OpenApiDocumentTest, IsValidJsonWithResolvableRefsAndKnownKeywords) {
  ASSERT_TRUE(Document().is_object()) << "src/api/openapi.json is not valid JSON";
  const std::string version(Document().at("openapi").as_string());
  EXPECT_TRUE(version == "3.0.3" || version.starts_with("3.1")) << version;
  EXPECT_EQ(openapi::DanglingRefs(Document()), std::vector<std::string>());
  EXPECT_EQ(openapi::UnsupportedKeywords(Document()), std::vector<std::string>());
  // Our objects list every member they have, and require only members they list (OpenAPI 3.0:
  // a "required" that is present names at least one).
  std::function<void(const json::object&, const std::string&)> check_object =
      [&](const json::object& s, const std::string& where) {
        if (!s.contains("properties")) return;
        const json::object& properties = s.at("properties").as_object();
        EXPECT_EQ(s.contains("additionalProperties") ? s.at("additionalProperties") : json::value(),
                  json::value(false))
            << where;
        if (const json::value* required = s.if_contains("required")) {
          EXPECT_FALSE(required->as_array().empty()) << where;
          for (const auto& member : required->as_array()) {
            EXPECT_TRUE(properties.contains(member.as_string())) << where << ": " << member;
          }
        }
        for (const auto& [member, sub] : properties) {
          check_object(sub.as_object(), where + "." + std::string(member));
        }
      };
  for (const auto& [name, schema] : Document().at("components").at("schemas").as_object()) {
    check_object(schema.as_object(), std::string(name));
  }
}

TEST(OpenApiDocumentTest, OperationsAreComplete) {
  std::set<std::string> ids;
  const std::vector<std::string> documented_statuses = {"400", "413", "414", "431"};
  for (const auto& [path, item] : Paths()) {
    // The {placeholders} of the path, which each operation must declare.
    std::set<std::string> placeholders;
    const std::string text(path);
    for (std::size_t open = text.find('{'); open != std::string::npos;
         open = text.find('{', open + 1)) {
      placeholders.insert(text.substr(open + 1, text.find('}', open) - open - 1));
    }
    for (const auto& [method, op_value] : item.as_object()) {
      const json::object& op = op_value.as_object();
      const std::string where = std::string(method) + " " + std::string(path);
      ASSERT_TRUE(op.contains("operationId")) << where;
      EXPECT_TRUE(ids.insert(std::string(op.at("operationId").as_string())).second)
          << "operationId used twice: " << where;
      EXPECT_TRUE(op.contains("summary")) << where;
      EXPECT_TRUE(op.contains("security")) << where << ": say who may call it, even if anyone";
      std::set<std::string> declared;
      if (const json::value* params = op.if_contains("parameters")) {
        for (const auto& p : params->as_array()) {
          if (p.at("in") == "path") declared.insert(std::string(p.at("name").as_string()));
        }
      }
      EXPECT_EQ(declared, placeholders) << where;
      const json::object& responses = op.at("responses").as_object();
      // The transport answers malformed and oversized requests before any route runs.
      for (const auto& status : documented_statuses) {
        EXPECT_TRUE(responses.contains(status)) << where << " lacks " << status;
      }
      bool success = false;
      for (const auto& [status, response] : responses) {
        success = success || status.starts_with("2");
        EXPECT_NE(openapi::Follow(Document(), response), nullptr) << where << " " << status;
      }
      EXPECT_TRUE(success) << where << " documents no success";
      if (std::string_view(path).starts_with("/api/v1/")) {
        EXPECT_TRUE(responses.contains("503")) << where;  // the blocking pool may be full
        if (!op.at("security").as_array().empty()) {
          EXPECT_TRUE(responses.contains("401")) << where;
        }
        EXPECT_TRUE(responses.contains("415")) << where;  // a body of another type, any method
      }
    }
  }
  EXPECT_GE(ids.size(), 17u + 16u + 2u);
}

// --- the validator ---------------------------------------------------------------------------

json::value UserSchema() { return {{"$ref", "#/components/schemas/User"}}; }

json::value GoodUser() {
  return json::parse(R"({"id":"alice","name":"Alice","type":"person","tags":["a","b"],)"
                     R"("created":"2023-08-10T23:00:00Z"})");
}

TEST(OpenApiValidatorTest, AcceptsAConformingBody) {
  EXPECT_EQ(openapi::Validate(Document(), UserSchema(), GoodUser()), std::vector<std::string>());
  json::value key = json::parse(
      R"({"name":"k","type":"apikey","expiration":"2023-08-10T23:00:00Z",)"
      R"("created":"2023-08-10T22:00:00Z","last_used":null,"token":"kw_AbCd…9xYz",)"
      R"("scopes":["keys:read"],"tags":null,"allowed_addresses":[],"full_access":false,)"
      R"("description":"","disabled":false,"idle_timeout":null,"on_reuse":"keep",)"
      R"("rotated":"2023-08-10T22:30:00Z","status":"rotating","old_secrets":[{"token":"kw_Ab…yz",)"
      R"("rotated":"2023-08-10T22:30:00Z","accepted_until":"2023-08-10T23:30:00Z",)"
      R"("last_used":null}],"rate_limit":{"requests":10,"per":"1s"},"last_address":"10.1.2.3",)"
      R"("canary":false})");
  EXPECT_EQ(openapi::Validate(Document(), {{"$ref", "#/components/schemas/Key"}}, key),
            std::vector<std::string>());
  // Issue 16: no limit and no client yet are nulls; a limit takes exactly its two members.
  key.as_object()["rate_limit"] = nullptr;
  key.as_object()["last_address"] = nullptr;
  EXPECT_EQ(openapi::Validate(Document(), {{"$ref", "#/components/schemas/Key"}}, key),
            std::vector<std::string>());
  key.as_object()["rate_limit"] = {{"requests", 10}, {"per", "1s"}, {"burst", 5}};
  EXPECT_NE(openapi::Validate(Document(), {{"$ref", "#/components/schemas/Key"}}, key),
            std::vector<std::string>());
}

// A validator that accepts anything would make the conformance test prove nothing.
TEST(OpenApiValidatorTest, RejectsEveryKindOfWrongBody) {
  auto errors_for = [](const std::function<void(json::object&)>& spoil) {
    json::value user = GoodUser();
    spoil(user.as_object());
    return openapi::Validate(Document(), UserSchema(), user);
  };
  auto first = [](const std::vector<std::string>& errors) {
    return errors.empty() ? std::string("<accepted>") : errors.front();
  };
  EXPECT_EQ(first(errors_for([](json::object& u) { u.erase("tags"); })), "$: \"tags\" is missing");
  EXPECT_EQ(first(errors_for([](json::object& u) { u["extra"] = 1; })),
            "$.extra: not a documented member");
  EXPECT_EQ(first(errors_for([](json::object& u) { u["id"] = 7; })),
            "$.id: an integer, expected string");
  EXPECT_EQ(first(errors_for([](json::object& u) { u["type"] = "robot"; })),
            "$.type: \"robot\" is not one of [\"person\",\"application\"]");
  EXPECT_EQ(first(errors_for([](json::object& u) {
              u["tags"] = json::array{"a", 2};
            })),
            "$.tags[1]: an integer, expected string");
  EXPECT_EQ(first(errors_for([](json::object& u) { u["created"] = "yesterday"; })),
            "$.created: \"yesterday\" is not an RFC 3339 time");
  EXPECT_EQ(first(errors_for([](json::object& u) { u["name"] = nullptr; })),
            "$.name: null, expected \"string\"");
  EXPECT_EQ(first(openapi::Validate(Document(), UserSchema(), json::array())),
            "$: an array, expected object");
  EXPECT_EQ(first(openapi::Validate(Document(), {{"$ref", "#/components/schemas/Nope"}}, {})),
            "$: the schema's $ref does not resolve");
  // nullable, minimum and maximum.
  json::value result = json::parse(R"({"allow":false,"valid":false,"result":null})");
  EXPECT_TRUE(
      openapi::Validate(Document(), {{"$ref", "#/components/schemas/AuthorizeResult"}}, result)
          .empty());
  json::value limit = {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}};
  EXPECT_TRUE(openapi::Validate(Document(), limit, 1000).empty());
  EXPECT_EQ(first(openapi::Validate(Document(), limit, 0)), "$: 0 is below 1");
  EXPECT_EQ(first(openapi::Validate(Document(), limit, 1001)), "$: 1001 is above 1000");
  EXPECT_EQ(first(openapi::Validate(Document(), limit, 1.5)), "$: a number, expected integer");
}

TEST(OpenApiValidatorTest, RefsAndKeywordsAreChecked) {
  json::value doc =
      json::parse(R"({"a":{"b~c":{"d/e":1}},"x":{"$ref":"#/a/b~0c/d~1e"},"y":{"$ref":"#/nowhere"},)"
                  R"("paths":{"/p":{"get":{"responses":{"200":{"content":{"application/json":)"
                  R"({"schema":{"type":"string","pattern":"^a"}}}}}}}}})");
  EXPECT_EQ(*openapi::ResolveRef(doc, "#/a/b~0c/d~1e"), 1);
  EXPECT_EQ(openapi::DanglingRefs(doc), std::vector<std::string>{"#/nowhere"});
  EXPECT_EQ(openapi::UnsupportedKeywords(doc).size(), 1u);
}

TEST(OpenApiDocumentTest, FindsOperationsTheWayTheRouterDoes) {
  auto find = [](std::string_view method, const std::vector<std::string>& segments) {
    auto op = openapi::FindOperation(Document(), method, segments);
    if (!op) return std::string("<no path>");
    return op->method + " " + op->path + (op->object ? "" : " <no method>");
  };
  EXPECT_EQ(find("GET", {"api", "v1", "users", "me"}), "get /api/v1/users/me");
  EXPECT_EQ(find("DELETE", {"api", "v1", "users", "me"}), "delete /api/v1/users/{id}");
  EXPECT_EQ(find("GET", {"api", "v1", "users", "me", "apikeys", "a b/c", "token"}),
            "get /api/v1/users/{id}/apikeys/{name}/token");
  EXPECT_EQ(find("HEAD", {"healthz"}), "get /healthz");
  EXPECT_EQ(find("PUT", {"api", "v1", "users"}), "put /api/v1/users <no method>");
  EXPECT_EQ(find("GET", {"api", "v1", "users", "me", "apikeys", ""}), "<no path>");
  EXPECT_EQ(find("GET", {"api", "v2"}), "<no path>");
}

// --- docs/api.md -------------------------------------------------------------------------------

TEST(ApiDocsTest, DocsApiMdIsRenderedFromTheDocument) {
  const std::string path = std::string(KEYWARD_SOURCE_DIR) + "/docs/api.md";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string markdown = text.str();
  auto rendered = openapi::ReplaceGenerated(markdown, openapi::RenderMarkdown(Document()));
  ASSERT_TRUE(rendered.has_value()) << path << " lacks the lines " << openapi::kBeginGenerated
                                    << " and " << openapi::kEndGenerated;
  EXPECT_TRUE(*rendered == markdown)
      << "docs/api.md is not what src/api/openapi.json renders to. Regenerate it with\n"
         "  make api-docs\n"
         "(or: cmake --build <build dir> --target keyward_api_docs && "
         "<build dir>/src/api/keyward_api_docs src/api/openapi.json docs/api.md)";
}

TEST(ApiDocsTest, RendersEveryOperationAndSchema) {
  const std::string markdown = openapi::RenderMarkdown(Document());
  for (const auto& [path, item] : Paths()) {
    EXPECT_NE(markdown.find(" " + std::string(path) + "`\n"), std::string::npos)
        << std::string(path);
  }
  for (const auto& [name, schema] : Document().at("components").at("schemas").as_object()) {
    EXPECT_NE(markdown.find("#### `" + std::string(name) + "`"), std::string::npos)
        << std::string(name);
  }
  EXPECT_NE(markdown.find("| 429 | `Error` | too many failed sign-ins"), std::string::npos);
  EXPECT_EQ(openapi::ReplaceGenerated("no markers", "x"), std::nullopt);
  EXPECT_EQ(openapi::ReplaceGenerated(std::string("a\n") + std::string(openapi::kBeginGenerated) +
                                          "\nold\n" + std::string(openapi::kEndGenerated) + "\nb\n",
                                      "new"),
            std::string("a\n") + std::string(openapi::kBeginGenerated) + "\n\nnew\n\n" +
                std::string(openapi::kEndGenerated) + "\nb\n");
}

}  // namespace
// Every JSON example in docs/api.md's prose is what the document says it is: each block, in
// order, against the schema of the body it shows (a request body or an answer).
TEST(ApiDocsTest, JsonExamplesConformToTheirSchemas) {
  std::ifstream in(std::string(KEYWARD_SOURCE_DIR) + "/docs/api.md", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string markdown = text.str();
  std::vector<std::string> blocks;
  for (auto at = markdown.find("```json\n"); at != std::string::npos;
       at = markdown.find("```json\n", at)) {
    at += 8;
    const auto end = markdown.find("```", at);
    ASSERT_NE(end, std::string::npos);
    blocks.push_back(markdown.substr(at, end - at));
    at = end + 3;
  }
  auto answer_of = [](std::string_view method, const std::vector<std::string>& segments) {
    auto op = openapi::FindOperation(Document(), method, segments);
    EXPECT_TRUE(op.has_value() && op->object != nullptr);
    return op->object->at("responses").at("200").at("content").at("application/json").at("schema");
  };
  const std::vector<std::pair<std::string, json::value>> schemas = {
      {"the create body (NewKey)", {{"$ref", "#/components/schemas/NewKey"}}},
      {"the authorize answer", answer_of("POST", {"api", "v1", "authorize"})},
      {"an error (Error)", {{"$ref", "#/components/schemas/Error"}}},
      {"the audit answer", answer_of("GET", {"api", "v1", "audit"})},
  };
  ASSERT_EQ(blocks.size(), schemas.size())
      << "docs/api.md has a JSON example this test does not check: add its schema here";
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    SCOPED_TRACE(schemas[i].first + ":\n" + blocks[i]);
    boost::system::error_code ec;
    json::value example = json::parse(blocks[i], ec);
    ASSERT_FALSE(ec) << "not JSON: " << ec.message();
    EXPECT_EQ(openapi::Validate(Document(), schemas[i].second, example),
              std::vector<std::string>());
  }
}

}  // namespace keyward
