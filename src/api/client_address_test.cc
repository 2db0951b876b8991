// The client address: the peer unless a trusted proxy names the client.
#include "api/client_address.h"

#include <gtest/gtest.h>

#include "common/status_matchers.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;

std::vector<Cidr> Trusted(std::string_view text) { return ParseTrustedProxies(text).value(); }

std::string Resolve(std::string_view peer, std::string_view trusted,
                    std::vector<std::string_view> xff, std::string_view real_ip = "") {
  const std::vector<Cidr> nets = Trusted(trusted);
  return std::string(ResolveClientAddress(peer, nets, xff, real_ip));
}

TEST(ClientAddressTest, NoTrustedProxiesMeansThePeerAlways) {
  EXPECT_EQ(Resolve("192.0.2.1", "", {"203.0.113.7"}, "198.51.100.1"), "192.0.2.1");
}

TEST(ClientAddressTest, AnUntrustedPeersForwardingHeadersAreIgnored) {
  EXPECT_EQ(Resolve("192.0.2.1", "10.0.0.0/8", {"203.0.113.7"}, "198.51.100.1"), "192.0.2.1");
}

TEST(ClientAddressTest, TrustedPeerWalksXffRightToLeftSkippingTrustedHops) {
  // The client forged the first entry; the outer proxy appended the real one; an inner trusted
  // proxy appended its own.
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {"1.1.1.1, 203.0.113.7, 10.0.0.9"}), "203.0.113.7");
  // Several fields count as one list, in order.
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {"1.1.1.1", "203.0.113.7,10.0.0.9"}), "203.0.113.7");
}

TEST(ClientAddressTest, IPv4MappedForwardedAddressesAreAddresses) {
  // What a dual-stack proxy forwards: an address, placed by IPv4 ranges.
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {"::ffff:203.0.113.7"}), "::ffff:203.0.113.7");
  EXPECT_TRUE(Cidr::Parse("203.0.113.0/24").value().Contains("::ffff:203.0.113.7"));
}

TEST(ClientAddressTest, MoreForwardedForLinesThanKeptIsUnknown) {
  http::Request req{bh::verb::get, "/auth", 11};
  // Lines a client wrote first, then the trusted proxy's own, last.
  for (int i = 0; i < 8; ++i) req.insert("X-Forwarded-For", "10.9.9.9");
  req.insert("X-Forwarded-For", "203.0.113.7");
  EXPECT_EQ(ClientAddress(req, "10.0.0.2", Trusted("10.0.0.0/8")), kUnknownAddress);
}

TEST(ClientAddressTest, AllTrustedGivesTheLeftmost) {
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {"10.1.1.1, 10.0.0.9"}), "10.1.1.1");
}

TEST(ClientAddressTest, RealIpWhenNoXff) {
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {}, "203.0.113.8"), "203.0.113.8");
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {" , "}, "203.0.113.8"), "203.0.113.8");
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {}, ""), "10.0.0.2");
}

TEST(ClientAddressTest, PortsAndBracketsAreStripped) {
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {"203.0.113.7:4711"}), "203.0.113.7");
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {"[2001:db8::5]:443"}), "2001:db8::5");
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {"2001:db8::5"}), "2001:db8::5");
}

TEST(ClientAddressTest, IPv6ProxiesAndMappedPeers) {
  EXPECT_EQ(Resolve("2001:db8:1::1", "2001:db8:1::/48", {"2001:db8::5"}), "2001:db8::5");
  EXPECT_EQ(Resolve("::ffff:127.0.0.2", "127.0.0.2/32", {"2001:db8::5"}), "2001:db8::5");
}

TEST(ClientAddressTest, GarbageIsUnknownNeverEchoed) {
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {"<script>"}), "unknown");
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {"10.0.0.0/8"}), "unknown");
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {}, "not-an-ip"), "unknown");
  // What a garbage entry hides is never reached: the walk stops there.
  EXPECT_EQ(Resolve("10.0.0.2", "10.0.0.0/8", {"203.0.113.7, junk, 10.0.0.3"}), "unknown");
}

TEST(ClientAddressTest, ReadsTheRequestsHeaders) {
  http::Request req{bh::verb::get, "/auth", 11};
  req.insert("X-Forwarded-For", "198.51.100.4");
  req.insert("X-Forwarded-For", "203.0.113.7");
  req.insert("X-Real-IP", "198.51.100.9");
  const std::vector<Cidr> nets = Trusted("127.0.0.2/32");
  EXPECT_EQ(ClientAddress(req, "127.0.0.2", nets), "203.0.113.7");
  EXPECT_EQ(ClientAddress(req, "127.0.0.3", nets), "127.0.0.3");
  EXPECT_EQ(ClientAddress(req, "127.0.0.2", {}), "127.0.0.2");
}

TEST(ClientAddressTest, ParseTrustedProxies) {
  auto nets = ParseTrustedProxies("10.0.0.0/8, 2001:db8::/32,,127.0.0.1");
  ASSERT_THAT(nets, IsOk());
  ASSERT_EQ(nets->size(), 3u);
  EXPECT_EQ((*nets)[2].ToString(), "127.0.0.1/32");
  EXPECT_THAT(ParseTrustedProxies(""), IsOk());
  EXPECT_THAT(ParseTrustedProxies("10.0.0.0/33"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTrustedProxies("10.0.0.0/8,nope"), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace keyward
