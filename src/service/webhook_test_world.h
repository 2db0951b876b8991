// A fixture for the webhook tests: WebhookService on a real SQLite store in a temporary folder,
// with a fresh master key, a clock tests move by hand, and the audit log.
//
// Users: "admin" (operator) and "alice". A subclass's SetUp sets options_, then calls
// OpenWorld(); the service keeps using options_.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/random.h"
#include "common/status_matchers.h"
#include "core/user.h"
#include "service/audit_log.h"
#include "service/webhook_service.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_util.h"

namespace keyward {

class WebhookWorld : public ::testing::Test {
 protected:
  // Opens the store, makes the users and builds audit_ and service_ with options_.
  void OpenWorld() {
    ASSERT_TRUE(InitCrypto());
    KW_ASSERT_OK_AND_ASSIGN(store_, OpenSqliteStore(dir_.File("keyward.db")));
    master_ = std::make_unique<MasterKey>(MasterKey::FromBytes(RandomBytes(32)));
    admin_.id = "admin";
    admin_.tags = {std::string(kOperatorTag)};
    alice_.id = "alice";
    KW_ASSERT_OK(store_->CreateUser(admin_));
    KW_ASSERT_OK(store_->CreateUser(alice_));
    audit_ = std::make_unique<AuditLog>(*store_, clock_);
    service_ = std::make_unique<WebhookService>(*store_, master_.get(), options_, clock_,
                                                audit_.get(), nullptr);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<MasterKey> master_;
  ManualClock clock_{1'700'000'000};
  User admin_;
  User alice_;
  WebhookOptions options_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<WebhookService> service_;
};

}  // namespace keyward
