#include "store/store_factory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <utility>

#include "store/store_test_util.h"

namespace keyward {
namespace {

StoreOptions Options(std::string data_dir, std::string db_url = "") {
  StoreOptions options;
  options.data_dir = std::move(data_dir);
  options.db_url = std::move(db_url);
  return options;
}

TEST(StoreFactoryTest, EmptyUrlOpensSqliteInTheDataFolder) {
  TempDir dir;
  KW_ASSERT_OK_AND_ASSIGN(auto store, OpenStore(Options(dir.path())));
  User alice;
  alice.id = "alice";
  alice.name = "Alice";
  KW_ASSERT_OK(store->CreateUser(alice));
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.File("keyward.db")));
  store.reset();
  KW_ASSERT_OK_AND_ASSIGN(auto reopened, OpenStore(Options(dir.path())));
  KW_EXPECT_OK(reopened->GetUser("alice").status());
}

TEST(StoreFactoryTest, MissingDataFolderIsInvalidArgument) {
  TempDir dir;
  KW_EXPECT_CODE(OpenStore(Options(dir.File("nope"))), StatusCode::kInvalidArgument);
  KW_EXPECT_CODE(OpenStore(Options("")), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.File("nope")));
}

TEST(StoreFactoryTest, PostgresUrlsAreNotSupportedYetAndThePasswordIsNeverEchoed) {
  for (const char* url : {"postgresql://kw:s3cr3tPW@db:5432/keyward", "postgres://kw:s3cr3tPW@db/k",
                          "PostgreSQL://kw:s3cr3tPW@db/k"}) {
    Result<std::unique_ptr<Store>> store = OpenStore(Options("/nonexistent", url));
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(store.status().message(), "PostgreSQL support is not built yet");
    EXPECT_EQ(store.status().ToString().find("s3cr3tPW"), std::string::npos);
  }
}

TEST(StoreFactoryTest, OtherUrlsAreInvalidArgumentWithoutEchoingThem) {
  for (const char* url :
       {"mysql://kw:s3cr3tPW@db/k", "sqlite:///tmp/x.db", "s3cr3tPW", "postgres:/x"}) {
    Result<std::unique_ptr<Store>> store = OpenStore(Options("/tmp", url));
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(store.status().message(), "unsupported --db URL; use postgresql://…");
    EXPECT_EQ(store.status().ToString().find("s3cr3tPW"), std::string::npos);
  }
}

}  // namespace
}  // namespace keyward
