// Issue 17 through the real ApiHandler (api_test_world.h): POST /api/v1/apikeys/check, which
// `keyward scan --check/--revoke` sends: which hashes are live keys, whose (only where the caller
// may read the key), and revoking the live ones the caller may delete.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "app/api_call_test_util.h"
#include "app/api_test_world.h"
#include "common/hex.h"
#include "core/api_key.h"
#include "core/webhook.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
namespace json = boost::json;
using ::testing::HasSubstr;

using api_call::Call;
using api_call::Sent;

constexpr char kCheck[] = "/api/v1/apikeys/check";

// The hex SHA-256 of a key, as the scanner sends it.
std::string HashOf(const std::string& token) { return ToHex(HashKey(token)); }

Grant WithScopes(std::vector<std::string> scopes) {
  Grant grant;
  grant.scopes = std::move(scopes);
  return grant;
}

// {"hashes": [...], "revoke": revoke}
std::string CheckRequestBody(const std::vector<std::string>& hashes, bool revoke = false) {
  json::array list;
  for (const std::string& hash : hashes) list.emplace_back(hash);
  return json::serialize(json::object{{"hashes", std::move(list)}, {"revoke", revoke}});
}

class CheckApiTest : public ::testing::Test {
 protected:
  Sent Check(const std::string& token, const std::string& body) {
    return Call(world_, bh::verb::post, kCheck, token, body);
  }
  // The results array of a 200 answer.
  static json::array Results(const Sent& sent) {
    EXPECT_EQ(sent.status, 200) << json::serialize(sent.body);
    return sent.status == 200 ? sent.body.at("results").as_array() : json::array();
  }
  int Me(const std::string& token) {
    return Call(world_, bh::verb::get, "/api/v1/users/me", token).status;
  }
  // Stores a key of alice's that expired an hour ago; returns it.
  std::string AddExpiredKey(const std::string& name) {
    std::string token = GenerateKey("kw");
    KeyRecord record;
    record.user_id = "alice";
    record.name = name;
    record.hash = HashKey(token);
    record.masked = MaskKey(token);
    record.created_at = Clock::System().Now() - 7200;
    record.expires_at = record.created_at + 3600;
    record.grant = FullAccess();
    EXPECT_THAT(world_.store().CreateKey(record), IsOk());
    return token;
  }

  ApiWorld world_;
  const std::string alice_ = world_.NewSession("alice");
};

TEST_F(CheckApiTest, TellsLiveFromUnknownExpiredAndDisabled) {
  const std::string live = world_.AddFullAccessKey("alice", "live");
  const std::string expired = AddExpiredKey("expired");
  const std::string disabled = world_.AddFullAccessKey("alice", "disabled");
  ASSERT_EQ(Call(world_, bh::verb::patch, "/api/v1/users/alice/apikeys/disabled", alice_,
                 R"({"disabled":true})")
                .status,
            200);
  const std::string unknown = GenerateKey("kw");
  const std::vector<std::string> hashes = {HashOf(unknown), HashOf(live), HashOf(expired),
                                           HashOf(disabled)};
  json::array results = Results(Check(alice_, CheckRequestBody(hashes)));
  ASSERT_EQ(results.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(results[i].at("hash").as_string(), hashes[i]) << "in the request's order";
    EXPECT_EQ(results[i].at("revoked"), false);
  }
  EXPECT_EQ(results[0],
            json::parse(R"({"hash":")" + hashes[0] + R"(","live":false,"revoked":false})"));
  EXPECT_EQ(results[1].at("live"), true);
  EXPECT_EQ(results[1].at("user"), "alice");
  EXPECT_EQ(results[1].at("name"), "live");
  EXPECT_EQ(results[2].at("live"), false);
  EXPECT_EQ(results[2].at("name"), "expired");  // hers: known, but not live
  EXPECT_EQ(results[3].at("live"), false);
  EXPECT_EQ(Me(live), 200) << "a check without revoke changes nothing";
}

// A canary is answered as an unknown key: not live, not named, not revoked, even by its owner.
TEST_F(CheckApiTest, ACanaryIsNotLiveNotNamedAndNotRevoked) {
  const Sent created = Call(world_, bh::verb::post, "/api/v1/users/alice/apikeys", alice_,
                            R"({"name":"trap","canary":true})");
  ASSERT_EQ(created.status, 201) << json::serialize(created.body);
  const std::string canary(created.body.at("token").as_string());
  const std::string hash = HashOf(canary);
  json::array results = Results(Check(alice_, CheckRequestBody({hash}, /*revoke=*/true)));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], json::parse(R"({"hash":")" + hash + R"(","live":false,"revoked":false})"));
  EXPECT_THAT(world_.store().GetKey("alice", "trap"), IsOk()) << "the trap stays set";
}

