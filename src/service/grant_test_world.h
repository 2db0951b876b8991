// A fixture for the service layer's grant rules: the real services on a SQLite store in a
// temporary folder, a clock tests move by hand, and callers as API keys with a given grant.
//
// Users: "admin" (operator) and "alice" (tags team:x and team:y), made by a full-power caller.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/random.h"
#include "common/status_matchers.h"
#include "core/api_key.h"
#include "core/policy.h"
#include "service/audit_log.h"
#include "service/authenticator.h"
#include "service/key_service.h"
#include "service/user_service.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_util.h"

namespace keyward {

// Grants print as the audit log describes them.
inline void PrintTo(const Grant& grant, std::ostream* os) { *os << DescribeGrant(grant); }

class GrantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    KW_ASSERT_OK_AND_ASSIGN(store_, OpenSqliteStore(dir_.File("keyward.db")));
    master_ = std::make_unique<MasterKey>(MasterKey::FromBytes(RandomBytes(32)));
    audit_ = std::make_unique<AuditLog>(*store_, clock_);
    users_ = std::make_unique<UserService>(*store_, clock_, &cache_, audit_.get());
    keys_ = std::make_unique<KeyService>(*store_, master_.get(), options_, clock_, &cache_,
                                         audit_.get());
    admin_.id = "admin";
    admin_.name = "Administrator";
    admin_.tags = {std::string(kOperatorTag)};
    KW_ASSERT_OK(store_->CreateUser(admin_));  // no password: no Argon2id, a faster test
    KW_ASSERT_OK(
        users_->Create(admin_, NewUser{"alice", "Alice", "person", std::nullopt}).status());
    KW_ASSERT_OK(users_->AddTag(admin_, "alice", "team:x").status());
    KW_ASSERT_OK_AND_ASSIGN(alice_, users_->AddTag(admin_, "alice", "team:y"));
  }

  // A caller presenting an API key of `user` with `grant`, valid for `validity` seconds more:
  // what Authenticator makes of such a key (the tags it presents, its networks).
  Principal KeyCaller(const User& user, Grant grant, std::int64_t validity = 3600) {
    Principal p;
    p.user = user;
    p.user.tags = EffectiveTags(grant, user.tags);
    p.via = KeyType::kApiKey;
    p.key_name = "caller-key";
    p.expires_at = clock_.Now() + validity;
    p.client_address = "10.1.2.3";
    auto networks = ParseNetworks(grant.allowed_addresses);
    EXPECT_THAT(networks, IsOk());
    if (networks.ok()) p.networks = *networks;
    p.grant = std::move(grant);
    return p;
  }

  static Grant Scopes(std::vector<std::string> scopes) {
    Grant grant;
    grant.scopes = std::move(scopes);
    return grant;
  }

  // The names of `user_id`'s stored keys.
  std::vector<std::string> KeyNames(const std::string& user_id) {
    std::vector<std::string> names;
    auto keys = store_->ListKeys(user_id);
    EXPECT_THAT(keys, IsOk());
    if (keys.ok()) {
      for (const KeyRecord& key : *keys) names.push_back(key.name);
    }
    return names;
  }

  // Every audit event, oldest first.
  std::vector<AuditEvent> Events() {
    AuditFilter all;
    all.limit = kMaxAuditLimit;
    auto events = store_->ListAudit(all);
    EXPECT_THAT(events, IsOk());
    std::vector<AuditEvent> out = events.ok() ? *events : std::vector<AuditEvent>{};
    std::reverse(out.begin(), out.end());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<MasterKey> master_;
  ServiceOptions options_;
  KeyCache cache_;
  ManualClock clock_{1'700'000'000};
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<UserService> users_;
  std::unique_ptr<KeyService> keys_;
  User admin_;
  User alice_;
};

}  // namespace keyward
