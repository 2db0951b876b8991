// Two nodes on one PostgreSQL database, each with its own store and ring, refreshing at the
// same moment: every rotation adds exactly one generation and both sign with the same key.
// Skips without KEYWARD_TEST_PG_URL (scripts/with-postgres sets it).
#include <gtest/gtest.h>

#include <barrier>
#include <memory>
#include <thread>

#include "common/random.h"
#include "common/status_matchers.h"
#include "service/audit_log.h"
#include "service/signing_key_ring.h"
#include "store/postgres/pg_test_util.h"
#include "store/store_factory.h"

namespace keyward {
namespace {

struct Node {
  std::unique_ptr<Store> store;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<SigningKeyRing> ring;
};

TEST(SigningKeyRingPgTest, TwoNodesAddOneGenerationEachTime) {
  if (pg::TestServerUrl().empty()) {
    GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (scripts/with-postgres sets it)";
  }
  ASSERT_TRUE(InitCrypto());
  pg::TempDatabase db;
  ASSERT_THAT(db.status(), IsOk());
  const MasterKey master = MasterKey::FromBytes(RandomBytes(32));
  ManualClock clock(1'700'000'000);
  TokenOptions options;
  options.issuer = "https://keyward.test";
  options.audiences = {{"pulsar"}};
  Node nodes[2];
  for (Node& node : nodes) {
    auto store = OpenStore({.data_dir = "", .db_url = db.url()});
    ASSERT_THAT(store, IsOk());
    node.store = std::move(store).value();
    node.audit = std::make_unique<AuditLog>(*node.store, clock);
    node.ring = std::make_unique<SigningKeyRing>(*node.store, master, options, clock, *node.audit);
  }
  auto both = [&] {
    std::barrier start(2);
    Status results[2];
    std::thread threads[2];
    for (int i = 0; i < 2; ++i) {
      threads[i] = std::thread([&, i] {
        start.arrive_and_wait();
        results[i] = nodes[i].ring->Refresh();
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_THAT(results[0], IsOk());
    EXPECT_THAT(results[1], IsOk());
  };
  auto stored = [&] {
    auto records = nodes[0].store->ListSigningKeys();
    EXPECT_THAT(records, IsOk());
    return records.ok() ? records->size() : 0;
  };
  both();
  ASSERT_EQ(stored(), 1u);
  for (int round = 1; round <= 5; ++round) {
    clock.Advance(options.rotation - options.prepublish);
    both();
    ASSERT_EQ(stored(), static_cast<std::size_t>(round + 1)) << "round " << round;
    clock.Advance(options.prepublish);
    both();
    const auto a = nodes[0].ring->snapshot();
    const auto b = nodes[1].ring->snapshot();
    ASSERT_NE(a->current, nullptr);
    ASSERT_NE(b->current, nullptr);
    EXPECT_EQ(a->current->record.kid, b->current->record.kid);
    EXPECT_EQ(a->current->record.generation, round + 1);
  }
}

}  // namespace
}  // namespace keyward
