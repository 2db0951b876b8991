// The Store calls of the token issuer (store.h: AddSigningKey, ListSigningKeys,
// FindKeyByHashPrefix, FindSessionByHashPrefix), run against every backend like
// store_conformance_test.cc, with a race between two stores on one database.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/signing_key_record.h"
#include "store/store.h"
#include "store/store_conformance.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::Backend;
using store_test::MakeKey;
using store_test::MakeSession;
using store_test::MakeUser;

SigningKeyRecord MakeSigningKey(std::int64_t generation) {
  SigningKeyRecord key;
  key.generation = generation;
  key.kid = "kid-" + std::to_string(generation);
  key.alg = generation % 2 == 0 ? "RS256" : "ES256";
  key.public_jwk =
      R"({"kty":"EC","crv":"P-256","x":"eA","y":"eQ","n":")" + std::to_string(generation) + "\"}";
  key.sealed_private = std::string("\x00sealed\xff", 8) + key.kid;
  key.created_at = 1'700'000'000 + generation * 1000;
  key.activates_at = key.created_at + 3600;
  return key;
}

void ExpectSameSigningKey(const SigningKeyRecord& got, const SigningKeyRecord& want) {
  EXPECT_EQ(got.generation, want.generation);
  EXPECT_EQ(got.kid, want.kid);
  EXPECT_EQ(got.alg, want.alg);
  EXPECT_EQ(got.public_jwk, want.public_jwk);
  EXPECT_EQ(got.sealed_private, want.sealed_private);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.activates_at, want.activates_at);
  EXPECT_EQ(got.retired_at, want.retired_at);
}

// A 32-byte hash: `prefix` followed by `fill`.
std::string HashWithPrefix(const std::string& prefix, char fill) {
  std::string hash = prefix;
  hash.resize(32, fill);
  return hash;
}

class SigningKeyStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().needs_postgres && pg::TestServerUrl().empty()) {
      GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (scripts/with-postgres sets it)";
    }
    KW_ASSERT_OK_AND_ASSIGN(store_, GetParam().open(dir_.path(), keep_));
    ASSERT_NE(store_, nullptr);
  }

  // The retired_at of every key, by generation ascending.
  std::vector<UnixSeconds> RetiredAts() {
    Result<std::vector<SigningKeyRecord>> keys = store_->ListSigningKeys();
    EXPECT_THAT(keys, IsOk());
    std::vector<UnixSeconds> retired;
    if (keys.ok()) {
      for (const SigningKeyRecord& key : *keys) retired.push_back(key.retired_at);
    }
    return retired;
  }

  TempDir dir_;                 // outlives store_
  std::shared_ptr<void> keep_;  // outlives store_
  std::unique_ptr<Store> store_;
};

// --- signing keys ---

TEST_P(SigningKeyStoreTest, EmptyStoreListsNoSigningKeys) {
  KW_ASSERT_OK_AND_ASSIGN(std::vector<SigningKeyRecord> keys, store_->ListSigningKeys());
  EXPECT_TRUE(keys.empty());
}

TEST_P(SigningKeyStoreTest, AddedKeysListByGenerationWithEveryField) {
  SigningKeyRecord third = MakeSigningKey(3);
  third.retired_at = 1'800'000'000;
  KW_ASSERT_OK(store_->AddSigningKey(third, 0));
  KW_ASSERT_OK(store_->AddSigningKey(MakeSigningKey(1), 0));
  KW_ASSERT_OK(store_->AddSigningKey(MakeSigningKey(2), 0));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<SigningKeyRecord> keys, store_->ListSigningKeys());
  ASSERT_EQ(keys.size(), 3u);
  ExpectSameSigningKey(keys[0], MakeSigningKey(1));
  ExpectSameSigningKey(keys[1], MakeSigningKey(2));
  ExpectSameSigningKey(keys[2], third);
}

TEST_P(SigningKeyStoreTest, TakenGenerationOrKidIsAlreadyExistsAndKeepsTheFirst) {
  KW_ASSERT_OK(store_->AddSigningKey(MakeSigningKey(1), 0));
  SigningKeyRecord same_generation = MakeSigningKey(1);
  same_generation.kid = "another-kid";
  KW_EXPECT_CODE(store_->AddSigningKey(same_generation, 0), StatusCode::kAlreadyExists);
  SigningKeyRecord same_kid = MakeSigningKey(2);
  same_kid.kid = MakeSigningKey(1).kid;
  KW_EXPECT_CODE(store_->AddSigningKey(same_kid, 0), StatusCode::kAlreadyExists);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<SigningKeyRecord> keys, store_->ListSigningKeys());
  ASSERT_EQ(keys.size(), 1u);
  ExpectSameSigningKey(keys[0], MakeSigningKey(1));
}

