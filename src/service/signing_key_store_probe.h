// For tests of the signing-key ring: a real store seen through a window that counts the reads
// of the signing keys and can make them fail as an unreachable server does (Unavailable).
// Every other call goes to the store unchanged.
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "store/forwarding_store.h"

namespace keyward {

class SigningKeyStoreProbe final : public ForwardingStore {
 public:
  explicit SigningKeyStoreProbe(Store& store) : ForwardingStore(store) {}

  // ListSigningKeys calls so far, failed ones included.
  int signing_key_reads() const { return reads_.load(); }
  // While down, ListSigningKeys and AddSigningKey answer Unavailable.
  void set_down(bool down) { down_.store(down); }

  Result<std::vector<SigningKeyRecord>> ListSigningKeys() override {
    reads_.fetch_add(1);
    if (down_.load()) return Status::Unavailable("the store is down (test)");
    return store_.ListSigningKeys();
  }
  Status AddSigningKey(const SigningKeyRecord& key, UnixSeconds retire_others_at) override {
    if (down_.load()) return Status::Unavailable("the store is down (test)");
    return store_.AddSigningKey(key, retire_others_at);
  }

 private:
  std::atomic<int> reads_{0};
  std::atomic<bool> down_{false};
};

}  // namespace keyward