// A rotated key's old secret is live while it is accepted (grace); with grace 0 it is not.
TEST_F(CheckApiTest, OldSecretIsLiveOnlyWhileAccepted) {
  Sent made =
      Call(world_, bh::verb::post, "/api/v1/users/alice/apikeys", alice_, R"({"name":"rot"})");
  ASSERT_EQ(made.status, 201);
  const std::string first = made.Str("token");
  Sent rotated = Call(world_, bh::verb::post, "/api/v1/users/alice/apikeys/rot/rotate", alice_,
                      R"({"grace":"1h"})");
  ASSERT_EQ(rotated.status, 201);
  const std::string second = rotated.Str("token");
  ASSERT_EQ(Call(world_, bh::verb::post, "/api/v1/users/alice/apikeys/rot/rotate", alice_,
                 R"({"grace":"0s"})")
                .status,
            201);
  json::array results = Results(Check(alice_, CheckRequestBody({HashOf(first), HashOf(second)})));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].at("live"), true) << "in its 1h grace";
  EXPECT_EQ(results[1].at("live"), false) << "retired at once (grace 0s)";
}

// user/name only for keys the caller may read: bob's key is live but nameless to alice, named to
// an operator's session; an operator's key without users:read does not see whose it is.
TEST_F(CheckApiTest, NamesOnlyReadableKeys) {
  const std::string bobs = world_.tokens["bob"];
  json::array as_alice = Results(Check(alice_, CheckRequestBody({HashOf(bobs)})));
  ASSERT_EQ(as_alice.size(), 1u);
  EXPECT_EQ(as_alice[0].at("live"), true);
  EXPECT_FALSE(as_alice[0].as_object().contains("user"));
  EXPECT_FALSE(as_alice[0].as_object().contains("name"));
  json::array as_admin =
      Results(Check(world_.NewSession("admin"), CheckRequestBody({HashOf(bobs)})));
  EXPECT_EQ(as_admin[0].at("user"), "bob");
  EXPECT_EQ(as_admin[0].at("name"), "bob-key");
  const std::string admin_read = world_.AddKey("admin", "reader", WithScopes({"keys:read"}));
  json::array as_key = Results(Check(admin_read, CheckRequestBody({HashOf(bobs)})));
  EXPECT_FALSE(as_key[0].as_object().contains("user"));
  const std::string admin_users =
      world_.AddKey("admin", "users-reader", WithScopes({"keys:read", "users:read"}));
  EXPECT_EQ(Results(Check(admin_users, CheckRequestBody({HashOf(bobs)})))[0].at("user"), "bob");
}

// revoke deletes the live keys the caller may delete (then 401), as DELETE does: event
// key.deleted, audit key.delete with detail "leak scan"; another user's key stays.
TEST_F(CheckApiTest, RevokeDeletesOnlyDeletableLiveKeys) {
  const std::string webhook = world_.AddWebhook();
  const std::string mine = world_.AddFullAccessKey("alice", "leaked");
  const std::string bobs = world_.tokens["bob"];
  json::array results =
      Results(Check(alice_, CheckRequestBody({HashOf(mine), HashOf(bobs)}, true)));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].at("live"), true);
  EXPECT_EQ(results[0].at("revoked"), true);
  EXPECT_EQ(results[1].at("live"), true);
  EXPECT_EQ(results[1].at("revoked"), false) << "not hers to delete";
  EXPECT_EQ(Me(mine), 401);
  EXPECT_EQ(Me(bobs), 200);
  // Checked again: gone.
  EXPECT_EQ(Results(Check(alice_, CheckRequestBody({HashOf(mine)}, true)))[0].at("live"), false);

  auto audit = world_.store().ListAudit(AuditFilter{.user = "alice"});
  ASSERT_THAT(audit, IsOk());
  int deletes = 0;
  for (const AuditEvent& event : *audit) {
    if (event.action != AuditAction::kKeyDelete) continue;
    ++deletes;
    EXPECT_EQ(event.target, "leaked");
    EXPECT_EQ(event.detail, "leak scan");
    EXPECT_TRUE(event.success);
  }
  EXPECT_EQ(deletes, 1);
  auto deliveries = world_.store().ListDeliveries(webhook, 100);
  ASSERT_THAT(deliveries, IsOk());
  int deleted = 0;
  for (const Delivery& delivery : *deliveries) {
    if (delivery.event.type != event::kKeyDeleted) continue;
    ++deleted;
    EXPECT_THAT(delivery.event.data, HasSubstr(R"("key":"leaked")"));
  }
  EXPECT_EQ(deleted, 1);
}

