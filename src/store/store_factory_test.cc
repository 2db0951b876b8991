#include "store/store_factory.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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

// A port on 127.0.0.1 that nothing listens on (bound, then released).
int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(StoreFactoryTest, PostgresUrlsOpenPostgresWithoutTheDataFolderOrEchoingThePassword) {
  int port = UnusedPort();
  for (const char* scheme : {"postgresql", "postgres", "PostgreSQL"}) {
    std::string url = std::string(scheme) + "://kw:s3cr3tPW@127.0.0.1:" + std::to_string(port) +
                      "/keyward?sslmode=disable";
    Result<std::unique_ptr<Store>> store = OpenStore(Options("/nonexistent", url));
    // Nothing listens there: PostgreSQL was tried, and the missing data folder did not matter.
    EXPECT_THAT(store, StatusIs(StatusCode::kUnavailable)) << scheme;
    EXPECT_EQ(store.status().message(), "the database is unavailable");
    EXPECT_EQ(store.status().ToString().find("s3cr3tPW"), std::string::npos);
  }
}

TEST(StoreFactoryTest, MalformedPostgresUrlIsInvalidArgumentWithoutEchoingIt) {
  Result<std::unique_ptr<Store>> store =
      OpenStore(Options("/tmp", "postgresql://kw:s3cr3tPW@127.0.0.1/k?nosuchoption=1"));
  EXPECT_THAT(store, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(store.status().ToString().find("s3cr3tPW"), std::string::npos);
}

TEST(StoreFactoryTest, OtherUrlsAreInvalidArgumentWithoutEchoingThem) {
  for (const char* url :
       {"mysql://kw:s3cr3tPW@db/k", "sqlite:///tmp/x.db", "s3cr3tPW", "postgres:/x"}) {
    Result<std::unique_ptr<Store>> store = OpenStore(Options("/tmp", url));
    EXPECT_THAT(store, StatusIs(StatusCode::kInvalidArgument)) << url;
    EXPECT_EQ(store.status().message(), "unsupported --db URL; use postgresql://…");
    EXPECT_EQ(store.status().ToString().find("s3cr3tPW"), std::string::npos);
  }
}

}  // namespace
}  // namespace keyward
