// The token issuer on two keyward nodes sharing one PostgreSQL (issue 14, acceptance 3 and the
// cluster half of 4): a key deleted on A stops B's token endpoint, B's introspection and both
// nodes' /auth within a second; an emergency rotation on A is used by B within a second; two
// nodes rotating on a short period never hold two current signing keys.
//
// Needs the server `scripts/with-postgres` starts (make test runs ctest under it); without
// KEYWARD_TEST_PG_URL every test here is skipped.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "backend_fixture.h"
#include "common/clock.h"
#include "harness.h"
#include "jwt_util.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// The same issuer string on both nodes: every node signs for, and verifies, one issuer.
constexpr char kIssuer[] = "http://issuer.keyward.test";
constexpr char kForm[] = "application/x-www-form-urlencoded";

class TokenIssuerClusterTest : public PostgresClusterTest {
 protected:
  TokenIssuerClusterTest() : PostgresClusterTest("kw_tokens_") {}

  // Both nodes on the database, with the shared master key (they unseal the same signing keys)
  // and the issuer on, plus `extra`.
  void StartBoth(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        "--issuer",           kIssuer, "--issuer-allow-http", "--token-audience", "pulsar",
        "--gateway-audience", "pulsar"};
    args.insert(args.end(), extra.begin(), extra.end());
    PostgresClusterTest::StartBoth(args);
  }

  // client_credentials at `node`'s token endpoint, the key in the body as Pulsar's clients
  // send it.
  static HttpResult TokenRequest(const ServerProcess& node, const std::string& key) {
    return Call(
        node.port(), "POST", "/oauth/token",
        "grant_type=client_credentials&client_id=admin&client_secret=" + key + "&audience=pulsar",
        {{"Content-Type", kForm}});
  }
  static int AuthWith(const ServerProcess& node, const std::string& jwt) {
    return Call(node.port(), "GET", "/auth", "", {{"Authorization", "Bearer " + jwt}}).status;
  }
  static HttpResult Introspect(const ServerProcess& node, const std::string& session,
                               const std::string& jwt) {
    return Call(node.port(), "POST", "/oauth/introspect", "token=" + jwt,
                {{"Content-Type", kForm}, {"Authorization", "Bearer " + session}});
  }
  static json::array SigningKeys(const ServerProcess& node, const std::string& session) {
    HttpResult r = node.As(session, "GET", "/api/v1/signing-keys");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.Json().at("keys").as_array() : json::array();
  }
};

TEST_F(TokenIssuerClusterTest, KeyDeletedOnARefusedByBWithinASecond) {
  StartBoth();
  const std::string key =
      a_->NewScopedKey(admin_a_, "me", "pulsar-client", {"tokens:issue", "pulsar:produce"});
  ASSERT_FALSE(key.empty());

  HttpResult issued = TokenRequest(*b_, key);
  ASSERT_EQ(issued.status, 200) << issued.body;
  EXPECT_EQ(issued.Header("content-type"), "application/json");
  EXPECT_EQ(issued.Header("cache-control"), "no-store");
  const std::string jwt = Str(issued.Json(), "access_token");
  ASSERT_FALSE(jwt.empty()) << issued.body;
  EXPECT_EQ(Str(JwtPart(jwt, 1), "iss"), kIssuer);
  EXPECT_EQ(Str(JwtPart(jwt, 1), "client_id"), KeyIdOf(key));
  // Both nodes verify it (B signed it, A holds the same keys) and cache it, as a gateway would.
  EXPECT_EQ(AuthWith(*a_, jwt), 200);
  EXPECT_EQ(AuthWith(*b_, jwt), 200);
  HttpResult active = Introspect(*b_, admin_b_, jwt);
  ASSERT_EQ(active.status, 200) << active.body;
  EXPECT_EQ(active.Json().at("active"), json::value(true)) << active.body;
  EXPECT_EQ(Str(active.Json(), "sub"), "admin");
  EXPECT_EQ(Str(active.Json(), "client_id"), KeyIdOf(key));

  ASSERT_EQ(a_->As(admin_a_, "DELETE", "/api/v1/users/me/apikeys/pulsar-client").status, 204);
  const auto deleted = Clock::now();
  // Each of the four refusals, polled until it holds (at most 5 s, to report how long it took).
  HttpResult refused, inactive;
  int auth_a = 0, auth_b = 0;
  const bool all = Eventually(
      [&] {
        refused = TokenRequest(*b_, key);
        inactive = Introspect(*b_, admin_b_, jwt);
        auth_b = AuthWith(*b_, jwt);
        auth_a = AuthWith(*a_, jwt);
        boost::system::error_code ec;
        const json::value introspected = json::parse(inactive.body, ec);
        return refused.status == 401 && inactive.status == 200 && !ec &&
               introspected == json::parse(R"({"active":false})") && auth_b == 401 && auth_a == 401;
      },
      std::chrono::seconds(5));
  const double millis = std::chrono::duration<double, std::milli>(Clock::now() - deleted).count();
  std::printf("delete on A → token endpoint, introspection and /auth refuse on B: %.1f ms\n",
              millis);
  EXPECT_TRUE(all);
  EXPECT_LT(millis, 1000.0);
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_EQ(Str(refused.Json(), "error"), "invalid_client") << refused.body;
  EXPECT_EQ(refused.Header("www-authenticate"), R"(Basic realm="keyward")");
  EXPECT_EQ(inactive.status, 200);
  EXPECT_EQ(inactive.Json(), json::parse(R"({"active":false})")) << "nothing else said";
  EXPECT_EQ(auth_b, 401);
  EXPECT_EQ(auth_a, 401);
}