// An operator's session revokes anyone's live key.
TEST_F(CheckApiTest, OperatorRevokesAnyonesKey) {
  const std::string bobs = world_.tokens["bob"];
  json::array results =
      Results(Check(world_.NewSession("admin"), CheckRequestBody({HashOf(bobs)}, true)));
  EXPECT_EQ(results[0].at("revoked"), true);
  EXPECT_EQ(Me(bobs), 401);
}

// keys:read checks; revoking needs keys:write as well.
TEST_F(CheckApiTest, ScopesKeysReadAndKeysWrite) {
  const std::string target = world_.AddFullAccessKey("alice", "target");
  const std::string reader = world_.AddKey("alice", "reader", WithScopes({"keys:read"}));
  const std::string writer = world_.AddKey("alice", "writer", WithScopes({"keys:write"}));
  const std::string both = world_.AddKey("alice", "both", WithScopes({"keys:read", "keys:write"}));
  EXPECT_EQ(Check(reader, CheckRequestBody({HashOf(target)})).status, 200);
  Sent refused = Check(reader, CheckRequestBody({HashOf(target)}, true));
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.Message(), HasSubstr("keys:write"));
  EXPECT_EQ(Check(writer, CheckRequestBody({HashOf(target)})).status, 403);
  EXPECT_EQ(Me(target), 200);
  EXPECT_EQ(Results(Check(both, CheckRequestBody({HashOf(target)}, true)))[0].at("revoked"), true);
  EXPECT_EQ(Me(target), 401);
}

TEST_F(CheckApiTest, RefusesMalformedRequests) {
  const std::string good = HashOf(GenerateKey("kw"));
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Check(alice_, CheckRequestBody({})).status, 400) << "no hashes";
  EXPECT_EQ(Check(alice_, "{}").status, 400) << "hashes missing";
  EXPECT_EQ(Check(alice_, CheckRequestBody({good.substr(1)})).status, 400) << "63 characters";
  EXPECT_EQ(Check(alice_, CheckRequestBody({good + "0"})).status, 400) << "65 characters";
  EXPECT_EQ(Check(alice_, CheckRequestBody({upper})).status, 400) << "upper case";
  EXPECT_EQ(Check(alice_, CheckRequestBody({std::string(64, 'g')})).status, 400) << "not hex";
  Sent unknown_field = Check(alice_, R"({"hashes":[")" + good + R"("],"keys":[]})");
  EXPECT_EQ(unknown_field.status, 400);
  EXPECT_THAT(unknown_field.Message(), HasSubstr("keys"));
  EXPECT_EQ(Check(alice_, R"({"hashes":")" + good + R"("})").status, 400) << "not an array";
  EXPECT_EQ(Check(alice_, R"({"hashes":[1]})").status, 400);
  EXPECT_EQ(Check(alice_, R"({"hashes":[")" + good + R"("],"revoke":"yes"})").status, 400);
  EXPECT_EQ(Check(alice_, "not json").status, 400);
}

// At most 900 hashes, which stay under the transport's 64 KiB body limit (this world has no
// transport: tests/integration sends a real one).
TEST_F(CheckApiTest, TakesAtMostNineHundredHashes) {
  const std::string live = world_.tokens["alice"];
  std::vector<std::string> hashes(899, HashOf(GenerateKey("kw")));
  hashes.push_back(HashOf(live));
  json::array results = Results(Check(alice_, CheckRequestBody(hashes)));
  ASSERT_EQ(results.size(), 900u);
  EXPECT_EQ(results[899].at("live"), true);
  hashes.push_back(HashOf(live));
  Sent refused = Check(alice_, CheckRequestBody(hashes));
  EXPECT_EQ(refused.status, 400);
  EXPECT_THAT(refused.Message(), HasSubstr("900"));
}

}  // namespace
}  // namespace keyward
