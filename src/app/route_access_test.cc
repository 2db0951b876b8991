// The authorization matrix: every route of the real router × every kind of principal, with the
// status each gets. The table must list exactly the router's routes (method, pattern and
// access), so a route added without a row here fails this test until someone decides who may
// call it; each row has one expected status per principal, from this one table.
//
// Principals, all acting on alice's resources: none (no credential); alice's session (a
// person's full power); admin's session (an operator's); alice's key without scopes; one key of
// alice's per Keyward scope; admin's key without scopes; admin's key with users:write only;
// bob's key with every Keyward scope (another user, not an operator); admin's key with
// webhooks:read and webhooks:write. The keys are stored with
// their grant as it is (ApiWorld::AddKey): alice's users:* keys are ones the service no longer
// makes for a non-operator, but such keys exist once an operator loses the tag. Each row runs in
// one world (api_test_world.h), and each cell there on objects of its own (its own alice, key,
// principal and webhook), so that a DELETE in one cell changes nothing for the next.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/api_test_world.h"
#include "core/grant.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
using bh::verb;

// How a principal is made in a fresh world: a session of `user`, or a key of `user` with
// `scopes`, or (user empty) no credential.
struct Who {
  std::string label;
  std::string user;
  bool session = false;
  std::vector<std::string> scopes;
};

std::vector<std::string> AllKeywardScopes() {
  return {kKeywardScopes.begin(), kKeywardScopes.end()};
}

// The columns of the table, in order.
const std::vector<Who>& Principals() {
  static const std::vector<Who> principals = [] {
    std::vector<Who> p = {
        {"none", "", false, {}},
        {"alice's session", "alice", true, {}},
        {"admin's session (operator)", "admin", true, {}},
        {"alice's key without scopes", "alice", false, {}},
    };
    for (auto scope : kKeywardScopes) {
      p.push_back({"alice's key with " + std::string(scope), "alice", false, {std::string(scope)}});
    }
    p.push_back({"admin's key without scopes", "admin", false, {}});
    p.push_back({"admin's key with users:write", "admin", false, {"users:write"}});
    p.push_back({"bob's key with every Keyward scope", "bob", false, AllKeywardScopes()});
    p.push_back({"admin's key with the webhooks scopes",
                 "admin",
                 false,
                 {"webhooks:read", "webhooks:write"}});
    p.push_back({"admin's key with usage:read", "admin", false, {"usage:read"}});
    return p;
  }();
  return principals;
}

Grant ScopedGrant(std::vector<std::string> scopes) {
  Grant grant;
  grant.scopes = std::move(scopes);  // sorted: each principal has one, or all in kKeywardScopes
  std::sort(grant.scopes.begin(), grant.scopes.end());
  return grant;
}

struct Row {
  verb method;
  std::string pattern;  // exactly as routes.cc registers it
  Access access;
  // A request to it, naming alice's resources ({alice_key}: her key; {webhook}: the id of a
  // webhook an operator made).
  std::string target;
  std::string body;
  // One status per principal, in Principals() order, on three lines:
  //   none, alice session, admin session, alice key (no scopes),
  //   alice keys: keys:read keys:write keys:reveal users:read users:write audit:read authorize
  //               tokens:issue webhooks:read webhooks:write usage:read,
  //   admin key (no scopes), admin key users:write, bob's key (every scope), admin key
  //   webhooks:read webhooks:write, admin key usage:read
  std::vector<int> expected;
  // The row's cells each need a world of their own: what one cell does cannot be undone for
  // the next (a signing key rotation publishes the one next key there is).
  bool world_per_cell = false;
};

