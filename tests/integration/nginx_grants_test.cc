// Address limits behind Debian's real nginx (the configurations of docs/gateways.md, see
// nginx_gateway.h) with Keyward started with `--trusted-proxies 127.0.0.1/32`: nginx connects to
// Keyward from 127.0.0.1 and forwards the client's address in X-Forwarded-For. Clients play
// different addresses by binding their sockets to other addresses of 127.0.0.0/8 (Linux routes
// all of it to lo) and to ::1.
#include <gtest/gtest.h>

#include "harness.h"
#include "nginx_gateway.h"

namespace keyward::testing {
namespace {

class NginxGrantsTest : public NginxGateway {
 protected:
  void SetUp() override { StartGateway({"--trusted-proxies", "127.0.0.1/32"}, /*ipv6=*/true); }

  static Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

  // /auth asked directly, as a client at `source`, with `headers` besides the key.
  HttpResult AuthFrom(const std::string& source, const std::string& key, Headers headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + key);
    return CallFrom(source, keyward_->port(), "GET", "/auth?scope=minerva:query", "", headers);
  }
};

TEST_F(NginxGrantsTest, AddressLimitsSeeTheClientBehindNginx) {
  const std::string key = CreateGrantedKey("from-seven", {"minerva:query"}, {"127.0.0.7/32"});
  ASSERT_FALSE(key.empty());
  const std::string echo = Echo("admin", "roles:id:operator", "from-seven", "minerva:query");
  HttpResult r = GetScoped(Bearer(key), "127.0.0.7");
  EXPECT_EQ(r.status, 200) << r.body << nginx_->Logs();
  EXPECT_EQ(r.body, echo);
  r = Get(Bearer(key), 0, "127.0.0.7");
  EXPECT_EQ(r.body, echo);
  EXPECT_EQ(UpstreamHits(), 2);

  ExpectForbidden(GetScoped(Bearer(key), "127.0.0.8"), "address", "from 127.0.0.8");
  // The plain gateway passes no reason on, but refuses all the same.
  ExpectForbidden(Get(Bearer(key), 0, "127.0.0.8"), "", "from 127.0.0.8, plain gateway");
  // nginx appends the address it sees to what the client claims; Keyward takes that one.
  Headers claims = Bearer(key);
  claims.emplace_back("X-Forwarded-For", "127.0.0.7");
  ExpectForbidden(GetScoped(claims, "127.0.0.8"), "address", "127.0.0.8 claiming 127.0.0.7");
  claims.back() = {"X-Real-IP", "127.0.0.7"};
  ExpectForbidden(GetScoped(claims, "127.0.0.8"), "address", "127.0.0.8, X-Real-IP 127.0.0.7");
  EXPECT_EQ(UpstreamHits(), 2);

  // The address is checked before the scope: a key without it, from elsewhere, is an address
  // refusal; from its address, a scope refusal.
  const std::string unscoped = CreateGrantedKey("seven-unscoped", {}, {"127.0.0.7/32"});
  ExpectForbidden(GetScoped(Bearer(unscoped), "127.0.0.8"), "address", "unscoped, elsewhere");
  ExpectForbidden(GetScoped(Bearer(unscoped), "127.0.0.7"), "scope", "unscoped, its address");
}

TEST_F(NginxGrantsTest, ForgedForwardedForFromAnUntrustedPeerIsIgnored) {
  const std::string key = CreateGrantedKey("from-seven", {"minerva:query"}, {"127.0.0.7/32"});
  ASSERT_FALSE(key.empty());
  for (const char* header : {"X-Forwarded-For", "X-Real-IP"}) {
    HttpResult r = AuthFrom("127.0.0.9", key, {{header, "127.0.0.7"}});
    EXPECT_EQ(r.status, 403) << header << " from an untrusted peer: " << r.body;
    EXPECT_EQ(r.Header("x-keyward-reason"), "address") << header;
    // The same header from the trusted proxy is believed: the refusal above was the peer's.
    r = AuthFrom("127.0.0.1", key, {{header, "127.0.0.7"}});
    EXPECT_EQ(r.status, 200) << header << " from the trusted proxy: " << r.body;
    EXPECT_EQ(r.Header("x-keyward-key-name"), "from-seven") << header;
  }
  // The client itself, straight to Keyward, needs no header.
  EXPECT_EQ(AuthFrom("127.0.0.7", key).status, 200);
  EXPECT_EQ(AuthFrom("127.0.0.9", key).Header("x-keyward-reason"), "address");
}

TEST_F(NginxGrantsTest, Ipv6RangesAndAnIpv6Client) {
  const std::string db8 = CreateGrantedKey("db8", {"minerva:query"}, {"2001:db8::/32"});
  const std::string db9 = CreateGrantedKey("db9", {"minerva:query"}, {"2001:db9::/32"});
  const std::string lo6 = CreateGrantedKey("lo6", {"minerva:query"}, {"::1/128"});
  ASSERT_FALSE(db8.empty() || db9.empty() || lo6.empty());
  // 2001:db8::5 as forwarded by a proxy at 127.0.0.1 in front of nginx (both trusted): nginx
  // sends "2001:db8::5, 127.0.0.1" and Keyward skips the trusted entry.
  auto forwarded = [](const std::string& key) {
    return Headers{{"Authorization", "Bearer " + key}, {"X-Forwarded-For", "2001:db8::5"}};
  };
  HttpResult r = GetScoped(forwarded(db8), "127.0.0.1");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, Echo("admin", "roles:id:operator", "db8", "minerva:query"));
  ExpectForbidden(GetScoped(forwarded(db9), "127.0.0.1"), "address", "2001:db8::5, db9 key");
  // The same, straight from the trusted proxy to Keyward.
  EXPECT_EQ(AuthFrom("127.0.0.1", db8, {{"X-Forwarded-For", "2001:db8::5"}}).status, 200);
  EXPECT_EQ(
      AuthFrom("127.0.0.1", db9, {{"X-Forwarded-For", "2001:db8::5"}}).Header("x-keyward-reason"),
      "address");
  // From an untrusted peer the forwarded IPv6 address is ignored.
  EXPECT_EQ(
      AuthFrom("127.0.0.9", db8, {{"X-Forwarded-For", "2001:db8::5"}}).Header("x-keyward-reason"),
      "address");

  // A real IPv6 client: a socket from ::1 to nginx's [::1] listener.
  r = GetScoped(Bearer(lo6), "::1");
  EXPECT_EQ(r.status, 200) << r.body << nginx_->Logs();
  EXPECT_EQ(r.body, Echo("admin", "roles:id:operator", "lo6", "minerva:query"));
  ExpectForbidden(GetScoped(Bearer(db8), "::1"), "address", "::1 with the db8 key");
  ExpectForbidden(GetScoped(Bearer(lo6), "127.0.0.1"), "address", "127.0.0.1 with the ::1 key");
  EXPECT_EQ(UpstreamHits(), 2);
}

}  // namespace
}  // namespace keyward::testing
