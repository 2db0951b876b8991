// Canary keys in the store (migration V007, KeyRecord::canary; issue 17), run against every
// backend like store_conformance_test.cc: the flag is written by CreateKey and read back by every
// call that reads a key row, and nothing else changes it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/key_lifecycle_fixture.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::Backend;
using store_test::Hash;
using store_test::kCreated;
using store_test::MakeKey;
using store_test::With;

using CanaryStoreTest = store_test::KeyLifecycleFixture;

TEST_P(CanaryStoreTest, CanaryRoundTripsThroughCreateEditAndEveryRead) {
  KeyRecord canary = MakeKey("alice", "decoy", 1);
  canary.canary = true;
  canary.grant = Grant{};
  KW_ASSERT_OK(store_->CreateKey(canary));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "plain", 2)));
  auto expect_everywhere = [&] {
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord got, store_->GetKey("alice", "decoy"));
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord found, store_->FindKeyByHash(Hash(1)));
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_prefix, store_->FindKeyByHashPrefix(Hash(1).substr(0, 8)));
    KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys("alice"));
    KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> due,
                            store_->ListKeysToWarn(kCreated, 2 * 86'400, 10));
    ASSERT_EQ(keys.size(), 2u);
    ASSERT_EQ(due.size(), 2u);
    const KeyRecord& due_decoy = due[0].name == "decoy" ? due[0] : due[1];
    const KeyRecord& due_plain = due[0].name == "decoy" ? due[1] : due[0];
    for (const KeyRecord& k : {got, found, by_prefix, keys[0], due_decoy}) {
      EXPECT_EQ(k.name, "decoy");
      EXPECT_TRUE(k.canary);
    }
    EXPECT_FALSE(keys[1].canary);
    EXPECT_FALSE(due_plain.canary);
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord plain, store_->FindKeyByHash(Hash(2)));
    EXPECT_FALSE(plain.canary);
  };
  expect_everywhere();
  // An edit (the service allows a canary only its name, description and expiry) keeps it.
  KW_ASSERT_OK(store_->UpdateKey("alice", "decoy", 0, With(&KeyUpdate::description, "bait"), {}));
  expect_everywhere();
}

INSTANTIATE_TEST_SUITE_P(Backends, CanaryStoreTest, ::testing::ValuesIn(store_test::Backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace keyward
