// What /auth requires of a key, and the shared check.
#include "api/requirements.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace keyward {
namespace {

namespace bh = http::beast_http;
using ::testing::ElementsAre;

http::Request Req(std::string target, std::vector<std::pair<std::string, std::string>> hs = {}) {
  http::Request req{bh::verb::get, target, 11};
  for (auto& [k, v] : hs) req.insert(k, v);
  return req;
}

std::vector<std::string> V(const auto& list) { return {list.begin(), list.end()}; }

TEST(RequirementsTest, NoneIsEmpty) {
  EXPECT_TRUE(RequirementsOf(Req("/auth")).empty());
  EXPECT_TRUE(RequirementsOf(Req("/auth?apikey=x&other=1")).empty());
}

TEST(RequirementsTest, QueryRepeatableAndPercentDecoded) {
  Requirements r = RequirementsOf(Req("/auth?scope=minerva%3Aquery&tag=roles%3Aid%3Auser&scope=b"));
  EXPECT_THAT(V(r.scopes), ElementsAre("minerva:query", "b"));
  EXPECT_THAT(V(r.tags), ElementsAre("roles:id:user"));
}

TEST(RequirementsTest, HeadersSpaceOrCommaSeparated) {
  Requirements r = RequirementsOf(Req("/auth/x?scope=a", {{"X-Keyward-Require-Scope", "b c, d"},
                                                          {"x-keyward-require-tag", "t1,t2"}}));
  EXPECT_THAT(V(r.scopes), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(V(r.tags), ElementsAre("t1", "t2"));
}

TEST(RequirementsTest, PresentButEmptyIsARequirementNeverMet) {
  EXPECT_THAT(V(RequirementsOf(Req("/auth?scope=")).scopes), ElementsAre(""));
  EXPECT_THAT(V(RequirementsOf(Req("/auth?scope")).scopes), ElementsAre(""));
  EXPECT_THAT(V(RequirementsOf(Req("/auth", {{"X-Keyward-Require-Tag", " , "}})).tags),
              ElementsAre(""));
}

Principal Key(std::vector<std::string> scopes, std::vector<std::string> tags,
              std::vector<std::string> from = {}) {
  Principal p;
  p.grant = Grant{.full_access = false,
                  .scopes = std::move(scopes),
                  .tags = std::nullopt,
                  .allowed_addresses = from};
  p.networks = ParseNetworks(from).value();
  p.user.tags = std::move(tags);
  return p;
}

Requirements Need(std::vector<std::string> scopes, std::vector<std::string> tags = {}) {
  Requirements r;
  r.scopes.assign(scopes.begin(), scopes.end());
  r.tags.assign(tags.begin(), tags.end());
  return r;
}

TEST(RequirementsTest, CheckScopesThenTags) {
  Principal p = Key({"a", "minerva:query"}, {"team:x"});
  EXPECT_FALSE(Check(p, "1.2.3.4", Need({})));
  EXPECT_FALSE(Check(p, "1.2.3.4", Need({"minerva:query"}, {"team:x"})));
  auto d = Check(p, "1.2.3.4", Need({"pulsar:produce"}, {"team:y"}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, DenialReason::kScope);
  EXPECT_EQ(d->message, "the key lacks the scope pulsar:produce");
  d = Check(p, "1.2.3.4", Need({"a"}, {"team:y"}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, DenialReason::kTag);
  EXPECT_EQ(d->message, "the key lacks the tag team:y");
  EXPECT_EQ(Check(p, "1.2.3.4", Need({""}))->reason, DenialReason::kScope);
  EXPECT_EQ(Check(p, "1.2.3.4", Need({}, {""}))->reason, DenialReason::kTag);
  EXPECT_EQ(Check(p, "1.2.3.4", Need({"NOT VALID"}))->message,
            "the required scope is not a valid scope");
}

TEST(RequirementsTest, AddressFirst) {
  Principal p = Key({"a"}, {}, {"10.0.0.0/8", "2001:db8::/32"});
  EXPECT_FALSE(Check(p, "10.1.2.3", Need({"a"})));
  EXPECT_FALSE(Check(p, "2001:db8::5", Need({"a"})));
  auto d = Check(p, "2001:db9::5", Need({"missing"}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, DenialReason::kAddress);
  EXPECT_EQ(d->message, "the key may not be used from 2001:db9::5");
  EXPECT_EQ(Check(p, std::nullopt, Need({}))->reason, DenialReason::kAddress);
  EXPECT_EQ(Check(p, "unknown", Need({}))->reason, DenialReason::kAddress);
}

TEST(RequirementsTest, FullAccessMeetsEveryScopeButNotMissingTags) {
  Principal p;  // a session or a key made before scopes
  p.user.tags = {"roles:id:user"};
  EXPECT_FALSE(Check(p, "1.2.3.4", Need({"minerva:query", "keys:write"}, {"roles:id:user"})));
  EXPECT_EQ(Check(p, "1.2.3.4", Need({}, {"roles:id:operator"}))->reason, DenialReason::kTag);
}

}  // namespace
}  // namespace keyward
