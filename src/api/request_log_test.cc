#include "api/request_log.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace keyward {
namespace {

namespace bh = http::beast_http;

TEST(RequestIdTest, ValidIsOneTo128OfTheAllowedCharacters) {
  EXPECT_TRUE(RequestId::Valid("a"));
  EXPECT_TRUE(RequestId::Valid("4b4c2b8e-4d06-4d1f-a9c0-6f1b3a2e9d10"));
  EXPECT_TRUE(RequestId::Valid("Root-1-67891233-abcdef012345678912345678.span_1:x"));
  EXPECT_TRUE(RequestId::Valid(std::string(128, 'x')));
  EXPECT_FALSE(RequestId::Valid(""));
  EXPECT_FALSE(RequestId::Valid(std::string(129, 'x')));
  for (const char* bad : {"a b", "a\"b", "a\nb", "a/b", "a=b", "a;b", "a,b", "caf\xc3\xa9", "a\\b",
                          "<script>", "a\tb", "{x}"}) {
    EXPECT_FALSE(RequestId::Valid(bad)) << bad;
  }
}

http::Request WithId(const char* id) {
  http::Request request{bh::verb::get, "/healthz", 11};
  if (id != nullptr) request.set("X-Request-Id", id);
  return request;
}

TEST(RequestIdTest, TakesAValidHeaderElseMakesOne) {
  EXPECT_EQ(RequestId::Of(WithId("abc-123")).view(), "abc-123");
  const std::string long_id(128, 'z');
  EXPECT_EQ(RequestId::Of(WithId(long_id.c_str())).view(), long_id);
  for (const char* given : {static_cast<const char*>(nullptr), "", "not valid", "a\"b"}) {
    const RequestId made = RequestId::Of(WithId(given));
    EXPECT_TRUE(RequestId::Valid(made.view())) << made.view();
    if (given != nullptr) {
      EXPECT_NE(made.view(), given);
    }
  }
}

TEST(RequestIdTest, MadeIdsArePrefixDashCounterAndUnique) {
  std::set<std::string> seen;
  std::string prefix;
  for (int i = 0; i < 1000; ++i) {
    const RequestId id = RequestId::Make();
    const std::string text(id.view());
    ASSERT_TRUE(RequestId::Valid(text)) << text;
    ASSERT_EQ(text[12], '-') << text;
    if (prefix.empty()) prefix = text.substr(0, 12);
    EXPECT_EQ(text.substr(0, 12), prefix);  // one per process
    EXPECT_TRUE(seen.insert(text).second) << text;
  }
}

TEST(RequestIdTest, FinishResponseSetsTheHeader) {
  http::Request request = WithId("trace-7");
  const RequestTrace trace = RequestTrace::Of(request);
  http::Response response{bh::status::ok, 11};
  FinishResponse(response, trace, "/healthz");
  EXPECT_EQ(response["X-Request-Id"], "trace-7");
}

}  // namespace
}  // namespace keyward
