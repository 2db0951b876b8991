// The signing-key ring on a real SQLite store with a hand-moved clock: the first key, the
// scheduled rotation with pre-publication and retirement, an algorithm change, an operator's
// rotation (planned and emergency), who may rotate, and two rings racing on one store.
#include "service/signing_key_ring.h"

#include <gtest/gtest.h>

#include <barrier>
#include <boost/json/parse.hpp>
#include <thread>

#include "service/signing_key_store_probe.h"
#include "service/token_test_world.h"

namespace keyward {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

class SigningKeyRingTest : public TokenTest {
 protected:
  // The kids the JWKS publishes, in its order.
  static std::vector<std::string> JwksKids(const RingSnapshot& snap) {
    std::vector<std::string> kids;
    const boost::json::value jwks = boost::json::parse(snap.jwks);
    for (const auto& key : jwks.at("keys").as_array()) {
      kids.emplace_back(key.at("kid").as_string());
    }
    return kids;
  }

  std::vector<SigningKeyRecord> Stored() {
    auto records = store_->ListSigningKeys();
    EXPECT_THAT(records, IsOk());
    return records.ok() ? *records : std::vector<SigningKeyRecord>{};
  }

  std::string SignerKid() {
    const RingKey* signer = ring_->snapshot()->SignerAt(clock_.Now());
    return signer != nullptr ? signer->record.kid : "(none)";
  }

