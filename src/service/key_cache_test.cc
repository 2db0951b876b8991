#include "service/key_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "common/random.h"
#include "core/api_key.h"

namespace keyward {
namespace {

Principal MakePrincipal(const std::string& user, const std::string& hash, UnixSeconds expires) {
  Principal p;
  p.user.id = user;
  p.user.tags = {"a", "b"};
  p.token_hash = hash;
  p.key_name = "k";
  p.expires_at = expires;
  return p;
}

std::string NewHash() { return HashKey(RandomBytes(16)); }

class KeyCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
};

TEST_F(KeyCacheTest, HitMissAndTagsHeader) {
  KeyCache cache;
  std::string h = NewHash();
  EXPECT_EQ(cache.Find(h, 100, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss);
  cache.Insert(MakePrincipal("alice", h, 1000), 100, cache.Generation());
  std::string user, tags;
  EXPECT_EQ(cache.Find(h, 101,
                       [&](const CacheEntry& e) {
                         user = e.principal.user.id;
                         tags = e.tags_header;
                       }),
            KeyCache::Outcome::kValid);
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(tags, "a,b");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST_F(KeyCacheTest, ExpiryIsCheckedOnEveryHit) {
  KeyCache cache;
  std::string h = NewHash();
  cache.Insert(MakePrincipal("alice", h, 102), 100, cache.Generation());
  EXPECT_EQ(cache.Find(h, 101, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);
  EXPECT_EQ(cache.Find(h, 102, [](const CacheEntry&) {}), KeyCache::Outcome::kInvalid);
}

TEST_F(KeyCacheTest, AnOldSecretPastItsTimeIsAMissSoThatTheStoreDecides) {
  KeyCache cache;
  std::string h = NewHash();
  Principal old = MakePrincipal("alice", h, 102);
  old.old_secret = true;
  cache.Insert(old, 100, cache.Generation());
  EXPECT_EQ(cache.Find(h, 101, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);
  EXPECT_EQ(cache.Find(h, 102, [](const CacheEntry&) { ADD_FAILURE(); }), KeyCache::Outcome::kMiss);
  // The store found it retired: from then on it is unknown, the verified entry gone.
  cache.InsertUnknown(h, 102, cache.Generation());
  EXPECT_EQ(cache.Find(h, 102, [](const CacheEntry&) { ADD_FAILURE(); }),
            KeyCache::Outcome::kInvalid);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(KeyCacheTest, EntriesAgeOutAfterTheTtl) {
  KeyCache cache({.max_entries = 100, .max_negative = 100, .ttl = 5});
  std::string h = NewHash(), u = NewHash();
  cache.Insert(MakePrincipal("alice", h, 10'000), 100, cache.Generation());
  cache.InsertUnknown(u, 100, cache.Generation());
  EXPECT_EQ(cache.Find(h, 104, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);
  EXPECT_EQ(cache.Find(u, 104, [](const CacheEntry&) {}), KeyCache::Outcome::kInvalid);
  EXPECT_EQ(cache.Find(h, 105, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss);
  EXPECT_EQ(cache.Find(u, 105, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss);
}

// Issue 19: an entry in use is claimed for a reload once, in the last fifth of its ttl (at least
// its last second), so that its key is read again before a request would miss it.
TEST_F(KeyCacheTest, AnEntryIsClaimedForARefreshOnceInItsLastSecond) {
  KeyCache cache({.max_entries = 100, .max_negative = 100, .ttl = 5});
  std::string h = NewHash();
  cache.Insert(MakePrincipal("alice", h, 10'000), 100, cache.Generation());
  auto claims = [&](UnixSeconds now) {
    bool claimed = false;
    EXPECT_EQ(
        cache.Find(h, now, [&](const CacheEntry& e) { claimed = cache.ClaimRefresh(e, now); }),
        KeyCache::Outcome::kValid);
    return claimed;
  };
  EXPECT_FALSE(claims(100));
  EXPECT_FALSE(claims(103));
  EXPECT_TRUE(claims(104));
  EXPECT_FALSE(claims(104));  // once: the reload is on its way
  EXPECT_EQ(cache.refreshes(), 1u);
  // The reload replaces the entry: a new one, claimed again a ttl later.
  cache.Insert(MakePrincipal("alice", h, 10'000), 104, cache.Generation());
  EXPECT_FALSE(claims(107));
  EXPECT_TRUE(claims(108));
  EXPECT_EQ(cache.refreshes(), 2u);
}

TEST_F(KeyCacheTest, OldSecretsTokensAndShortTtlsAreNeverClaimedForARefresh) {
  KeyCache cache({.max_entries = 100, .max_negative = 100, .ttl = 5});
  Principal old = MakePrincipal("alice", NewHash(), 10'000);
  old.old_secret = true;  // its reload can retire it: a request decides that
  Principal token = MakePrincipal("alice", NewHash(), 10'000);
  token.parent_key_hash = NewHash();  // an issued token's entry
  for (const Principal& p : {old, token}) {
    cache.Insert(p, 100, cache.Generation());
    EXPECT_EQ(cache.Find(p.token_hash, 104,
                         [&](const CacheEntry& e) { EXPECT_FALSE(cache.ClaimRefresh(e, 104)); }),
              KeyCache::Outcome::kValid);
  }
  KeyCache short_lived({.max_entries = 100, .max_negative = 100, .ttl = 1});
  std::string h = NewHash();
  short_lived.Insert(MakePrincipal("alice", h, 10'000), 100, short_lived.Generation());
  EXPECT_EQ(
      short_lived.Find(
          h, 100, [&](const CacheEntry& e) { EXPECT_FALSE(short_lived.ClaimRefresh(e, 100)); }),
      KeyCache::Outcome::kValid);
  EXPECT_EQ(cache.refreshes() + short_lived.refreshes(), 0u);
}

// Issue 17: a canary key's negative entry hands the key to every hit's caller (who reports the
// use), an ordinary unknown one never; an invalidation drops it like any entry.
TEST_F(KeyCacheTest, ACanaryEntryNamesItsKeyOnEveryHit) {
  // 100 negative entries per shard: with one per shard, two random hashes in the same shard
  // (1 in 64) would push each other out.
  KeyCache cache({.max_entries = 6400, .max_negative = 6400, .ttl = 5});
  std::string c = NewHash(), u = NewHash();
  cache.InsertUnknown(c, 100, cache.Generation(), nullptr, UsageOutcome::kExpired,
                      std::make_shared<const CanaryKey>(CanaryKey{"alice", "decoy"}));
  cache.InsertUnknown(u, 100, cache.Generation());
  for (int hit = 0; hit < 3; ++hit) {
    std::shared_ptr<const CanaryKey> canary;
    EXPECT_EQ(cache.Find(
                  c, 101, [](const CacheEntry&) { ADD_FAILURE(); }, false, &canary),
              KeyCache::Outcome::kInvalid);
    ASSERT_NE(canary, nullptr);
    EXPECT_EQ(canary->user_id, "alice");
    EXPECT_EQ(canary->name, "decoy");
    std::shared_ptr<const CanaryKey> none;
    EXPECT_EQ(cache.Find(
                  u, 101, [](const CacheEntry&) { ADD_FAILURE(); }, false, &none),
              KeyCache::Outcome::kInvalid);
    EXPECT_EQ(none, nullptr);
  }
  EXPECT_EQ(cache.negative_hits(), 6u);
  cache.Erase(c);
  std::shared_ptr<const CanaryKey> gone;
  EXPECT_EQ(cache.Find(
                c, 101, [](const CacheEntry&) {}, false, &gone),
            KeyCache::Outcome::kMiss);
  EXPECT_EQ(gone, nullptr);
}

TEST_F(KeyCacheTest, InvalidationWinsARacingInsert) {
  KeyCache cache;
  std::string h = NewHash();
  std::uint64_t before = cache.Generation();  // a lookup starts its store read
  cache.Erase(h);                             // the key is deleted meanwhile
  cache.Insert(MakePrincipal("alice", h, 10'000), 100, before);
  EXPECT_EQ(cache.Find(h, 100, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss);
  cache.InsertUnknown(h, 100, before);
  EXPECT_EQ(cache.Find(h, 100, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss);
}

TEST_F(KeyCacheTest, EraseUserDropsOnlyThatUser) {
  KeyCache cache;
  std::string a1 = NewHash(), a2 = NewHash(), b = NewHash();
  cache.Insert(MakePrincipal("alice", a1, 10'000), 100, cache.Generation());
  cache.Insert(MakePrincipal("alice", a2, 10'000), 100, cache.Generation());
  cache.Insert(MakePrincipal("bob", b, 10'000), 100, cache.Generation());
  cache.EraseUser("alice");
  EXPECT_EQ(cache.Find(a1, 100, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss);
  EXPECT_EQ(cache.Find(a2, 100, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss);
  EXPECT_EQ(cache.Find(b, 100, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);
  EXPECT_EQ(cache.size(), 1u);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(KeyCacheTest, BoundedInMemory) {
  KeyCache cache({.max_entries = 640, .max_negative = 640, .ttl = 5});
  for (int i = 0; i < 10'000; ++i) {
    cache.Insert(MakePrincipal("u", NewHash(), 10'000), 100, cache.Generation());
    cache.InsertUnknown(NewHash(), 100, cache.Generation());
  }
  EXPECT_LE(cache.size(), 640u);
  EXPECT_GE(cache.size(), 500u);
}

// Entries nobody asks for again (a token used once) leave with the next inserts after their ttl,
// not when their shard is full: the cache holds what the last ttl looked up.
TEST_F(KeyCacheTest, EntriesPastTheTtlLeaveWithLaterInserts) {
  KeyCache cache({.max_entries = 1'000'000, .max_negative = 100'000, .ttl = 5});
  std::vector<std::string> recent;
  for (int i = 0; i < 10'000; ++i) {
    cache.Insert(MakePrincipal("u", NewHash(), 10'000), 100, cache.Generation());
    cache.InsertUnknown(NewHash(), 100, cache.Generation());
  }
  for (int i = 0; i < 100; ++i) {
    recent.push_back(NewHash());
    cache.Insert(MakePrincipal("u", recent.back(), 10'000), 103, cache.Generation());
  }
  EXPECT_EQ(cache.size(), 10'100u);
  EXPECT_EQ(cache.negative_size(), 10'000u);
  // At 105 the first 10,000 are stale; 2,000 inserts reach every one of the 64 shards.
  for (int i = 0; i < 2'000; ++i) {
    cache.Insert(MakePrincipal("u", NewHash(), 10'000), 105, cache.Generation());
    cache.InsertUnknown(NewHash(), 105, cache.Generation());
  }
  EXPECT_EQ(cache.size(), 2'100u);
  EXPECT_EQ(cache.negative_size(), 2'000u);
  // Those inserted at 103 are still within their ttl: kept, and found.
  for (const std::string& h : recent) {
    EXPECT_EQ(cache.Find(h, 107, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);
  }
}

TEST_F(KeyCacheTest, UsedKeysAreBatchedOncePerSecond) {
  KeyCache cache;
  std::string h = NewHash();
  cache.Insert(MakePrincipal("alice", h, 10'000), 100, cache.Generation());
  for (int i = 0; i < 1000; ++i) (void)cache.Find(h, 101, [](const CacheEntry&) {});
  auto used = cache.TakeUsed();
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].first, h);
  EXPECT_EQ(used[0].second, 101);
  EXPECT_TRUE(cache.TakeUsed().empty());
  (void)cache.Find(h, 107, [](const CacheEntry&) {});
  // ttl 5 s has passed since 100: a miss, no mark. Re-insert and use again.
  cache.Insert(MakePrincipal("alice", h, 10'000), 107, cache.Generation());
  used = cache.TakeUsed();
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].second, 107);
}

TEST_F(KeyCacheTest, ConcurrentReadersAndInvalidations) {
  KeyCache cache;
  std::vector<std::string> hashes;
  for (int i = 0; i < 256; ++i) {
    hashes.push_back(NewHash());
    cache.Insert(MakePrincipal("u" + std::to_string(i % 8), hashes.back(), 10'000), 100,
                 cache.Generation());
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  readers.reserve(4);
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      std::size_t i = 0;
      while (!stop) (void)cache.Find(hashes[i++ % hashes.size()], 101, [](const CacheEntry&) {});
    });
  }
  for (int i = 0; i < 200; ++i) {
    cache.EraseUser("u" + std::to_string(i % 8));
    cache.Insert(MakePrincipal("u1", hashes[static_cast<std::size_t>(i)], 10'000), 101,
                 cache.Generation());
    (void)cache.TakeUsed();
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_LE(cache.size(), 256u);
}

}  // namespace
}  // namespace keyward
