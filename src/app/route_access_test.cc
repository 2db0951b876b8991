// Who may call what: every route of the real router × every kind of caller, with the status
// each gets. The table must list exactly the router's routes (method, pattern and access), so
// a route added without a row here fails this test until someone decides who may call it.
//
// Callers: none (no credential), a plain user (alice) on her own resources, an operator
// (admin), and another plain user (bob) on alice's resources. Every cell runs in a fresh
// world (api_test_world.h), so that a DELETE in one cell changes nothing for the next.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "app/api_test_world.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
using bh::verb;

struct Row {
  verb method;
  std::string pattern;  // exactly as routes.cc registers it
  Access access;
  std::string target;  // a request to it, naming alice's resources ({alice_key}: her key)
  std::string body;
  int none, user, op, other;  // the status each caller gets
};

// Logout takes a session; these callers present API keys, so a signed-in caller gets 400.
// Alice may read herself but not manage users or tags; bob sees alice's keys as absent (404:
// another user's keys are indistinguishable from none) and her profile as forbidden (403).
const std::vector<Row>& Table() {
  static const std::vector<Row> rows = {
      {verb::post, "/api/v1/login", Access::kPublic, "/api/v1/login",
       R"({"username":"alice","password":"not-her-password"})", 401, 401, 401, 401},
      {verb::post, "/api/v1/logout", Access::kSignedIn, "/api/v1/logout", "", 401, 400, 400, 400},
      {verb::get, "/api/v1/settings", Access::kPublic, "/api/v1/settings", "", 200, 200, 200, 200},
      {verb::get, "/api/v1/openapi.json", Access::kPublic, "/api/v1/openapi.json", "", 200, 200,
       200, 200},
      {verb::post, "/api/v1/authorize", Access::kSignedIn, "/api/v1/authorize",
       R"({"token":"{alice_key}"})", 401, 200, 200, 200},
      {verb::get, "/api/v1/users/me", Access::kSignedIn, "/api/v1/users/me", "", 401, 200, 200,
       200},
      {verb::get, "/api/v1/users", Access::kSignedIn, "/api/v1/users", "", 401, 403, 200, 403},
      {verb::post, "/api/v1/users", Access::kSignedIn, "/api/v1/users",
       R"({"id":"carol","name":"Carol"})", 401, 403, 201, 403},
      {verb::get, "/api/v1/users/{id}", Access::kSignedIn, "/api/v1/users/alice", "", 401, 200, 200,
       403},
      {verb::delete_, "/api/v1/users/{id}", Access::kSignedIn, "/api/v1/users/alice", "", 401, 403,
       204, 403},
      {verb::post, "/api/v1/users/{id}/tags", Access::kSignedIn, "/api/v1/users/alice/tags",
       R"({"tag":"team:y"})", 401, 403, 200, 403},
      {verb::delete_, "/api/v1/users/{id}/tags/{tag}", Access::kSignedIn,
       "/api/v1/users/alice/tags/team:x", "", 401, 403, 200, 403},
      {verb::get, "/api/v1/users/{id}/apikeys", Access::kSignedIn, "/api/v1/users/alice/apikeys",
       "", 401, 200, 200, 404},
      {verb::post, "/api/v1/users/{id}/apikeys", Access::kSignedIn, "/api/v1/users/alice/apikeys",
       R"({"name":"new-key"})", 401, 201, 201, 404},
      {verb::delete_, "/api/v1/users/{id}/apikeys/{name}", Access::kSignedIn,
       "/api/v1/users/alice/apikeys/alice-key", "", 401, 204, 204, 404},
      {verb::get, "/api/v1/users/{id}/apikeys/{name}/token", Access::kSignedIn,
       "/api/v1/users/alice/apikeys/alice-key/token", "", 401, 200, 200, 404},
      {verb::get, "/api/v1/audit", Access::kSignedIn, "/api/v1/audit?user=alice", "", 401, 200, 200,
       403},
  };
  return rows;
}

std::string Name(verb method, const std::string& pattern, Access access) {
  return std::string(bh::to_string(method)) + " " + pattern +
         (access == Access::kPublic ? " (public)" : " (signed in)");
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

TEST(RouteAccessTest, TableListsExactlyTheRoutersRoutes) {
  ApiWorld world;
  std::set<std::string> routed;
  for (const Route& route : world.router().routes()) {
    routed.insert(Name(route.method, route.pattern, route.access));
  }
  std::set<std::string> tabled;
  for (const Row& row : Table()) {
    EXPECT_TRUE(tabled.insert(Name(row.method, row.pattern, row.access)).second)
        << Name(row.method, row.pattern, row.access) << " has two rows";
  }
  for (const std::string& route : routed) {
    EXPECT_TRUE(tabled.contains(route))
        << route << " is a route with no row in route_access_test.cc: add one saying who may "
        << "call it";
  }
  for (const std::string& row : tabled) {
    EXPECT_TRUE(routed.contains(row)) << row << " has a row but the router has no such route";
  }
}

TEST(RouteAccessTest, EveryCallerGetsTheExpectedStatus) {
  enum class Caller { kNone, kUser, kOperator, kOther };
  const std::vector<std::tuple<Caller, std::string, int Row::*>> callers = {
      {Caller::kNone, "no credential", &Row::none},
      {Caller::kUser, "alice (own resources)", &Row::user},
      {Caller::kOperator, "admin (operator)", &Row::op},
      {Caller::kOther, "bob (alice's resources)", &Row::other},
  };
  for (const Row& row : Table()) {
    for (const auto& [caller, who, expected] : callers) {
      ApiWorld world;  // fresh: cells do not see each other's changes
      std::string token;
      if (caller == Caller::kUser) token = world.tokens["alice"];
      if (caller == Caller::kOperator) token = world.tokens["admin"];
      if (caller == Caller::kOther) token = world.tokens["bob"];
      const std::string body = Replace(row.body, "{alice_key}", world.tokens["alice"]);
      auto answer = world.Send(MakeRequest(row.method, row.target, body, token));
      const std::string cell = Name(row.method, row.pattern, row.access) + " as " + who;
      ASSERT_TRUE(answer.has_value()) << cell << ": no response";
      EXPECT_EQ(answer->status(), row.*expected) << cell << ": " << answer->response.body();
      if (answer->status() == 401) {
        EXPECT_EQ(answer->header(bh::field::www_authenticate), "Bearer") << cell;
      }
    }
  }
}

}  // namespace
}  // namespace keyward