TEST_P(SigningKeyStoreTest, RetireOthersRetiresOnlyLowerGenerationsNotYetRetired) {
  SigningKeyRecord retired_early = MakeSigningKey(2);
  retired_early.retired_at = 111;
  KW_ASSERT_OK(store_->AddSigningKey(MakeSigningKey(1), 0));
  KW_ASSERT_OK(store_->AddSigningKey(retired_early, 0));
  KW_ASSERT_OK(store_->AddSigningKey(MakeSigningKey(3), 0));
  KW_ASSERT_OK(store_->AddSigningKey(MakeSigningKey(5), 0));  // higher: untouched
  KW_ASSERT_OK(store_->AddSigningKey(MakeSigningKey(4), 999));
  EXPECT_EQ(RetiredAts(), (std::vector<UnixSeconds>{999, 111, 999, 0, 0}));
  // A plain rotation (0) retires nothing.
  KW_ASSERT_OK(store_->AddSigningKey(MakeSigningKey(6), 0));
  EXPECT_EQ(RetiredAts(), (std::vector<UnixSeconds>{999, 111, 999, 0, 0, 0}));
}

TEST_P(SigningKeyStoreTest, RefusedKeyRetiresNothing) {
  KW_ASSERT_OK(store_->AddSigningKey(MakeSigningKey(1), 0));
  KW_ASSERT_OK(store_->AddSigningKey(MakeSigningKey(2), 0));
  SigningKeyRecord taken = MakeSigningKey(2);
  taken.kid = "fresh-kid";
  KW_EXPECT_CODE(store_->AddSigningKey(taken, 777), StatusCode::kAlreadyExists);
  EXPECT_EQ(RetiredAts(), (std::vector<UnixSeconds>{0, 0}));
}

// Two stores on one database (two nodes, or two processes on one SQLite file) add the same
// generation at the same moment, again and again: exactly one wins each time.
TEST_P(SigningKeyStoreTest, TwoStoresAddingTheSameGenerationAtOnceAddExactlyOne) {
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> other, GetParam().open_again(dir_.path(), keep_));
  std::array<Store*, 2> stores = {store_.get(), other.get()};
  constexpr int kRounds = 20;
  for (int generation = 1; generation <= kRounds; ++generation) {
    std::atomic<int> ready{0};
    std::array<Status, 2> results;
    std::vector<std::thread> threads;
    threads.reserve(2);
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        SigningKeyRecord key = MakeSigningKey(generation);
        key.kid += i == 0 ? "-a" : "-b";  // only the generation collides
        ready.fetch_add(1);
        while (ready.load() < 2) std::this_thread::yield();
        results[i] = stores[i]->AddSigningKey(key, generation);
      });
    }
    for (std::thread& thread : threads) thread.join();
    int ok = 0;
    int taken = 0;
    for (const Status& result : results) {
      ok += result.ok() ? 1 : 0;
      taken += result.code() == StatusCode::kAlreadyExists ? 1 : 0;
    }
    ASSERT_EQ(ok, 1) << "round " << generation << ": " << results[0].ToString() << " / "
                     << results[1].ToString();
    ASSERT_EQ(taken, 1) << "round " << generation << ": " << results[0].ToString() << " / "
                        << results[1].ToString();
  }
  KW_ASSERT_OK_AND_ASSIGN(std::vector<SigningKeyRecord> keys, other->ListSigningKeys());
  ASSERT_EQ(keys.size(), static_cast<std::size_t>(kRounds));
  for (int i = 0; i < kRounds; ++i) {
    EXPECT_EQ(keys[i].generation, i + 1);
    // Each winner retired every lower generation; the last stays.
    EXPECT_EQ(keys[i].retired_at, i + 1 < kRounds ? i + 2 : 0) << "generation " << i + 1;
  }
}

// --- hash prefixes ---

TEST_P(SigningKeyStoreTest, FindKeyByHashPrefixFindsTheOneKeyWithThatPrefix) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KeyRecord key = MakeKey("alice", "ci", 0);
  key.hash = HashWithPrefix("\x12\x34\x56", '\x00');
  KeyRecord below = MakeKey("alice", "below", 0);
  below.hash = HashWithPrefix("\x12\x34\x55", '\xff');
  KeyRecord above = MakeKey("alice", "above", 0);
  above.hash = HashWithPrefix("\x12\x34\x57", '\x00');
  for (const KeyRecord& k : {key, below, above}) KW_ASSERT_OK(store_->CreateKey(k));

  KW_ASSERT_OK_AND_ASSIGN(KeyRecord got, store_->FindKeyByHashPrefix("\x12\x34\x56"));
  EXPECT_EQ(got.name, "ci");
  EXPECT_EQ(got.hash, key.hash);
  KW_ASSERT_OK_AND_ASSIGN(got, store_->FindKeyByHashPrefix(key.hash));  // all 32 bytes
  EXPECT_EQ(got.name, "ci");
  KW_ASSERT_OK_AND_ASSIGN(got, store_->FindKeyByHashPrefix(key.hash.substr(0, 12)));
  EXPECT_EQ(got.name, "ci");
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix("\x12\x34\x58"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix("\x99"), StatusCode::kNotFound);
}

