// Issue 13 through the real ApiHandler (api_test_world.h): a key made with the defaults is
// refused each row of the issue's table yet still authenticates; keys:reveal reveals only
// narrower keys; every way of making a broader key than the creator is refused and stores
// nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "app/api_call_test_util.h"
#include "app/api_test_world.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

using api_call::Call;
using api_call::Sent;

// Makes a key by POST /users/{user}/apikeys as `token`; returns the new key ("" on failure).
std::string MakeKey(ApiWorld& world, const std::string& token, const std::string& body,
                    const std::string& user = "me") {
  Sent made = Call(world, bh::verb::post, "/api/v1/users/" + user + "/apikeys", token, body);
  EXPECT_EQ(made.status, 201) << body << ": " << json::serialize(made.body);
  if (made.status != 201) return "";
  return std::string(made.body.at("token").as_string());
}

// The names of `user`'s keys, as `token` lists them.
std::set<std::string> KeyNames(ApiWorld& world, const std::string& token, const std::string& user) {
  Sent listed = Call(world, bh::verb::get, "/api/v1/users/" + user + "/apikeys", token);
  EXPECT_EQ(listed.status, 200) << json::serialize(listed.body);
  std::set<std::string> names;
  if (listed.status != 200) return names;
  for (const json::value& key : listed.body.as_array()) {
    names.insert(std::string(key.at("name").as_string()));
  }
  return names;
}

// The issue's table: the admin's `driver-key`, made as the README shows (no scopes), gets 403
// on each row, and nothing changes; it still reads /users/me and passes /auth.
TEST(ScopesTest, AKeyWithDefaultsIsRefusedEveryRowOfTheIssue) {
  ApiWorld world;
  const std::string session = world.NewSession("admin");
  const std::string driver = MakeKey(world, session, R"({"name":"driver-key"})");
  ASSERT_FALSE(driver.empty());
  ASSERT_FALSE(MakeKey(world, session, R"({"name":"other-key"})").empty());

  struct Row {
    bh::verb method;
    std::string target;
    std::string body;
    std::string lacking;  // the scope the refusal names
  };
  const std::vector<Row> rows = {
      {bh::verb::get, "/api/v1/users/me/apikeys/other-key/token", "", "keys:reveal"},
      {bh::verb::get, "/api/v1/users/me/apikeys?reveal=true", "", "keys:read"},
      {bh::verb::post, "/api/v1/users/me/apikeys", R"({"duration":"9999h"})", "keys:write"},
      {bh::verb::post, "/api/v1/users", R"({"id":"mallory","name":"Mallory"})", "users:write"},
      {bh::verb::post, "/api/v1/users/bob/tags", R"({"tag":"roles:id:operator"})", "users:write"},
      {bh::verb::delete_, "/api/v1/users/me/apikeys/other-key", "", "keys:write"},
      {bh::verb::get, "/api/v1/audit", "", "audit:read"},
  };
  for (const Row& row : rows) {
    Sent sent = Call(world, row.method, row.target, driver, row.body);
    EXPECT_EQ(sent.status, 403) << row.target << ": " << json::serialize(sent.body);
    EXPECT_EQ(
        sent.body,
        json::parse(R"({"error":{"code":"permission_denied","message":)" +
                    json::serialize(json::value("this API key lacks the scope " + row.lacking)) +
                    "}}"))
        << row.target;
  }

  // Nor may it read other users: what an operator's session reads needs users:read.
  for (const std::string target :
       {"/api/v1/users", "/api/v1/users/bob", "/api/v1/users/admin", "/api/v1/users/bob/apikeys"}) {
    Sent sent = Call(world, bh::verb::get, target, driver);
    EXPECT_EQ(sent.status, 403) << target << ": " << json::serialize(sent.body);
    EXPECT_THAT(sent.Message(), StartsWith("this API key lacks the scope ")) << target;
  }

  Sent me = Call(world, bh::verb::get, "/api/v1/users/me", driver);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.body.at("id").as_string(), "admin");
  auto auth = world.Send(MakeRequest(bh::verb::get, "/auth", "", driver));
  ASSERT_TRUE(auth.has_value());
  EXPECT_EQ(auth->status(), 200);
  EXPECT_EQ(auth->response["X-Keyward-User"], "admin");

  // Nothing happened: no key made or deleted, no mallory, bob is no operator.
  EXPECT_THAT(KeyNames(world, session, "me"),
              UnorderedElementsAre("admin-key", "driver-key", "other-key"));
  EXPECT_EQ(Call(world, bh::verb::get, "/api/v1/users/mallory", session).status, 404);
  Sent bob = Call(world, bh::verb::get, "/api/v1/users/bob", session);
  ASSERT_EQ(bob.status, 200);
  EXPECT_TRUE(bob.body.at("tags").as_array().empty()) << json::serialize(bob.body);
}