  std::int64_t Linger() const { return token_options_.ttl + token_options_.skew + 60; }
};

TEST_F(SigningKeyRingTest, TheFirstKeySignsAtOnceAndIsAudited) {
  EXPECT_EQ(ring_->snapshot()->current, nullptr);
  KW_ASSERT_OK(ring_->Refresh());
  auto snap = ring_->snapshot();
  ASSERT_NE(snap->current, nullptr);
  EXPECT_EQ(snap->current->record.generation, 1);
  EXPECT_EQ(snap->current->record.alg, "ES256");
  EXPECT_EQ(snap->current->record.activates_at, clock_.Now());
  EXPECT_EQ(snap->current->state, SigningKeyState::kCurrent);
  EXPECT_TRUE(snap->current->record.sealed_private.empty());
  EXPECT_EQ(JwksKids(*snap), std::vector<std::string>{snap->current->record.kid});
  EXPECT_NE(snap->Find(snap->current->record.kid), nullptr);
  EXPECT_EQ(snap->Find("no-such-kid"), nullptr);
  EXPECT_EQ(snap->FindKey(snap->current->record.kid), snap->current);
  EXPECT_EQ(snap->FindKey("no-such-kid"), nullptr);
  // The private key is sealed in the store, bound to its kid.
  ASSERT_THAT(Stored(), SizeIs(1));
  EXPECT_FALSE(Stored()[0].sealed_private.empty());
  EXPECT_THAT(Stored()[0].sealed_private, Not(HasSubstr("PRIVATE KEY")));

  const AuditEvent created = Events().back();
  EXPECT_EQ(AuditActionName(created.action), "signing_key.created");
  EXPECT_EQ(created.actor, "system");
  EXPECT_EQ(created.target, snap->current->record.kid);

  KW_ASSERT_OK(ring_->Refresh());  // nothing to add yet
  EXPECT_THAT(Stored(), SizeIs(1));
}

TEST_F(SigningKeyRingTest, TheNextKeyIsPublishedBeforeItSignsAndTheOldOneLeavesLater) {
  const UnixSeconds t0 = clock_.Now();
  KW_ASSERT_OK(ring_->Refresh());
  const std::string first = ring_->snapshot()->current->record.kid;
  clock_.Advance(token_options_.rotation - token_options_.prepublish - 1);
  KW_ASSERT_OK(ring_->Refresh());
  EXPECT_THAT(Stored(), SizeIs(1));

  clock_.Advance(1);  // rotation − prepublish after the first key began to sign
  KW_ASSERT_OK(ring_->Refresh());
  ASSERT_THAT(Stored(), SizeIs(2));
  auto snap = ring_->snapshot();
  const RingKey& next = snap->keys[1];
  EXPECT_EQ(next.state, SigningKeyState::kNext);
  EXPECT_EQ(next.record.activates_at, t0 + token_options_.rotation);
  EXPECT_GE(next.record.activates_at - next.record.created_at, token_options_.prepublish);
  EXPECT_EQ(JwksKids(*snap), (std::vector<std::string>{next.record.kid, first}));
  EXPECT_EQ(snap->current->record.kid, first);
  EXPECT_EQ(snap->current->signs_until, next.record.activates_at);
  EXPECT_EQ(SignerKid(), first);
  const AuditEvent rotated = Events().back();
  EXPECT_EQ(AuditActionName(rotated.action), "signing_key.rotated");
  EXPECT_EQ(rotated.actor, "system");
  EXPECT_EQ(rotated.target, next.record.kid);

  const std::string second = next.record.kid;
  clock_.Advance(token_options_.prepublish - 1);
  EXPECT_EQ(SignerKid(), first);
  clock_.Advance(1);  // activation: the next key signs, even before the ticker's Refresh
  EXPECT_EQ(SignerKid(), second);
  KW_ASSERT_OK(ring_->Refresh());
  snap = ring_->snapshot();
  EXPECT_EQ(snap->current->record.kid, second);
  EXPECT_EQ(snap->keys[0].state, SigningKeyState::kRetired);
  EXPECT_EQ(snap->keys[0].published_until, clock_.Now() + Linger());
  EXPECT_FALSE(snap->keys[0].private_key.has_value());
  EXPECT_EQ(JwksKids(*snap), (std::vector<std::string>{second, first}));

  clock_.Advance(Linger() - 1);
  KW_ASSERT_OK(ring_->Refresh());
  EXPECT_NE(ring_->snapshot()->Find(first), nullptr);
  clock_.Advance(1);
  KW_ASSERT_OK(ring_->Refresh());
  snap = ring_->snapshot();
  EXPECT_EQ(snap->Find(first), nullptr);
  EXPECT_EQ(snap->keys[0].state, SigningKeyState::kUnpublished);
  EXPECT_EQ(JwksKids(*snap), std::vector<std::string>{second});
  EXPECT_THAT(Stored(), SizeIs(2));
}

TEST_F(SigningKeyRingTest, AnotherAlgorithmSchedulesAKeyOfItAtOnce) {
  KW_ASSERT_OK(ring_->Refresh());
  TokenOptions rsa = token_options_;
  rsa.alg = token::Alg::kRS256;
  SigningKeyRing restarted(*store_, *master_, rsa, clock_, *audit_);
  KW_ASSERT_OK(restarted.Refresh());
  auto snap = restarted.snapshot();
  ASSERT_THAT(snap->keys, SizeIs(2));
  EXPECT_EQ(snap->keys[1].record.alg, "RS256");
  EXPECT_EQ(snap->keys[1].state, SigningKeyState::kNext);
  EXPECT_EQ(snap->keys[1].record.activates_at, clock_.Now() + rsa.prepublish);
  EXPECT_EQ(snap->current->record.alg, "ES256");
  clock_.Advance(rsa.prepublish);
  KW_ASSERT_OK(restarted.Refresh());
  EXPECT_EQ(restarted.snapshot()->current->record.alg, "RS256");
  EXPECT_THAT(Stored(), SizeIs(2));
}

TEST_F(SigningKeyRingTest, AnEmergencyRotationSignsAtOnceAndKeepsTheOldKeyPublished) {
  KW_ASSERT_OK(ring_->Refresh());
  const std::string old = ring_->snapshot()->current->record.kid;
  clock_.Advance(100);
  KW_ASSERT_OK_AND_ASSIGN(RingKey fresh, ring_->Rotate(admin_, /*now=*/true));
  EXPECT_EQ(fresh.state, SigningKeyState::kCurrent);
  EXPECT_EQ(fresh.record.generation, 2);
  EXPECT_EQ(SignerKid(), fresh.record.kid);
  auto snap = ring_->snapshot();
  EXPECT_EQ(snap->current->record.kid, fresh.record.kid);
  EXPECT_EQ(snap->keys[0].state, SigningKeyState::kRetired);
  EXPECT_EQ(snap->keys[0].record.retired_at, clock_.Now());
  EXPECT_EQ(snap->keys[0].published_until, clock_.Now() + Linger());
  EXPECT_NE(snap->Find(old), nullptr);

  const AuditEvent rotated = Events().back();
  EXPECT_EQ(AuditActionName(rotated.action), "signing_key.rotated");
  EXPECT_EQ(rotated.actor, "admin");
  EXPECT_EQ(rotated.target, fresh.record.kid);
  EXPECT_EQ(rotated.detail, "now");
  EXPECT_TRUE(rotated.success);
  // Another node reading the store agrees.
  SigningKeyRing other(*store_, *master_, token_options_, clock_, *audit_);
  KW_ASSERT_OK(other.Refresh());
  EXPECT_EQ(other.snapshot()->current->record.kid, fresh.record.kid);
}

TEST_F(SigningKeyRingTest, APlannedRotationWaitsForPrepublicationAndOnlyOneIsPending) {
  KW_ASSERT_OK(ring_->Refresh());
  KW_ASSERT_OK_AND_ASSIGN(RingKey next, ring_->Rotate(admin_, /*now=*/false));
  EXPECT_EQ(next.state, SigningKeyState::kNext);
  EXPECT_EQ(next.record.activates_at, clock_.Now() + token_options_.prepublish);
  EXPECT_EQ(Events().back().detail, "");
  auto again = ring_->Rotate(admin_, /*now=*/false);
  EXPECT_THAT(again, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(again.status().message(), HasSubstr(FormatRfc3339(next.record.activates_at)));
  EXPECT_FALSE(Events().back().success);
  EXPECT_THAT(Stored(), SizeIs(2));
}

TEST_F(SigningKeyRingTest, OnlyOperatorsWithUsersWriteMayRotate) {
  KW_ASSERT_OK(ring_->Refresh());
  EXPECT_THAT(ring_->Rotate(alice_, true), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(ring_->Rotate(KeyCaller(admin_, Scopes({"keys:write"})), true),
              StatusIs(StatusCode::kPermissionDenied));
  Grant operator_tags_hidden = Scopes({"users:write"});
  operator_tags_hidden.tags = std::vector<std::string>{};
  EXPECT_THAT(ring_->Rotate(KeyCaller(admin_, operator_tags_hidden), true),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(Stored(), SizeIs(1));
  EXPECT_EQ(Events().back().actor, "admin");
  EXPECT_FALSE(Events().back().success);
  EXPECT_THAT(ring_->Rotate(KeyCaller(admin_, Scopes({"users:write"})), true), IsOk());
  EXPECT_THAT(Stored(), SizeIs(2));
}

TEST_F(SigningKeyRingTest, AKeySealedUnderAnotherMasterKeyIsRefusedAndTheOldSnapshotStays) {
  KW_ASSERT_OK(ring_->Refresh());
  MasterKey other_master = MasterKey::FromBytes(RandomBytes(32));
  SigningKeyRing stranger(*store_, other_master, token_options_, clock_, *audit_);
  EXPECT_THAT(stranger.Refresh(), StatusIs(StatusCode::kInternal));
  EXPECT_EQ(stranger.snapshot()->current, nullptr);
}

// Two nodes on one store at the same moment: every rotation adds exactly one generation, and
// both sign with the same key.
TEST_F(SigningKeyRingTest, TwoRingsOnOneStoreAddOneGenerationEachTime) {
  SigningKeyRing a(*store_, *master_, token_options_, clock_, *audit_);
  SigningKeyRing b(*store_, *master_, token_options_, clock_, *audit_);
  auto both = [&] {
    std::barrier start(2);
    Status sa;
    Status sb;
    std::thread ta([&] {
      start.arrive_and_wait();
      sa = a.Refresh();
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      sb = b.Refresh();
    });
    ta.join();
    tb.join();
    EXPECT_THAT(sa, IsOk());
    EXPECT_THAT(sb, IsOk());
  };
  both();
  ASSERT_THAT(Stored(), SizeIs(1));
  for (int round = 1; round <= 5; ++round) {
    clock_.Advance(token_options_.rotation - token_options_.prepublish);
    both();
    ASSERT_THAT(Stored(), SizeIs(round + 1)) << "round " << round;
    clock_.Advance(token_options_.prepublish);
    KW_ASSERT_OK(a.Refresh());
    KW_ASSERT_OK(b.Refresh());
    EXPECT_EQ(a.snapshot()->current->record.kid, b.snapshot()->current->record.kid);
    EXPECT_EQ(a.snapshot()->current->record.generation, round + 1);
  }
}

// A verifier meeting unknown kids (a flood of made-up ones, or during an outage) reads the
// store at most once a second, however many ask at once, and whether or not the store answers.
TEST_F(SigningKeyRingTest, RefreshIfOlderThanReadsTheStoreAtMostOnceASecond) {
  SigningKeyStoreProbe probe(*store_);
  SigningKeyRing ring(probe, *master_, token_options_, clock_, *audit_);
  KW_ASSERT_OK(ring.Refresh());
  const int start = probe.signing_key_reads();
  auto flood = [&ring] {
    constexpr int kThreads = 8;
    std::barrier sync(kThreads);
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        sync.arrive_and_wait();
        for (int i = 0; i < 20; ++i) (void)ring.RefreshIfOlderThan(1);
      });
    }
    for (std::thread& thread : threads) thread.join();
  };
  flood();  // the snapshot is fresh: nobody reads
  EXPECT_EQ(probe.signing_key_reads(), start);
  clock_.Advance(1);
  flood();
  EXPECT_EQ(probe.signing_key_reads(), start + 1);
  EXPECT_EQ(ring.RefreshIfOlderThan(1).value(), false);  // skipped, the read succeeded

  // The store is down: the snapshot never gets newer, yet one read a second is all it gets.
  probe.set_down(true);
  clock_.Advance(1);
  flood();
  EXPECT_EQ(probe.signing_key_reads(), start + 2);
  EXPECT_THAT(ring.RefreshIfOlderThan(1), StatusIs(StatusCode::kUnavailable));  // skipped too
  clock_.Advance(1);
  flood();
  EXPECT_EQ(probe.signing_key_reads(), start + 3);
  probe.set_down(false);
  clock_.Advance(1);
  EXPECT_EQ(ring.RefreshIfOlderThan(1).value(), true);
  EXPECT_EQ(ring.snapshot()->taken_at, clock_.Now());
}

TEST_F(SigningKeyRingTest, TheTickerTicksAtItsIntervalAndStopsAtOnce) {
  EXPECT_EQ(ring_->TickInterval(), std::chrono::seconds(60));  // 1 h / 4, at most 60 s
  TokenOptions quick = token_options_;
  quick.prepublish = 2;
  SigningKeyRing fast(*store_, *master_, quick, clock_, *audit_);
  EXPECT_EQ(fast.TickInterval(), std::chrono::seconds(1));  // at least 1 s
  SigningKeyTicker ticker(*ring_);
  ticker.Stop();  // at once, not after a tick
  ticker.Stop();
  EXPECT_EQ(ring_->snapshot()->current, nullptr);
}

}  // namespace
}  // namespace keyward