// Sessions have their user's full power. A key has only its scopes; operator powers (other
// users, users:*) need the operator tag as well, so alice's users:* keys change nothing and bob
// sees alice's keys as absent (404: another user's keys are indistinguishable from none) and
// her profile as forbidden (403). A key cannot sign out (400: logout takes a session).
const std::vector<Row>& Table() {
  static const std::vector<Row> rows = {
      {verb::post,
       "/api/v1/login",
       Access::kPublic,
       "/api/v1/login",
       R"({"username":"alice","password":"not-her-password"})",
       {/**/ 401, 401, 401, 401,                                     //
        /**/ 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401,  //
        /**/ 401, 401, 401, 401, 401}},
      {verb::post,
       "/api/v1/logout",
       Access::kSignedIn,
       "/api/v1/logout",
       "",
       {/**/ 401, 204, 204, 400,                                     //
        /**/ 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400,  //
        /**/ 400, 400, 400, 400, 400}},
      {verb::get,
       "/api/v1/settings",
       Access::kPublic,
       "/api/v1/settings",
       "",
       {/**/ 200, 200, 200, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
      {verb::get,
       "/api/v1/openapi.json",
       Access::kPublic,
       "/api/v1/openapi.json",
       "",
       {/**/ 200, 200, 200, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
      // The short strings would pack the statuses onto the first line.
      // clang-format off
      {verb::get,
       "/readyz",
       Access::kPublic,
       "/readyz",
       "",
       {/**/ 200, 200, 200, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
      // clang-format on
      {verb::post,
       "/api/v1/authorize",
       Access::kSignedIn,
       "/api/v1/authorize",
       R"({"token":"{alice_key}"})",
       {/**/ 401, 200, 200, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 200, 403, 403, 403, 403,  //
        /**/ 403, 403, 200, 403, 403}},
      {verb::get,
       "/api/v1/users/me",
       Access::kSignedIn,
       "/api/v1/users/me",
       "",
       {/**/ 401, 200, 200, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
      {verb::get,
       "/api/v1/users",
       Access::kSignedIn,
       "/api/v1/users",
       "",
       {/**/ 401, 403, 200, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 403, 403, 403}},
      {verb::post,
       "/api/v1/users",
       Access::kSignedIn,
       "/api/v1/users",
       R"({"id":"carol","name":"Carol"})",
       {/**/ 401, 403, 201, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 201, 403, 403, 403}},
      {verb::get,
       "/api/v1/users/{id}",
       Access::kSignedIn,
       "/api/v1/users/alice",
       "",
       {/**/ 401, 200, 200, 403,                                     //
        /**/ 403, 403, 403, 200, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 403, 403, 403}},
      {verb::delete_,
       "/api/v1/users/{id}",
       Access::kSignedIn,
       "/api/v1/users/alice",
       "",
       {/**/ 401, 403, 204, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 204, 403, 403, 403}},
      {verb::post,
       "/api/v1/users/{id}/tags",
       Access::kSignedIn,
       "/api/v1/users/alice/tags",
       R"({"tag":"team:y"})",
       {/**/ 401, 403, 200, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 200, 403, 403, 403}},
      {verb::delete_,
       "/api/v1/users/{id}/tags/{tag}",
       Access::kSignedIn,
       "/api/v1/users/alice/tags/team:x",
       "",
       {/**/ 401, 403, 200, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 200, 403, 403, 403}},
      {verb::get,
       "/api/v1/users/{id}/apikeys",
       Access::kSignedIn,
       "/api/v1/users/alice/apikeys",
       "",
       {/**/ 401, 200, 200, 403,                                     //
        /**/ 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 404, 403, 403}},
      {verb::post,
       "/api/v1/users/{id}/apikeys",
       Access::kSignedIn,
       "/api/v1/users/alice/apikeys",
       R"({"name":"new-key"})",
       {/**/ 401, 201, 201, 403,                                     //
        /**/ 403, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 404, 403, 403}},
      {verb::delete_,
       "/api/v1/users/{id}/apikeys/{name}",
       Access::kSignedIn,
       "/api/v1/users/alice/apikeys/narrow-key",
       "",
       {/**/ 401, 204, 204, 403,                                     //
        /**/ 403, 204, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 404, 403, 403}},
      {verb::get,
       "/api/v1/users/{id}/apikeys/{name}/token",
       Access::kSignedIn,
       "/api/v1/users/alice/apikeys/narrow-key/token",
       "",
       {/**/ 401, 200, 200, 403,                                     //
        /**/ 403, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 404, 403, 403}},
      {verb::get,
       "/api/v1/audit",
       Access::kSignedIn,
       "/api/v1/audit?user=alice",
       "",
       {/**/ 401, 200, 200, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 403, 403, 403}},
      // The token issuer (on in ApiWorld). Discovery and the JWKS are public.
      {verb::get,
       "/.well-known/openid-configuration",
       Access::kPublic,
       "/.well-known/openid-configuration",
       "",
       {/**/ 200, 200, 200, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
      {verb::get,
       "/.well-known/oauth-authorization-server",
       Access::kPublic,
       "/.well-known/oauth-authorization-server",
       "",
       {/**/ 200, 200, 200, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
      {verb::get,
       "/.well-known/jwks.json",
       Access::kPublic,
       "/.well-known/jwks.json",
       "",
       {/**/ 200, 200, 200, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
      // Public: the client authenticates inside the form, and a request without one is refused
      // (400 invalid_request: no form) whoever sends it.
      {verb::post,
       "/oauth/token",
       Access::kPublic,
       "/oauth/token",
       "",
       {/**/ 400, 400, 400, 400,                                     //
        /**/ 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400,  //
        /**/ 400, 400, 400, 400, 400}},
      // Signed in with the authorize scope; past that the empty request lacks its form (400).
      {verb::post,
       "/oauth/introspect",
       Access::kSignedIn,
       "/oauth/introspect",
       "",
       {/**/ 401, 400, 400, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 400, 403, 403, 403, 403,  //
        /**/ 403, 403, 400, 403, 403}},
      // An API key or an issued JWT, whatever its scopes; a session token is neither.
      {verb::get,
       "/oauth/userinfo",
       Access::kPublic,
       "/oauth/userinfo",
       "",
       {/**/ 401, 401, 401, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
      {verb::post,
       "/oauth/userinfo",
       Access::kPublic,
       "/oauth/userinfo",
       "",
       {/**/ 401, 401, 401, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
      {verb::get,
       "/api/v1/signing-keys",
       Access::kSignedIn,
       "/api/v1/signing-keys",
       "",
       {/**/ 401, 200, 200, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
      // Operators: a session of one, or a key with users:write whose owner is one.
      {verb::post,
       "/api/v1/signing-keys/rotate",
       Access::kSignedIn,
       "/api/v1/signing-keys/rotate",
       "",
       {/**/ 401, 403, 201, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 201, 403, 403, 403},
       /*world_per_cell=*/true},
      // Issue 15. A rotation returns the new secret in full: a key needs keys:write and may
      // rotate only a key it could reveal (narrow-key's grant is within every key's).
      {verb::post,
       "/api/v1/users/{id}/apikeys/{name}/rotate",
       Access::kSignedIn,
       "/api/v1/users/alice/apikeys/narrow-key/rotate",
       R"({"grace":"1m"})",
       {/**/ 401, 201, 201, 403,                                     //
        /**/ 403, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 404, 403, 403}},
      {verb::patch,
       "/api/v1/users/{id}/apikeys/{name}",
       Access::kSignedIn,
       "/api/v1/users/alice/apikeys/narrow-key",
       R"({"description":"edited"})",
       {/**/ 401, 200, 200, 403,                                     //
        /**/ 403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 404, 403, 403}},
      // Webhooks: operators only, with webhooks:read or webhooks:write from a key. A key lacking
      // the scope gets 403; past that, a non-operator gets 403 on the collection and 404 for an
      // id.
      {verb::post,
       "/api/v1/webhooks",
       Access::kSignedIn,
       "/api/v1/webhooks",
       R"({"url":"http://127.0.0.1:1/hook"})",
       {/**/ 401, 403, 201, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 403, 201, 403}},
      {verb::get,
       "/api/v1/webhooks",
       Access::kSignedIn,
       "/api/v1/webhooks",
       "",
       {/**/ 401, 403, 200, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 403, 200, 403}},
      {verb::get,
       "/api/v1/webhooks/{id}",
       Access::kSignedIn,
       "/api/v1/webhooks/{webhook}",
       "",
       {/**/ 401, 404, 200, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 404, 403, 403,  //
        /**/ 403, 403, 404, 200, 403}},
      {verb::delete_,
       "/api/v1/webhooks/{id}",
       Access::kSignedIn,
       "/api/v1/webhooks/{webhook}",
       "",
       {/**/ 401, 404, 204, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 404, 403,  //
        /**/ 403, 403, 404, 204, 403}},
      {verb::get,
       "/api/v1/webhooks/{id}/deliveries",
       Access::kSignedIn,
       "/api/v1/webhooks/{webhook}/deliveries",
       "",
       {/**/ 401, 404, 200, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 404, 403, 403,  //
        /**/ 403, 403, 404, 200, 403}},
      {verb::post,
       "/api/v1/webhooks/{id}/test",
       Access::kSignedIn,
       "/api/v1/webhooks/{webhook}/test",
       "",
       {/**/ 401, 404, 202, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 404, 403,  //
        /**/ 403, 403, 404, 202, 403}},
      // Issue 16. A key's usage: as listing the owner's keys (keys:read; an operator for
      // another's). The busiest keys: operators only, with usage:read from a key.
      {verb::get,
       "/api/v1/users/{id}/apikeys/{name}/usage",
       Access::kSignedIn,
       "/api/v1/users/alice/apikeys/narrow-key/usage",
       "",
       {/**/ 401, 200, 200, 403,                                     //
        /**/ 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 404, 403, 403}},
      {verb::get,
       "/api/v1/usage/top",
       Access::kSignedIn,
       "/api/v1/usage/top",
       "",
       {/**/ 401, 403, 200, 403,                                     //
        /**/ 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 403, 403, 200}},
      // Issue 17. The check: any signed-in caller with keys:read (it names only keys the caller
      // may read). The leak report: anyone, no key needed.
      {verb::post,
       "/api/v1/apikeys/check",
       Access::kSignedIn,
       "/api/v1/apikeys/check",
       R"({"hashes":["0000000000000000000000000000000000000000000000000000000000000000"]})",
       {/**/ 401, 200, 200, 403,                                     //
        /**/ 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403,  //
        /**/ 403, 403, 200, 403, 403}},
      {verb::post,
       "/api/v1/leaks",
       Access::kPublic,
       "/api/v1/leaks",
       R"({"tokens":[{"token":"not-a-key","url":"https://example.com/"}]})",
       {/**/ 200, 200, 200, 200,                                     //
        /**/ 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,  //
        /**/ 200, 200, 200, 200, 200}},
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

TEST(AuthorizationMatrixTest, TableListsExactlyTheRoutersRoutes) {
  ApiWorld world;
  std::set<std::string> routed;
  for (const Route& route : world.router().routes()) {
    routed.insert(Name(route.method, route.pattern, route.access));
  }
  std::set<std::string> tabled;
  for (const Row& row : Table()) {
    const std::string name = Name(row.method, row.pattern, row.access);
    EXPECT_TRUE(tabled.insert(name).second) << name << " has two rows";
    EXPECT_EQ(row.expected.size(), Principals().size())
        << name << ": give one expected status per principal";
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

// The text of a row for cell `cell`: alice and carol become the cell's own users ("alice-7"), and
// {alice_key} the cell's alice's full-access key.
std::string CellText(const std::string& text, std::size_t cell, const std::string& alice_key) {
  const std::string marker = "\x01";  // no row text holds it
  std::string out = Replace(text, "{alice_key}", marker);
  out = Replace(out, "alice", "alice-" + std::to_string(cell));
  out = Replace(out, "carol", "carol-" + std::to_string(cell));
  return Replace(out, marker, alice_key);
}

// One world per row (per cell where the row says so); each cell has its own alice (with the tag
// team:x, her full-access key "alice-<cell>-key" and the key "narrow-key"), its own principal (a
// new session or key), its own webhook and its own client address, so that no cell sees another's
// changes (a deleted user, a created one, a spent sign-in attempt). The users a row does not name
// (admin, bob) are shared: no row changes them.
TEST(AuthorizationMatrixTest, EveryPrincipalGetsTheExpectedStatus) {
  int mismatches = 0;
  int cells = 0;
  for (const Row& row : Table()) {
    ASSERT_EQ(row.expected.size(), Principals().size());
    std::optional<ApiWorld> row_world;
    for (std::size_t i = 0; i < Principals().size(); ++i) {
      if (!row_world || row.world_per_cell) row_world.emplace();
      ApiWorld& world = *row_world;
      const Who& who = Principals()[i];
      const std::string alice = "alice-" + std::to_string(i);
      world.AddUser(alice, {"team:x"});
      const std::string alice_key = world.AddFullAccessKey(alice, alice + "-key");
      // The key the key rows act on: alice's, made before the principal's, with no scopes (so
      // within every grant: a key with keys:reveal may reveal it).
      world.AddKey(alice, "narrow-key", Grant{});
      const std::string user = who.user == "alice" ? alice : who.user;
      std::string token;
      if (!user.empty()) {
        token = who.session ? world.NewSession(user)
                            : world.AddKey(user, "principal-key-" + std::to_string(i),
                                           ScopedGrant(who.scopes));
      }
      ASSERT_FALSE(!user.empty() && token.empty()) << who.label << ": could not be made";
      const std::string body = CellText(row.body, i, alice_key);
      std::string target = CellText(row.target, i, alice_key);
      if (target.find("{webhook}") != std::string::npos) {
        target = Replace(target, "{webhook}", world.AddWebhook());
      }
      const std::string peer = "127.0.1." + std::to_string(i + 1);
      auto answer = world.Send(MakeRequest(row.method, target, body, token), peer);
      const std::string cell = Name(row.method, row.pattern, row.access) + " as " + who.label;
      ASSERT_TRUE(answer.has_value()) << cell << ": no response";
      ++cells;
      if (answer->status() != row.expected[i]) ++mismatches;
      EXPECT_EQ(answer->status(), row.expected[i]) << cell << ": " << answer->response.body();
      if (answer->status() == 401) {
        // userinfo's challenge carries RFC 6750 parameters (realm when no token came).
        const std::string challenge = row.pattern != "/oauth/userinfo" ? "Bearer"
                                      : who.user.empty()               ? "Bearer realm=\"keyward\""
                                                         : "Bearer error=\"invalid_token\"";
        EXPECT_EQ(answer->header(bh::field::www_authenticate), challenge) << cell;
      }
    }
  }
  EXPECT_EQ(cells, static_cast<int>(Table().size() * Principals().size()));
  EXPECT_EQ(mismatches, 0) << "of " << cells << " cells";
}

}  // namespace
}  // namespace keyward