// A key with keys:reveal reveals the keys within its grant, not a broader one; listed in full,
// the broader one stays masked.
TEST(ScopesTest, AKeyWithKeysRevealRevealsNarrowerKeysOnly) {
  ApiWorld world;
  const std::string session = world.NewSession("alice");
  const std::string revealer =
      MakeKey(world, session,
              R"({"name":"revealer","duration":"2h","scopes":["keys:read","keys:reveal"]})");
  const std::string narrow =
      MakeKey(world, session, R"({"name":"narrow","duration":"1h","scopes":["keys:read"]})");
  const std::string broad = MakeKey(
      world, session,
      R"({"name":"broad","duration":"1h","scopes":["keys:read","keys:reveal","keys:write"]})");
  ASSERT_FALSE(revealer.empty() || narrow.empty() || broad.empty());

  Sent shown = Call(world, bh::verb::get, "/api/v1/users/me/apikeys/narrow/token", revealer);
  ASSERT_EQ(shown.status, 200) << json::serialize(shown.body);
  EXPECT_EQ(shown.body.at("token").as_string(), narrow);
  Sent refused = Call(world, bh::verb::get, "/api/v1/users/me/apikeys/broad/token", revealer);
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.Message(), StartsWith("key broad has a broader grant than this key"));

  Sent listed = Call(world, bh::verb::get, "/api/v1/users/me/apikeys?reveal=true", revealer);
  ASSERT_EQ(listed.status, 200) << json::serialize(listed.body);
  std::map<std::string, std::string> tokens;
  for (const json::value& key : listed.body.as_array()) {
    tokens[std::string(key.at("name").as_string())] = std::string(key.at("token").as_string());
  }
  EXPECT_EQ(tokens["narrow"], narrow);
  EXPECT_EQ(tokens["revealer"], revealer);
  EXPECT_EQ(tokens["broad"], MaskKey(broad));
}

