// Where webhooks may send: the address table and the URL rules (service/webhook_target.h).
#include "service/webhook_target.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "common/status_matchers.h"
#include "core/webhook.h"

namespace keyward {
namespace {

// IsForbiddenAddress of a textual IPv4 or IPv6 address.
bool Forbidden(const std::string& text) {
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return IsForbiddenAddress(reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    return IsForbiddenAddress(reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
  }
  ADD_FAILURE() << "not an address: " << text;
  return false;
}

TEST(WebhookTargetTest, ForbiddenAddresses) {
  for (const char* address :
       {"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254",
        "127.0.0.1", "127.255.0.9", "169.254.169.254", "169.254.0.1", "172.16.0.1",
        "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.1.1", "198.18.0.1",
        "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250",
        "240.0.0.1", "255.255.255.255",
        // IPv6, and IPv4 addresses in IPv6 clothing.
        "::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
        "::10.0.0.1", "::ffff:0:127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1",
        "64:ff9b::c0a8:101", "64:ff9b:1::8.8.8.8", "2002:7f00:1::1",
        "2002:a9fe:a9fe::", "fd00:ec2::254", "fc00::1", "fdff:ffff::1", "fe80::1", "febf::1",
        "fec0::1", "ff02::1", "ff0e::1", "2001:db8::1", "2001::1", "100::1", "::2:3:4"}) {
    EXPECT_TRUE(Forbidden(address)) << address;
  }
}

TEST(WebhookTargetTest, PublicAddresses) {
  for (const char* address :
       {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.15.255.255", "172.32.0.1", "100.63.255.255",
        "100.128.0.1", "169.253.255.255", "192.167.1.1", "198.20.0.1", "223.255.255.255",
        "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "::8.8.8.8",
        "64:ff9b::808:808", "2002:808:808::1"}) {
    EXPECT_FALSE(Forbidden(address)) << address;
  }
}

TEST(WebhookTargetTest, OtherFamiliesAndShortLengthsAreForbidden) {
  sockaddr_un unix_address{};
  unix_address.sun_family = AF_UNIX;
  EXPECT_TRUE(
      IsForbiddenAddress(reinterpret_cast<const sockaddr*>(&unix_address), sizeof unix_address));
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  ::inet_pton(AF_INET, "8.8.8.8", &v4.sin_addr);
  EXPECT_FALSE(IsForbiddenAddress(reinterpret_cast<const sockaddr*>(&v4), sizeof v4));
  EXPECT_TRUE(IsForbiddenAddress(reinterpret_cast<const sockaddr*>(&v4), 4));
  EXPECT_TRUE(IsForbiddenAddress(nullptr, 0));
}

TEST(WebhookTargetTest, UrlsToThisHostAndItsNetworksAreRefused) {
  const WebhookOptions strict;
  WebhookOptions lab;
  lab.allow_private = true;
  for (const char* url :
       {"http://127.0.0.1/hook", "http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook", "http://localhost/hook", "https://LOCALHOST:8443/x",
        "http://[::ffff:127.0.0.1]/", "http://[fd00:ec2::254]/", "http://0.0.0.0/"}) {
    EXPECT_THAT(CheckWebhookUrl(url, strict), StatusIs(StatusCode::kInvalidArgument)) << url;
    EXPECT_THAT(CheckWebhookUrl(url, lab), IsOk()) << url;
  }
  // Literal public addresses need no name service.
  EXPECT_THAT(CheckWebhookUrl("https://93.184.216.34/hooks/keyward?x=1", strict), IsOk());
  EXPECT_THAT(CheckWebhookUrl("http://[2606:4700:4700::1111]:8080/h", strict), IsOk());
}

TEST(WebhookTargetTest, RefusalsNameTheHostButNeverThePathOrQuery) {
  const WebhookOptions strict;
  auto refused = CheckWebhookUrl("http://localhost:9/secret-path?token=abc123", strict);
  ASSERT_THAT(refused, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(refused.message().find("localhost"), std::string::npos) << refused.message();
  EXPECT_EQ(refused.message().find("secret-path"), std::string::npos) << refused.message();
  EXPECT_EQ(refused.message().find("abc123"), std::string::npos) << refused.message();
  auto unresolved = CheckWebhookUrl("http://no-such-host.invalid/p?token=abc123", strict);
  ASSERT_THAT(unresolved, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(unresolved.message().find("abc123"), std::string::npos) << unresolved.message();
}

TEST(WebhookTargetTest, MalformedUrlsAreRefused) {
  WebhookOptions lab;
  lab.allow_private = true;
  for (const std::string& url : std::vector<std::string>{
           "", "example.com/hook", "/hook", "ftp://127.0.0.1/hook", "file:///etc/passwd",
           "gopher://127.0.0.1/", "http://user:pass@127.0.0.1/hook", "http://user@127.0.0.1/",
           "http://127.0.0.1/hook#frag", "http:///hook", "http://127.0.0.1:0/",
           "http://exa%6dple.com/", "http://[v1.fe]/", "http://127.0.0.1/a b",
           "http://127.0.0.1/" + std::string(kMaxWebhookUrlBytes, 'a')}) {
    EXPECT_THAT(CheckWebhookUrl(url, lab), StatusIs(StatusCode::kInvalidArgument)) << url;
  }
  EXPECT_THAT(CheckWebhookUrl("HTTP://127.0.0.1:8080/hook?a=b", lab), IsOk());
  std::string longest = "http://127.0.0.1/";
  longest += std::string(kMaxWebhookUrlBytes - longest.size(), 'a');
  EXPECT_THAT(CheckWebhookUrl(longest, lab), IsOk());
}

TEST(WebhookTargetTest, RequireHttpsRefusesHttp) {
  WebhookOptions https_only;
  https_only.allow_private = true;
  https_only.require_https = true;
  EXPECT_THAT(CheckWebhookUrl("http://127.0.0.1/hook", https_only),
              StatusIs(StatusCode::kInvalidArgument, "the webhook URL must start with https://"));
  EXPECT_THAT(CheckWebhookUrl("https://127.0.0.1/hook", https_only), IsOk());
}

}  // namespace
}  // namespace keyward