TEST_P(SigningKeyStoreTest, FindKeyByHashPrefixSharedByTwoKeysIsNotFound) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KeyRecord first = MakeKey("alice", "first", 0);
  first.hash = HashWithPrefix(std::string("\xab\x00\x01", 3), '\x01');
  KeyRecord second = MakeKey("alice", "second", 0);
  second.hash = HashWithPrefix(std::string("\xab\x00\x01", 3), '\x02');
  KW_ASSERT_OK(store_->CreateKey(first));
  KW_ASSERT_OK(store_->CreateKey(second));
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix(std::string("\xab\x00\x01", 3)),
                 StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix("\xab"), StatusCode::kNotFound);
  // One byte more tells them apart.
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord got,
                          store_->FindKeyByHashPrefix(std::string("\xab\x00\x01\x02", 4)));
  EXPECT_EQ(got.name, "second");
}

// The end of a prefix's range carries: ab ff ff ends before ac; ff ff has no end.
TEST_P(SigningKeyStoreTest, FindKeyByHashPrefixOfFfBytesCarriesOrHasNoEnd) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KeyRecord carry = MakeKey("alice", "carry", 0);
  carry.hash = HashWithPrefix("\xab\xff\xff", '\x07');
  KeyRecord next = MakeKey("alice", "next", 0);
  next.hash = HashWithPrefix("\xac", '\x00');
  KeyRecord last = MakeKey("alice", "last", 0);
  last.hash = std::string(32, '\xff');
  for (const KeyRecord& k : {carry, next, last}) KW_ASSERT_OK(store_->CreateKey(k));

  KW_ASSERT_OK_AND_ASSIGN(KeyRecord got, store_->FindKeyByHashPrefix("\xab\xff\xff"));
  EXPECT_EQ(got.name, "carry");
  KW_ASSERT_OK_AND_ASSIGN(got, store_->FindKeyByHashPrefix("\xab\xff"));
  EXPECT_EQ(got.name, "carry");
  KW_ASSERT_OK_AND_ASSIGN(got, store_->FindKeyByHashPrefix("\xac"));
  EXPECT_EQ(got.name, "next");
  KW_ASSERT_OK_AND_ASSIGN(got, store_->FindKeyByHashPrefix("\xff\xff"));
  EXPECT_EQ(got.name, "last");
  KW_ASSERT_OK_AND_ASSIGN(got, store_->FindKeyByHashPrefix(std::string(32, '\xff')));
  EXPECT_EQ(got.name, "last");

  KeyRecord almost_last = MakeKey("alice", "almost", 0);
  almost_last.hash = HashWithPrefix("\xff\xff", '\xfe');
  KW_ASSERT_OK(store_->CreateKey(almost_last));
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix("\xff\xff"), StatusCode::kNotFound);  // two now
  KW_ASSERT_OK_AND_ASSIGN(got, store_->FindKeyByHashPrefix(std::string(32, '\xff')));
  EXPECT_EQ(got.name, "last");
}

TEST_P(SigningKeyStoreTest, HashPrefixOfNoneOrMoreThan32BytesIsInvalidArgument) {
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix(""), StatusCode::kInvalidArgument);
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix(std::string(33, '\x01')),
                 StatusCode::kInvalidArgument);
  KW_EXPECT_CODE(store_->FindSessionByHashPrefix(""), StatusCode::kInvalidArgument);
  KW_EXPECT_CODE(store_->FindSessionByHashPrefix(std::string(33, '\x01')),
                 StatusCode::kInvalidArgument);
}

TEST_P(SigningKeyStoreTest, FindSessionByHashPrefixFindsOneAndRefusesAmbiguity) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  SessionRecord one = MakeSession("alice", 0, 1'800'000'000);
  one.hash = HashWithPrefix("\x01\x02\x03", '\x00');
  SessionRecord two = MakeSession("alice", 0, 1'800'000'001);
  two.hash = HashWithPrefix("\x01\x02\x04", '\x00');
  SessionRecord three = MakeSession("alice", 0, 1'800'000'002);
  three.hash = HashWithPrefix("\x01\x02\x04", '\x01');
  SessionRecord top = MakeSession("alice", 0, 1'800'000'003);
  top.hash = HashWithPrefix("\xff", '\xff');
  for (const SessionRecord& s : {one, two, three, top}) KW_ASSERT_OK(store_->CreateSession(s));

  KW_ASSERT_OK_AND_ASSIGN(SessionRecord got, store_->FindSessionByHashPrefix("\x01\x02\x03"));
  EXPECT_EQ(got.hash, one.hash);
  EXPECT_EQ(got.user_id, "alice");
  EXPECT_EQ(got.created_at, one.created_at);
  EXPECT_EQ(got.expires_at, one.expires_at);
  KW_EXPECT_CODE(store_->FindSessionByHashPrefix("\x01\x02\x04"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindSessionByHashPrefix("\x01\x02\x05"), StatusCode::kNotFound);
  KW_ASSERT_OK_AND_ASSIGN(got, store_->FindSessionByHashPrefix("\xff\xff\xff"));
  EXPECT_EQ(got.hash, top.hash);
  // Keys and sessions are apart: a session's prefix finds no key.
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix("\x01\x02\x03"), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, SigningKeyStoreTest, ::testing::ValuesIn(store_test::Backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace keyward
