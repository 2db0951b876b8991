// What /auth requires of a key, and the shared check.
#include "api/requirements.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "api/admission.h"
#include "api/client_address.h"
#include "service/key_cache.h"

// Counts this thread's allocations while `g_counting` is set: /auth's cache-hit path promises
// none when nothing is required (api/forward_auth.h). ThreadSanitizer's runtime defines the
// allocation functions itself, so under it they are not replaced and the count is not taken (the
// ci and asan builds take it).
#if defined(__SANITIZE_THREAD__)
#define KW_COUNTS_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KW_COUNTS_ALLOCATIONS 0
#endif
#endif
#ifndef KW_COUNTS_ALLOCATIONS
#define KW_COUNTS_ALLOCATIONS 1
#endif

namespace {
thread_local bool g_counting = false;
thread_local int g_allocations = 0;
}  // namespace

// Not inlined: GCC at -O2 would see free() of what the (replaced) operator new returned and
// warn of a mismatch (-Wmismatched-new-delete), which is exactly what a replacement pair does.
#if KW_COUNTS_ALLOCATIONS
__attribute__((noinline)) void* operator new(std::size_t size) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace keyward {
namespace {

namespace bh = http::beast_http;
using ::testing::ElementsAre;

http::Request Req(const std::string& target,
                  const std::vector<std::pair<std::string, std::string>>& hs = {}) {
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
              const std::vector<std::string>& from = {}) {
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

TEST(RequirementsTest, AMisnamedRequirementIsNeverMet) {
  Principal full;
  full.grant = FullAccess();
  full.user.tags = {"t"};
  for (const char* target : {"/auth?scopes=a", "/auth?Scope=a", "/auth?tags=t", "/auth?TAG=t"}) {
    Requirements r = RequirementsOf(Req(target));
    EXPECT_FALSE(r.empty()) << target;
    auto denial = Check(full, "1.2.3.4", r);
    ASSERT_TRUE(denial.has_value()) << target;
    EXPECT_THAT(denial->message, ::testing::HasSubstr("is not one Keyward knows")) << target;
  }
  EXPECT_EQ(Check(full, "1.2.3.4", RequirementsOf(Req("/auth?tags=t")))->reason,
            DenialReason::kTag);
  Requirements header = RequirementsOf(Req("/auth", {{"X-Keyward-Require-Scopes", "a"}}));
  ASSERT_TRUE(Check(full, "1.2.3.4", header).has_value());
  EXPECT_EQ(Check(full, "1.2.3.4", header)->reason, DenialReason::kScope);
  // Other parameters and headers are not requirements.
  EXPECT_TRUE(
      RequirementsOf(Req("/auth?apikey=x&other=1&stage=2", {{"X-Keyward-Other", "a"}})).empty());
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
  p.grant = FullAccess();
  p.user.tags = {"roles:id:user"};
  EXPECT_FALSE(Check(p, "1.2.3.4", Need({"minerva:query", "keys:write"}, {"roles:id:user"})));
  EXPECT_EQ(Check(p, "1.2.3.4", Need({}, {"roles:id:operator"}))->reason, DenialReason::kTag);
}

TEST(RequirementsTest, ScopesHeader) {
  EXPECT_EQ(ScopesHeader(FullAccess()), "*");
  EXPECT_EQ(ScopesHeader(Grant{.full_access = false,
                               .scopes = {"a", "minerva:query"},
                               .tags = std::nullopt,
                               .allowed_addresses = {}}),
            "a,minerva:query");
  EXPECT_EQ(ScopesHeader(Grant{}), "");
}

// What /auth does on a cache hit, besides building the response: no allocation without
// requirements, and none for a short scope requirement or an address check either.
TEST(RequirementsTest, TheHotPathDoesNotAllocate) {
  if (!KW_COUNTS_ALLOCATIONS) GTEST_SKIP() << "ThreadSanitizer owns operator new";
  http::Request plain = Req("/auth", {{"Authorization", "Bearer kw_x"}, {"X-Forwarded-For", "x"}});
  http::Request scoped = Req("/auth?scope=minerva:query", {{"Authorization", "Bearer kw_x"}});
  http::Request proxied = Req("/auth", {{"X-Forwarded-For", "198.51.100.7"}});
  const Principal key = Key({"minerva:query"}, {"team:x"});
  const Principal limited = Key({}, {}, {"198.51.100.0/24"});
  const std::vector<Cidr> trusted = ParseNetworks({"127.0.0.2/32"}).value();
  g_allocations = 0;
  g_counting = true;
  const Requirements none = RequirementsOf(plain);
  const bool plain_ok = none.empty() && !Check(key, "127.0.0.1", none);
  const Requirements one = RequirementsOf(scoped);
  const bool scoped_ok = !Check(key, "127.0.0.1", one);
  const std::string_view client = ClientAddress(proxied, "127.0.0.2", trusted);
  const bool address_ok = !Check(limited, client, none);
  g_counting = false;
  EXPECT_TRUE(plain_ok);
  EXPECT_TRUE(scoped_ok);
  EXPECT_TRUE(address_ok);
  EXPECT_EQ(client, "198.51.100.7");
  EXPECT_EQ(g_allocations, 0);
}

// Issue 16: admission on the cache-hit path allocates nothing either when nothing is required,
// the key has no address limits and no rate limit, and counting is on (the client is copied at
// most once a second: the first call records it).
TEST(RequirementsTest, AdmissionOnTheHotPathDoesNotAllocate) {
  if (!KW_COUNTS_ALLOCATIONS) GTEST_SKIP() << "ThreadSanitizer owns operator new";
  UsageRecorder recorder;
  const KeyMeters counted{.usage = recorder.SlotFor(std::string(32, 'h')), .bucket = nullptr};
  const KeyMeters none;
  const Principal key = Key({"minerva:query"}, {"team:x"});
  const Requirements nothing;
  const UnixSeconds now = 1'800'000'000;
  (void)Admit(key, counted, "127.0.0.1", "curl/8.0", nothing, now);
  g_allocations = 0;
  g_counting = true;
  const bool counted_ok = Admit(key, counted, "127.0.0.1", "curl/8.0", nothing, now).admitted();
  const bool plain_ok = Admit(key, none, "127.0.0.1", "curl/8.0", nothing, now).admitted();
  g_counting = false;
  EXPECT_TRUE(counted_ok);
  EXPECT_TRUE(plain_ok);
  EXPECT_EQ(g_allocations, 0);
}

}  // namespace
}  // namespace keyward