// Each way of making a broader key than the creator is 403, and nothing is stored.
TEST(ScopesTest, EscalationIsRefusedAndNothingIsStored) {
  ApiWorld world;
  const std::string admin = world.NewSession("admin");
  ASSERT_EQ(
      Call(world, bh::verb::post, "/api/v1/users/alice/tags", admin, R"({"tag":"team:y"})").status,
      200);
  const std::string alice = world.NewSession("alice");
  const std::string writer =
      MakeKey(world, alice,
              R"({"name":"writer","duration":"1h","scopes":["keys:read","keys:write"],)"
              R"("tags":["team:x"],"allowed_addresses":["127.0.0.0/8"]})");
  const std::string op_writer = MakeKey(
      world, admin, R"({"name":"op-writer","scopes":["keys:write","users:read","users:write"]})");
  const std::string op_keys_only =
      MakeKey(world, admin, R"({"name":"op-keys-only","scopes":["keys:write"]})");
  ASSERT_FALSE(writer.empty() || op_writer.empty() || op_keys_only.empty());

  struct Attempt {
    std::string what;
    const std::string* key;
    std::string user;
    std::string body;
    int status;
    std::string message;  // a part of the refusal's message
  };
  const std::vector<Attempt> attempts = {
      {"scope", &writer, "me", R"({"scopes":["keys:reveal"]})", 403,
       "scope keys:reveal is not in the creating key's grant"},
      {"tag", &writer, "me", R"({"tags":["team:y"]})", 403,
       "tag team:y is not in the creating key's grant"},
      {"address", &writer, "me", R"({"allowed_addresses":["0.0.0.0/0"]})", 403,
       "address range 0.0.0.0/0 is not in the creating key's grant"},
      {"anywhere", &writer, "me", R"({"allowed_addresses":[]})", 403,
       "use from any address is not in the creating key's grant"},
      {"expiry", &writer, "me", R"({"duration":"9999h"})", 403,
       "duration 9999h outlives the creating key"},
      // Another user: absent for a plain user's key, as without scopes.
      {"other user", &writer, "bob", R"({})", 404, "no such user or key"},
      // An operator's key: users:write, and only what the target may hold.
      {"other user without users:write", &op_keys_only, "alice", R"({})", 403,
       "this API key lacks the scope users:write"},
      {"operator scope for a plain user", &op_writer, "alice", R"({"scopes":["users:read"]})", 403,
       "scope users:read needs an operator owner"},
      {"a tag the target lacks", &op_writer, "alice", R"({"tags":["roles:id:operator"]})", 403,
       "tag roles:id:operator is not one of alice's tags"},
      {"beyond the operator's key", &op_writer, "alice", R"({"scopes":["audit:read"]})", 403,
       "scope audit:read is not in the creating key's grant"},
  };
  for (const Attempt& a : attempts) {
    Sent sent = Call(world, bh::verb::post, "/api/v1/users/" + a.user + "/apikeys", *a.key, a.body);
    EXPECT_EQ(sent.status, a.status) << a.what << ": " << json::serialize(sent.body);
    EXPECT_THAT(sent.Message(), HasSubstr(a.message)) << a.what;
  }

  EXPECT_THAT(KeyNames(world, alice, "me"), UnorderedElementsAre("alice-key", "writer"));
  EXPECT_THAT(KeyNames(world, admin, "bob"), UnorderedElementsAre("bob-key"));
  // Within its grant, the same key does make a key.
  EXPECT_FALSE(
      MakeKey(world, writer, R"({"name":"within","duration":"30m","scopes":["keys:read"]})")
          .empty());
  EXPECT_THAT(KeyNames(world, alice, "me"), UnorderedElementsAre("alice-key", "writer", "within"));
}

// docs/api.md's example create body, sent as written by a user with the tag it names, makes
// exactly the key it describes.
TEST(ScopesTest, TheDocumentedCreateBodyMakesThatKey) {
  std::ifstream in(std::string(KEYWARD_SOURCE_DIR) + "/docs/api.md", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string markdown = text.str();
  const auto start = markdown.find("```json\n{\"name\": \"minerva-driver\"");
  ASSERT_NE(start, std::string::npos) << "docs/api.md lost its example create body";
  const auto end = markdown.find("```", start + 8);
  const std::string body = markdown.substr(start + 8, end - start - 8);
  const json::value example = json::parse(body);

  ApiWorld world;  // alice has the tag team:x
  const std::string session = world.NewSession("alice");
  Sent made = Call(world, bh::verb::post, "/api/v1/users/me/apikeys", session, body);
  ASSERT_EQ(made.status, 201) << json::serialize(made.body);
  EXPECT_EQ(made.body.at("name"), example.at("name"));
  EXPECT_EQ(made.body.at("scopes"), example.at("scopes"));
  EXPECT_EQ(made.body.at("tags"), example.at("tags"));
  EXPECT_EQ(made.body.at("allowed_addresses"), example.at("allowed_addresses"));
  EXPECT_EQ(made.body.at("full_access"), json::value(false));
}

}  // namespace
}  // namespace keyward
