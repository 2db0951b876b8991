// Pure parts of the API layer: the Status → HTTP table, the key carriers, the router, JSON.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "api/credentials.h"
#include "api/http_status.h"
#include "api/json_io.h"
#include "api/router.h"
#include "common/status_matchers.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
using ::testing::HasSubstr;

TEST(HttpStatusTest, OneRowPerCode) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInsufficientStorage), 507);
}

http::Request WithHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  http::Request req{bh::verb::get, "/", 11};
  for (auto& [k, v] : headers) req.insert(k, v);
  return req;
}

// The credential FindCredential picks, as a string ("<none>" when there is none).
std::string Carried(const std::vector<std::pair<std::string, std::string>>& headers,
                    bool allow_query = false, const std::string& target = "/") {
  http::Request req = WithHeaders(headers);
  req.target(target);
  std::string scratch;
  auto found = FindCredential(req, allow_query, scratch);
  return found ? std::string(*found) : "<none>";
}

TEST(CredentialsTest, EveryCarrier) {
  EXPECT_EQ(Carried({}), "<none>");
  EXPECT_EQ(Carried({{"Authorization", "Bearer kw_abc"}}), "kw_abc");
  EXPECT_EQ(Carried({{"Authorization", "bearer   kw_abc "}}), "kw_abc");
  EXPECT_EQ(Carried({{"Authorization", "kw_abc"}}), "kw_abc");
  // base64("presto:kw_abc")
  EXPECT_EQ(Carried({{"Authorization", "Basic cHJlc3RvOmt3X2FiYw=="}}), "kw_abc");
  EXPECT_EQ(Carried({{"Authorization", "Basic !!!"}}), "");
  EXPECT_EQ(Carried({{"Authorization", "Basic bm9jb2xvbg=="}}), "");  // "nocolon"
  EXPECT_EQ(Carried({{"apikey", "kw_abc"}}), "kw_abc");
  EXPECT_EQ(Carried({}, false, "/auth?apikey=kw_q"), "<none>");
  EXPECT_EQ(Carried({}, true, "/auth?x=1&apikey=kw_q"), "kw_q");
  EXPECT_EQ(Carried({}, true, "/auth?x=1"), "<none>");
}

TEST(CredentialsTest, PrecedenceFirstCarrierDecides) {
  EXPECT_EQ(Carried({{"Authorization", "Bearer kw_one"}, {"apikey", "kw_two"}}), "kw_one");
  EXPECT_EQ(Carried({{"apikey", "kw_two"}}, true, "/auth?apikey=kw_q"), "kw_two");
  // Another scheme is a credential we do not accept, and no later carrier rescues it.
  EXPECT_EQ(Carried({{"Authorization", "Digest x"}, {"apikey", "kw_two"}}), "");
}