// An emergency rotation on A (a key leaked): B hears of it through the store and signs with the
// new key within a second, not at its next tick (up to 60 s later), so that A, which refuses
// what the retired key signs after it stopped, accepts B's tokens.
TEST_F(TokenIssuerClusterTest, AnEmergencyRotationOnAIsUsedByBWithinASecond) {
  StartBoth();
  const std::string key =
      a_->NewScopedKey(admin_a_, "me", "pulsar-client", {"tokens:issue", "pulsar:produce"});
  ASSERT_FALSE(key.empty());
  HttpResult rotated =
      a_->As(admin_a_, "POST", "/api/v1/signing-keys/rotate", json::parse(R"({"now":true})"));
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  const auto at = Clock::now();
  const std::string fresh = Str(rotated.Json(), "kid");
  ASSERT_FALSE(fresh.empty()) << rotated.body;
  auto current_on_b = [&] {
    for (const json::value& k : SigningKeys(*b_, admin_b_)) {
      if (Str(k, "state") == "current") return Str(k, "kid");
    }
    return std::string();
  };
  const bool seen = Eventually([&] { return current_on_b() == fresh; }, std::chrono::seconds(5));
  const double millis = std::chrono::duration<double, std::milli>(Clock::now() - at).count();
  std::printf("emergency rotation on A → B's current key: %.1f ms\n", millis);
  EXPECT_TRUE(seen) << "B's current key is still " << current_on_b();
  EXPECT_LT(millis, 1000.0);

  HttpResult issued = TokenRequest(*b_, key);
  ASSERT_EQ(issued.status, 200) << issued.body;
  const std::string jwt = Str(issued.Json(), "access_token");
  EXPECT_EQ(Str(JwtPart(jwt, 0), "kid"), fresh);
  EXPECT_EQ(AuthWith(*a_, jwt), 200);
}

// Rotating every 4 s with 2 s of prepublication, for about 9 s: at every look each node lists
// distinct, consecutive generations starting where the other node's start, at most one "next"
// key; every generation has one kid and one activates_at across both nodes (one node rotated,
// not both); consecutive generations activate at least the prepublication period apart; and
// the two nodes list the same keys.
TEST_F(TokenIssuerClusterTest, ShortRotationNeverMakesTwoCurrentKeys) {
  constexpr std::int64_t kPrepublishSeconds = 2;
  StartBoth({"--signing-key-rotation", "4s", "--signing-key-prepublish", "2s"});
  std::map<std::int64_t, std::string> kid_of_generation;
  std::map<std::int64_t, UnixSeconds> activates_at_of_generation;
  std::set<std::string> current_kids;
  const auto start = Clock::now();
  int looks = 0;
  while (Clock::now() - start < std::chrono::seconds(9)) {
    std::map<std::int64_t, std::int64_t> first_generation;  // by node port
    for (const auto& [node, session] : {std::pair{a_.get(), admin_a_}, {b_.get(), admin_b_}}) {
      const std::string at =
          "on port " + std::to_string(node->port()) + " after " +
          std::to_string(std::chrono::duration<double>(Clock::now() - start).count()) + " s";
      std::set<std::int64_t> generations;
      int next = 0;
      for (const json::value& key : SigningKeys(*node, session)) {
        const std::string kid = Str(key, "kid");
        const std::int64_t generation = key.at("generation").as_int64();
        EXPECT_TRUE(generations.insert(generation).second)
            << "generation " << generation << " listed twice " << at;
        const auto [it, fresh] = kid_of_generation.emplace(generation, kid);
        EXPECT_EQ(it->second, kid) << "two keys of generation " << generation << " " << at;
        const std::optional<UnixSeconds> activates_at = ParseRfc3339(Str(key, "activates_at"));
        ASSERT_TRUE(activates_at.has_value()) << Str(key, "activates_at");
        const auto [when, first] = activates_at_of_generation.emplace(generation, *activates_at);
        EXPECT_EQ(when->second, *activates_at) << "generation " << generation << " " << at;
        if (Str(key, "state") == "current") current_kids.insert(kid);
        if (Str(key, "state") == "next") ++next;
      }
      EXPECT_LE(next, 1) << "two next keys " << at;
      ASSERT_FALSE(generations.empty()) << at;
      EXPECT_EQ(*generations.rbegin() - *generations.begin() + 1,
                static_cast<std::int64_t>(generations.size()))
          << "a generation is missing " << at;
      first_generation[node->port()] = *generations.begin();
    }
    EXPECT_EQ(first_generation[a_->port()], first_generation[b_->port()])
        << "the nodes' lists start at different generations";
    ++looks;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto it = activates_at_of_generation.begin();
       std::next(it) != activates_at_of_generation.end(); ++it) {
    EXPECT_GE(std::next(it)->second - it->second, kPrepublishSeconds)
        << "generations " << it->first << " and " << std::next(it)->first
        << " activate too close together";
  }
  std::printf("%d looks at both nodes; %zu generations, %zu keys were current\n", looks,
              kid_of_generation.size(), current_kids.size());
  EXPECT_GE(current_kids.size(), 2u) << "no rotation happened: the test would prove nothing";
  // Apart from a transition between the two reads, both nodes list the same keys.
  auto listing = [](const json::array& keys) {
    std::map<std::string, std::string> states;
    for (const json::value& key : keys) states[Str(key, "kid")] = Str(key, "state");
    return states;
  };
  EXPECT_TRUE(Eventually(
      [&] { return listing(SigningKeys(*a_, admin_a_)) == listing(SigningKeys(*b_, admin_b_)); },
      std::chrono::seconds(2)));
}

}  // namespace
}  // namespace keyward::testing
