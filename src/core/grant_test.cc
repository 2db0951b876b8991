#include "core/grant.h"

#include <gtest/gtest.h>

#include "common/status_matchers.h"

namespace keyward {
namespace {

Grant Scoped(std::vector<std::string> scopes) {
  Grant g;
  g.scopes = std::move(scopes);
  return g;
}

TEST(ScopeTest, KeywardAndServiceScopes) {
  for (auto s : kKeywardScopes) EXPECT_THAT(ValidateScope(s), IsOk()) << s;
  EXPECT_THAT(ValidateScope("minerva:query"), IsOk());
  EXPECT_THAT(ValidateScope("pulsar:produce"), IsOk());
  EXPECT_THAT(ValidateScope(std::string(64, 'a')), IsOk());
  EXPECT_THAT(ValidateScope(std::string(65, 'a')), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateScope(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateScope("Keys:Read"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateScope("a b"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateScope("keys:reed"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateScope("users:admin"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(NeedsOperator("users:write"));
  EXPECT_FALSE(NeedsOperator("keys:write"));
}

TEST(GrantTest, NormalizeSortsDeduplicatesAndCanonicalizes) {
  Grant in;
  in.scopes = {"keys:read", "minerva:query", "keys:read"};
  in.tags = std::vector<std::string>{"team:y", "team:x", "team:y"};
  in.allowed_addresses = {"10.1.2.3", "2001:DB8::/32", "10.0.0.0/8"};
  auto out = NormalizeGrant(in);
  ASSERT_THAT(out.status(), IsOk());
  EXPECT_EQ(out->scopes, (std::vector<std::string>{"keys:read", "minerva:query"}));
  EXPECT_EQ(*out->tags, (std::vector<std::string>{"team:x", "team:y"}));
  EXPECT_EQ(out->allowed_addresses,
            (std::vector<std::string>{"10.0.0.0/8", "10.1.2.3/32", "2001:db8::/32"}));
}

TEST(GrantTest, NormalizeRefusesBadEntries) {
  for (const char* bad : {"10.0.0.0/33", "::/129", "1.2.3", "10.0.0.1/8", "1.2.3.4/", "1.2.3.4/x",
                          "", "localhost", "fe80::1%1/128", "1.2.3.4/-1", "::ffff:1.2.3.4.5"}) {
    Grant g;
    g.allowed_addresses = {bad};
    EXPECT_THAT(NormalizeGrant(g).status(), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
  Grant many;
  for (int i = 0; i < 10000; ++i) many.scopes.push_back("s" + std::to_string(i));
  EXPECT_THAT(NormalizeGrant(many).status(), StatusIs(StatusCode::kInvalidArgument));
  Grant bad_tag;
  bad_tag.tags = std::vector<std::string>{"no spaces"};
  EXPECT_THAT(NormalizeGrant(bad_tag).status(), StatusIs(StatusCode::kInvalidArgument));
}

TEST(GrantTest, HostBitsMessageSuggestsTheNetwork) {
  auto cidr = Cidr::Parse("10.0.0.1/8");
  ASSERT_FALSE(cidr.ok());
  EXPECT_NE(cidr.status().message().find("10.0.0.0/8"), std::string::npos);
}

TEST(CidrTest, ContainsAndCovers) {
  auto v4 = Cidr::Parse("10.0.0.0/8").value();
  EXPECT_TRUE(v4.Contains("10.200.3.4"));
  EXPECT_TRUE(v4.Contains("::ffff:10.1.1.1"));
  EXPECT_FALSE(v4.Contains("11.0.0.1"));
  EXPECT_FALSE(v4.Contains("garbage"));
  auto v6 = Cidr::Parse("2001:db8::/32").value();
  EXPECT_TRUE(v6.Contains("2001:db8:1::5"));
  EXPECT_FALSE(v6.Contains("2001:db9::5"));
  EXPECT_FALSE(v6.Contains("10.0.0.1"));
  EXPECT_TRUE(v4.Covers(Cidr::Parse("10.1.0.0/16").value()));
  EXPECT_FALSE(Cidr::Parse("10.1.0.0/16").value().Covers(v4));
  EXPECT_FALSE(v4.Covers(v6));
  auto any = Cidr::Parse("0.0.0.0/0").value();
  EXPECT_TRUE(any.Contains("203.0.113.9"));
  EXPECT_TRUE(AddressAllowed({}, "1.2.3.4"));
  EXPECT_FALSE(AddressAllowed({v4, v6}, "192.168.0.1"));
  EXPECT_TRUE(AddressAllowed({v4, v6}, "2001:db8::1"));
  EXPECT_EQ(Cidr::Parse("2001:0db8:0000::/48").value().ToString(), "2001:db8::/48");
  EXPECT_TRUE(IsIpAddress("10.1.2.3"));
  EXPECT_TRUE(IsIpAddress("::ffff:10.1.2.3"));
  EXPECT_TRUE(IsIpAddress("2001:db8::5"));
  for (const char* bad : {"1.2.3", "10.0.0.0/8", "fe80::1%1", "", "unknown", "1.2.3.4:80"}) {
    EXPECT_FALSE(IsIpAddress(bad)) << bad;
  }
}

TEST(GrantTest, EffectiveTagsAreLiveOrASubset) {
  const std::vector<std::string> owner = {"roles:id:operator", "team:x"};
  Grant all;
  EXPECT_EQ(EffectiveTags(all, owner), owner);
  Grant some;
  some.tags = std::vector<std::string>{"team:gone", "team:x"};
  EXPECT_EQ(EffectiveTags(some, owner), (std::vector<std::string>{"team:x"}));
  EXPECT_EQ(EffectiveTags(FullAccess(), owner), owner);
}

TEST(GrantTest, CheckWithin) {
  Grant parent = Scoped({"keys:write", "minerva:query"});
  EXPECT_THAT(CheckWithin(Scoped({"minerva:query"}), parent, "the creating key"), IsOk());
  auto wider = CheckWithin(Scoped({"users:write"}), parent, "the creating key");
  EXPECT_THAT(wider, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_NE(wider.message().find("users:write"), std::string::npos);
  EXPECT_THAT(CheckWithin(FullAccess(), parent, "k"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckWithin(FullAccess(), FullAccess(), "k"), IsOk());

  parent.tags = std::vector<std::string>{"team:x"};
  Grant child;
  EXPECT_THAT(CheckWithin(child, parent, "k"), StatusIs(StatusCode::kPermissionDenied));
  child.tags = std::vector<std::string>{"team:x"};
  EXPECT_THAT(CheckWithin(child, parent, "k"), IsOk());
  child.tags = std::vector<std::string>{"team:y"};
  EXPECT_THAT(CheckWithin(child, parent, "k"), StatusIs(StatusCode::kPermissionDenied));

  child.tags = parent.tags;
  parent.allowed_addresses = {"10.0.0.0/8"};
  EXPECT_THAT(CheckWithin(child, parent, "k"), StatusIs(StatusCode::kPermissionDenied));
  child.allowed_addresses = {"10.1.0.0/16"};
  EXPECT_THAT(CheckWithin(child, parent, "k"), IsOk());
  child.allowed_addresses = {"10.1.0.0/16", "192.168.0.0/16"};
  EXPECT_THAT(CheckWithin(child, parent, "k"), StatusIs(StatusCode::kPermissionDenied));
}

TEST(GrantTest, Describe) {
  Grant g;
  g.scopes = {"keys:read", "minerva:query"};
  EXPECT_EQ(DescribeGrant(g), "scopes=keys:read,minerva:query tags=*");
  g.tags = std::vector<std::string>{"team:x"};
  g.allowed_addresses = {"10.0.0.0/8"};
  EXPECT_EQ(DescribeGrant(g), "scopes=keys:read,minerva:query tags=team:x from=10.0.0.0/8");
  EXPECT_EQ(DescribeGrant(FullAccess()), "full-access");
}

}  // namespace
}  // namespace keyward