TEST(RouterTest, MatchesDecodedSegmentsAndReportsMethods) {
  Router router;
  int hit = 0;
  router.Add(bh::verb::get, "/api/v1/users/{id}/apikeys/{name}", Access::kSignedIn,
             [&](ApiCall&) -> Result<Reply> {
               ++hit;
               return Reply{};
             });
  router.Add(bh::verb::delete_, "/api/v1/users/{id}/apikeys/{name}", Access::kSignedIn,
             [&](ApiCall&) -> Result<Reply> { return Reply{}; });
  auto m = router.Find(bh::verb::get, {"api", "v1", "users", "me", "apikeys", "a b/c"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params, (std::vector<std::string>{"me", "a b/c"}));
  auto wrong = router.Find(bh::verb::post, {"api", "v1", "users", "me", "apikeys", "x"});
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_TRUE(wrong.path_known);
  EXPECT_EQ(wrong.allow, "GET, HEAD, DELETE");
  auto head = router.Find(bh::verb::head, {"api", "v1", "users", "me", "apikeys", "x"});
  ASSERT_NE(head.route, nullptr);
  EXPECT_EQ(head.route->method, bh::verb::get);
  auto none = router.Find(bh::verb::get, {"api", "v1", "users", "me", "apikeys", ""});
  EXPECT_EQ(none.route, nullptr);
  EXPECT_FALSE(none.path_known);
}

TEST(JsonIoTest, ParsesObjectsOnly) {
  constexpr StatusCode kInvalid = StatusCode::kInvalidArgument;
  EXPECT_THAT(ParseObject("application/json", R"({"a":"b"})"), IsOk());
  EXPECT_THAT(ParseObject("application/json; charset=utf-8", R"({})"), IsOk());
  EXPECT_THAT(ParseObject("", ""), IsOk());
  EXPECT_THAT(ParseObject("text/plain", R"({})"), StatusIs(kInvalid, HasSubstr("Content-Type")));
  EXPECT_THAT(ParseObject("application/json", "[]"), StatusIs(kInvalid, HasSubstr("object")));
  EXPECT_THAT(ParseObject("application/json", R"({"a":1,"a":2})"),
              StatusIs(kInvalid, HasSubstr("duplicate")));
  EXPECT_THAT(ParseObject("application/json", R"({"a":{"b":1,"b":2}})"),
              StatusIs(kInvalid, HasSubstr("duplicate")));
  EXPECT_THAT(ParseObject("application/json", "{\"a\":\"\xff\"}"),
              StatusIs(kInvalid, HasSubstr("not valid JSON")));
}

// A valid JSON object nested `depth` levels deep: {"a":[[...]]}.
std::string NestedObject(int depth) {
  return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
}

// Valid JSON, so that only the depth limit (32 levels, json_io.h) can refuse it.
TEST(JsonIoTest, NestingLimitIs32Levels) {
  ASSERT_EQ(NestedObject(3), R"({"a":[[]]})");
  EXPECT_THAT(ParseObject("application/json", NestedObject(32)), IsOk());
  EXPECT_THAT(ParseObject("application/json", NestedObject(33)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not valid JSON")));
  EXPECT_THAT(ParseObject("application/json", NestedObject(100'000)),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(JsonIoTest, StringMembers) {
  auto obj = ParseObject("application/json", R"({"s":"x","n":1,"z":null})").value();
  EXPECT_EQ(OptionalString(obj, "s").value(), "x");
  EXPECT_EQ(OptionalString(obj, "z").value(), std::nullopt);
  EXPECT_EQ(OptionalString(obj, "missing").value(), std::nullopt);
  EXPECT_THAT(OptionalString(obj, "n"),
              StatusIs(StatusCode::kInvalidArgument, "\"n\" must be a string"));
  EXPECT_THAT(RequiredString(obj, "missing"),
              StatusIs(StatusCode::kInvalidArgument, "\"missing\" is required"));
}

TEST(JsonIoTest, StringArrayMembers) {
  auto obj =
      ParseObject("application/json",
                  R"({"a":["x","y"],"e":[],"z":null,"s":"x","n":[1],"o":[{"x":1}],"big":[1,2,3]})")
          .value();
  EXPECT_EQ(OptionalStringArray(obj, "a", 64).value(), std::vector<std::string>({"x", "y"}));
  EXPECT_EQ(OptionalStringArray(obj, "e", 64).value(), std::vector<std::string>());
  EXPECT_EQ(OptionalStringArray(obj, "z", 64).value(), std::nullopt);
  EXPECT_EQ(OptionalStringArray(obj, "missing", 64).value(), std::nullopt);
  for (const char* bad : {"s", "n", "o"}) {
    EXPECT_THAT(OptionalStringArray(obj, bad, 64),
                StatusIs(StatusCode::kInvalidArgument,
                         fmt::format("\"{}\" must be an array of strings", bad)));
  }
  EXPECT_THAT(OptionalStringArray(obj, "big", 2),
              StatusIs(StatusCode::kInvalidArgument, "\"big\" may hold at most 2 entries"));
}

TEST(JsonIoTest, KeyJsonCarriesTheGrant) {
  KeyView key;
  key.name = "ci";
  key.grant = Grant{.full_access = false,
                    .scopes = {"keys:read"},
                    .tags = std::nullopt,
                    .allowed_addresses = {"10.0.0.0/8"}};
  boost::json::object out = KeyJson(key);
  EXPECT_EQ(out.at("scopes"), boost::json::array({"keys:read"}));
  EXPECT_TRUE(out.at("tags").is_null());
  EXPECT_EQ(out.at("allowed_addresses"), boost::json::array({"10.0.0.0/8"}));
  EXPECT_EQ(out.at("full_access"), false);
  key.grant.tags = std::vector<std::string>{"team:x"};
  EXPECT_EQ(KeyJson(key).at("tags"), boost::json::array({"team:x"}));
  key.grant = FullAccess();
  EXPECT_EQ(KeyJson(key).at("full_access"), true);
}

// Issue 17: every key object says whether it is a canary.
TEST(JsonIoTest, KeyJsonSaysWhetherItIsACanary) {
  KeyView key;
  key.name = "bait";
  EXPECT_EQ(KeyJson(key).at("canary"), false);
  key.canary = true;
  EXPECT_EQ(KeyJson(key).at("canary"), true);
}

}  // namespace
}  // namespace keyward

namespace keyward {
namespace {

http::Request Browser(http::beast_http::verb method,
                      const std::vector<std::pair<std::string, std::string>>& headers) {
  http::Request req = WithHeaders(headers);
  req.method(method);
  req.set(http::beast_http::field::host, "127.0.0.1:8080");
  return req;
}

TEST(BrowserSessionTest, CookieIsFoundAmongOthers) {
  EXPECT_EQ(FindSessionCookie(WithHeaders({{"Cookie", "a=1; keyward_session=kw_x; b=2"}})), "kw_x");
  EXPECT_EQ(FindSessionCookie(WithHeaders({{"Cookie", "a=1"}})), std::nullopt);
  EXPECT_EQ(FindSessionCookie(WithHeaders({})), std::nullopt);
}

TEST(BrowserSessionTest, CsrfNeedsTheHeaderAndOurOrigin) {
  using bh::verb;
  EXPECT_TRUE(PassesCsrfCheck(Browser(verb::get, {})));
  EXPECT_FALSE(PassesCsrfCheck(Browser(verb::post, {})));
  EXPECT_TRUE(PassesCsrfCheck(Browser(verb::post, {{"X-Keyward-CSRF", "1"}})));
  EXPECT_TRUE(PassesCsrfCheck(
      Browser(verb::delete_, {{"X-Keyward-CSRF", "1"}, {"Origin", "http://127.0.0.1:8080"}})));
  EXPECT_FALSE(PassesCsrfCheck(
      Browser(verb::post, {{"X-Keyward-CSRF", "1"}, {"Origin", "http://127.0.0.1:9999"}})));
  EXPECT_FALSE(PassesCsrfCheck(
      Browser(verb::post, {{"X-Keyward-CSRF", "1"}, {"Origin", "http://evil.example"}})));
  EXPECT_FALSE(IsSameOriginOrUnknown(Browser(verb::post, {{"Origin", "null"}})));
}

}  // namespace
}  // namespace keyward
