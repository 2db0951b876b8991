// The admission decision of /auth, /api/v1/authorize and the token endpoint (api/admission.h):
// requirements first, then the bucket, each outcome counted once on the key's usage counters.
#include "api/admission.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/client_address.h"
#include "core/grant.h"

namespace keyward {
namespace {

constexpr UnixSeconds kNow = 1'800'000'000;

Principal LimitedKey(std::vector<std::string> scopes, const std::vector<std::string>& from = {}) {
  Principal p;
  p.grant = Grant{.full_access = false,
                  .scopes = std::move(scopes),
                  .tags = std::nullopt,
                  .allowed_addresses = from};
  p.networks = ParseNetworks(from).value();
  p.user.tags = {"team:x"};
  return p;
}

Requirements Required(std::vector<std::string> scopes, std::vector<std::string> tags = {}) {
  Requirements r;
  r.scopes.assign(scopes.begin(), scopes.end());
  r.tags.assign(tags.begin(), tags.end());
  return r;
}

// What the recorder counted, summed over its deltas (one slot here).
UsageCounts Counted(UsageRecorder& recorder) {
  UsageCounts sum{};
  for (const UsageDelta& d : recorder.Take()) {
    for (std::size_t o = 0; o < kUsageOutcomes; ++o) sum[o] += d.counts[o];
  }
  return sum;
}

std::int64_t At(const UsageCounts& c, UsageOutcome o) { return c[static_cast<std::size_t>(o)]; }

class AdmissionTest : public ::testing::Test {
 protected:
  UsageRecorder recorder_;
  KeyMeters meters_{
      .usage = recorder_.SlotFor(std::string(32, 'k')),
      .bucket = std::make_shared<TokenBucket>(RateLimit{.requests = 2, .per = 60}, 1)};
};

TEST_F(AdmissionTest, RequirementsFirstThenTheBucketEachOutcomeCountedOnce) {
  ASSERT_NE(meters_.usage, nullptr);
  const Principal key = LimitedKey({"minerva:query"}, {"10.0.0.0/8"});
  // Refused by a requirement: no token taken from the bucket (2 per minute).
  auto address = Admit(key, meters_, "192.0.2.1", "curl/8", {}, kNow);
  ASSERT_FALSE(address.admitted());
  EXPECT_EQ(address.denial->reason, DenialReason::kAddress);
  EXPECT_EQ(address.rate.limit, 0);  // the bucket was not asked
  auto unknown = Admit(key, meters_, std::nullopt, "curl/8", {}, kNow);
  EXPECT_EQ(unknown.denial->reason, DenialReason::kAddress);
  auto scope = Admit(key, meters_, "10.1.2.3", "curl/8", Required({"trino:admin"}), kNow);
  EXPECT_EQ(scope.denial->reason, DenialReason::kScope);
  auto tag = Admit(key, meters_, "10.1.2.3", "curl/8", Required({}, {"team:y"}), kNow);
  EXPECT_EQ(tag.denial->reason, DenialReason::kTag);
  // The two tokens are still there.
  for (int i = 0; i < 2; ++i) {
    auto ok = Admit(key, meters_, "10.1.2.3", "curl/8", Required({"minerva:query"}), kNow);
    EXPECT_TRUE(ok.admitted()) << i;
    EXPECT_TRUE(ok.rate.allowed);
    EXPECT_EQ(ok.rate.limit, 2);
    EXPECT_EQ(ok.rate.remaining, 1 - i);
  }
  auto limited = Admit(key, meters_, "10.1.2.3", "curl/8", Required({"minerva:query"}), kNow);
  ASSERT_TRUE(limited.rate_limited());
  EXPECT_FALSE(limited.rate.allowed);
  EXPECT_GE(limited.rate.retry_after, 1);
  EXPECT_LE(limited.rate.retry_after, 30);  // one token per 30 s
  EXPECT_THAT(limited.denial->message,
              ::testing::StartsWith("the key's rate limit (2 per 1m) is used up; retry in "));

  const UsageCounts c = Counted(recorder_);
  EXPECT_EQ(At(c, UsageOutcome::kAddress), 2);
  EXPECT_EQ(At(c, UsageOutcome::kScope), 1);
  EXPECT_EQ(At(c, UsageOutcome::kTag), 1);
  EXPECT_EQ(At(c, UsageOutcome::kAllowed), 2);
  EXPECT_EQ(At(c, UsageOutcome::kRateLimited), 1);
  EXPECT_EQ(At(c, UsageOutcome::kExpired) + At(c, UsageOutcome::kRevoked) +
                At(c, UsageOutcome::kDisabled),
            0);
}

TEST_F(AdmissionTest, TheClientOfTheLatestPresentationIsRecorded) {
  Admit(LimitedKey({}), meters_, "10.1.2.3", "curl/8.0", {}, kNow);
  auto deltas = recorder_.Take();
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].hour_start, HourStart(kNow));
  EXPECT_EQ(deltas[0].last_address, "10.1.2.3");
  EXPECT_EQ(deltas[0].last_user_agent, "curl/8.0");
}

TEST(AdmissionNoMetersTest, NoLimitNoCountingStillChecksRequirements) {
  const KeyMeters none;
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(Admit(LimitedKey({"a"}), none, "10.1.2.3", "", {}, kNow).admitted());
  auto scope = Admit(LimitedKey({"a"}), none, "10.1.2.3", "", Required({"b"}), kNow);
  EXPECT_EQ(scope.denial->reason, DenialReason::kScope);
  EXPECT_EQ(scope.denial->message, "the key lacks the scope b");
}

TEST(AdmissionMessageTest, MessageAndHeaders) {
  const RateDecision rate{
      .allowed = false, .limit = 10, .remaining = 0, .reset = 2, .retry_after = 1};
  EXPECT_EQ(RateLimitedMessage(rate, RateLimit{.requests = 10, .per = 1}),
            "the key's rate limit (10 per 1s) is used up; retry in 1s");
  EXPECT_THAT(RateLimitedHeaders(rate),
              ::testing::ElementsAre(::testing::Pair("X-Keyward-Reason", "rate_limited"),
                                     ::testing::Pair("Retry-After", "1"),
                                     ::testing::Pair("RateLimit-Limit", "10"),
                                     ::testing::Pair("RateLimit-Remaining", "0"),
                                     ::testing::Pair("RateLimit-Reset", "2")));
  // Retry-After is at least 1 second, whatever the bucket said.
  EXPECT_EQ(RateLimitedHeaders(RateDecision{.allowed = false, .limit = 5})[1].second, "1");
}

}  // namespace
}  // namespace keyward
