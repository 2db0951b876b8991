#include "core/master_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "common/hex.h"
#include "common/random.h"
#include "common/status_matchers.h"

namespace keyward {
namespace {

class MasterKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    dir_ = std::filesystem::temp_directory_path() / ("kw-mk-" + RandomString(8, "abcdef0123"));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(MasterKeyTest, SealOpenRoundTrip) {
  MasterKey mk = MasterKey::FromBytes(RandomBytes(32));
  std::string sealed = mk.Seal("kw_secret", "hash-a");
  EXPECT_EQ(sealed.find("kw_secret"), std::string::npos);
  auto opened = mk.Open(sealed, "hash-a");
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(*opened, "kw_secret");
}

TEST_F(MasterKeyTest, EveryFlippedByteIsRejected) {
  MasterKey mk = MasterKey::FromBytes(RandomBytes(32));
  std::string sealed = mk.Seal("kw_secret_value", "hash-a");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(mk.Open(bad, "hash-a").ok()) << "byte " << i;
  }
  EXPECT_THAT(mk.Open(sealed.substr(0, 10), "hash-a"), StatusIs(StatusCode::kInternal));
}

TEST_F(MasterKeyTest, CiphertextMovedToAnotherRowIsRejected) {
  MasterKey mk = MasterKey::FromBytes(RandomBytes(32));
  std::string sealed_a = mk.Seal("key-of-a", "hash-a");
  auto moved = mk.Open(sealed_a, "hash-b");
  EXPECT_THAT(moved, StatusIs(StatusCode::kInternal));
}

TEST_F(MasterKeyTest, AnotherMasterKeyCannotOpen) {
  MasterKey a = MasterKey::FromBytes(RandomBytes(32));
  MasterKey b = MasterKey::FromBytes(RandomBytes(32));
  EXPECT_THAT(b.Open(a.Seal("x", "h"), "h"), StatusIs(StatusCode::kInternal));
}

// Issue 19: every node derives the same key for a purpose from the same master key, and nothing
// else gives it.
TEST_F(MasterKeyTest, DerivedKeysAreOnePerPurposeAndMasterKey) {
  const std::string bytes = RandomBytes(32);
  MasterKey a = MasterKey::FromBytes(bytes);
  MasterKey same = MasterKey::FromBytes(bytes);
  MasterKey other = MasterKey::FromBytes(RandomBytes(32));
  const std::string key = a.DeriveKey("sign-in throttle");
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(key, same.DeriveKey("sign-in throttle"));
  EXPECT_NE(key, a.DeriveKey("sign-in throttle "));
  EXPECT_NE(key, other.DeriveKey("sign-in throttle"));
  EXPECT_NE(key, bytes);
  // HMAC-SHA-256 as RFC 2104 has it (Python's hmac module gives the same).
  std::string counting(32, '\0');
  for (int i = 0; i < 32; ++i) counting[i] = static_cast<char>(i);
  EXPECT_EQ(ToHex(MasterKey::FromBytes(counting).DeriveKey("sign-in throttle")),
            "b1e744ce396d2d5d32f4637f790e095b7dc7e65e19f865feb997ed10b1111b0a");
}

TEST_F(MasterKeyTest, FileIsCreatedOwnerOnlyAndReloads) {
  std::string path = (dir_ / "master.key").string();
  auto first = MasterKey::LoadOrCreate(path);
  ASSERT_THAT(first, IsOk());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string sealed = first->Seal("secret", "h");
  auto second = MasterKey::LoadOrCreate(path);
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->Open(sealed, "h").value(), "secret");
}

TEST_F(MasterKeyTest, NodesCreatingTheFileTogetherAgree) {
  std::string path = (dir_ / "shared.key").string();
  for (int round = 0; round < 20; ++round) {
    std::filesystem::remove(path);
    std::vector<std::thread> nodes;
    std::vector<std::string> sealed(4);
    // Not vector<bool>: its elements share bytes, so threads setting them would race.
    std::vector<char> ok(4, 0);
    nodes.reserve(4);
    for (int i = 0; i < 4; ++i) {
      nodes.emplace_back([&, i] {
        auto key = MasterKey::LoadOrCreate(path);
        ok[i] = key.ok() ? 1 : 0;
        if (key.ok()) sealed[i] = key->Seal("x", "h");
      });
    }
    for (auto& t : nodes) t.join();
    auto reread = MasterKey::LoadOrCreate(path);
    ASSERT_THAT(reread, IsOk());
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(ok[i]) << "round " << round << " node " << i;
      EXPECT_THAT(reread->Open(sealed[i], "h"), IsOk()) << "node " << i << " used another key";
    }
  }
}

TEST_F(MasterKeyTest, RefusesAFileOthersCanRead) {
  std::string path = (dir_ / "open.key").string();
  std::ofstream(path) << std::string(64, 'a') << "\n";
  ::chmod(path.c_str(), 0644);
  auto r = MasterKey::LoadOrCreate(path);
  ASSERT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(MasterKeyTest, RefusesMalformedFile) {
  std::string path = (dir_ / "bad.key").string();
  std::ofstream(path) << "not hex";
  ::chmod(path.c_str(), 0600);
  EXPECT_THAT(MasterKey::LoadOrCreate(path), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace keyward
