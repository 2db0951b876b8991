// What the key lifecycle suites share (key_lifecycle_store_test.cc: rotation, old secrets and
// edits; key_housekeeping_store_test.cc: the housekeeper's calls): records of a rotation and a
// fixture with a user "alice" and a webhook "wh_all" that takes every event, so a test sees
// which changes appended one.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/key_record.h"
#include "core/webhook.h"
#include "store/store.h"
#include "store/store_conformance.h"
#include "store/store_test_util.h"

namespace keyward::store_test {

inline constexpr UnixSeconds kCreated = 1'700'000'100;  // MakeKey's created_at; expires a day later

// An update that sets one field.
template <typename T, typename V>
inline KeyUpdate With(std::optional<T> KeyUpdate::*field, V value) {
  KeyUpdate update;
  update.*field = T(std::move(value));
  return update;
}

inline OldSecret MakeOld(int n, UnixSeconds rotated_at, UnixSeconds expires_at) {
  return {.hash = Hash(n),
          .masked = "kw_Old" + std::to_string(n),
          .rotated_at = rotated_at,
          .grace_until = rotated_at + 3600,
          .retire_when_idle = 600,
          .last_used_at = rotated_at - 5,
          .expires_at = expires_at};
}

// The key a rotation of `key` gives, with secret `n`.
inline KeyRecord Next(const KeyRecord& key, int n, UnixSeconds rotated_at) {
  KeyRecord next = key;
  next.hash = Hash(n);
  next.sealed = "sealed-" + std::to_string(n);
  next.masked = "kw_New" + std::to_string(n);
  next.rotated_at = rotated_at;
  next.expires_at = rotated_at + 86'400;
  return next;
}

inline void ExpectSameOld(const OldSecret& got, const OldSecret& want) {
  EXPECT_EQ(got.hash, want.hash);
  EXPECT_EQ(got.masked, want.masked);
  EXPECT_EQ(got.rotated_at, want.rotated_at);
  EXPECT_EQ(got.grace_until, want.grace_until);
  EXPECT_EQ(got.retire_when_idle, want.retire_when_idle);
  EXPECT_EQ(got.last_used_at, want.last_used_at);
  EXPECT_EQ(got.expires_at, want.expires_at);
}

inline KeyUpdate NameAndDescription(std::string name, std::string description) {
  KeyUpdate update;
  update.name = std::move(name);
  update.description = std::move(description);
  return update;
}

class KeyLifecycleFixture : public BackendStoreTest {
 protected:
  void SetUp() override {
    BackendStoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
    Webhook all;
    all.id = "wh_all";
    all.url = "https://example.com/hook";
    all.sealed_secret = "s";
    all.created_by = "op";
    all.created_at = 1;
    KW_ASSERT_OK(store_->CreateWebhook(all));
  }

  // How many events the store appended so far (each reaches wh_all).
  int Events() {
    Result<std::vector<Delivery>> deliveries = store_->ListDeliveries("wh_all", 1000);
    EXPECT_THAT(deliveries, IsOk());
    return deliveries.ok() ? static_cast<int>(deliveries->size()) : -1;
  }

  EventList One(std::string_view type) { return {MakeEvent(type, "alice", kCreated)}; }
};

}  // namespace keyward::store_test
