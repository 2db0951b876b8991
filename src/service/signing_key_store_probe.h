// For tests of the signing-key ring: a real store seen through a window that counts the reads
// of the signing keys and can make them fail as an unreachable server does (Unavailable).
// Every other call goes to the store unchanged.
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace keyward {

class SigningKeyStoreProbe final : public Store {
 public:
  explicit SigningKeyStoreProbe(Store& store) : store_(store) {}

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

  Status CreateUser(const User& user) override { return store_.CreateUser(user); }
  Result<User> GetUser(std::string_view id) override { return store_.GetUser(id); }
  Result<std::vector<User>> ListUsers() override { return store_.ListUsers(); }
  Status DeleteUser(std::string_view id) override { return store_.DeleteUser(id); }
  Status SetPasswordHash(std::string_view id, std::string_view hash) override {
    return store_.SetPasswordHash(id, hash);
  }
  Status AddTag(std::string_view id, std::string_view tag) override {
    return store_.AddTag(id, tag);
  }
  Status RemoveTag(std::string_view id, std::string_view tag) override {
    return store_.RemoveTag(id, tag);
  }
  Result<std::int64_t> CountUsers() override { return store_.CountUsers(); }
  Status CreateKey(const KeyRecord& key) override { return store_.CreateKey(key); }
  Result<std::vector<KeyRecord>> ListKeys(std::string_view user_id) override {
    return store_.ListKeys(user_id);
  }
  Result<KeyRecord> GetKey(std::string_view user_id, std::string_view name) override {
    return store_.GetKey(user_id, name);
  }
  Status DeleteKey(std::string_view user_id, std::string_view name) override {
    return store_.DeleteKey(user_id, name);
  }
  Result<KeyRecord> FindKeyByHash(std::string_view hash) override {
    return store_.FindKeyByHash(hash);
  }
  Status TouchKeys(const std::vector<std::pair<std::string, UnixSeconds>>& used) override {
    return store_.TouchKeys(used);
  }
  Status CreateSession(const SessionRecord& session) override {
    return store_.CreateSession(session);
  }
  Result<SessionRecord> FindSessionByHash(std::string_view hash) override {
    return store_.FindSessionByHash(hash);
  }
  Status DeleteSession(std::string_view hash) override { return store_.DeleteSession(hash); }
  Result<std::int64_t> DeleteExpiredSessions(UnixSeconds now) override {
    return store_.DeleteExpiredSessions(now);
  }
  Result<std::int64_t> AppendAudit(const AuditEvent& event) override {
    return store_.AppendAudit(event);
  }
  Result<std::vector<AuditEvent>> ListAudit(const AuditFilter& filter) override {
    return store_.ListAudit(filter);
  }
  Result<KeyRecord> FindKeyByHashPrefix(std::string_view prefix) override {
    return store_.FindKeyByHashPrefix(prefix);
  }
  Result<SessionRecord> FindSessionByHashPrefix(std::string_view prefix) override {
    return store_.FindSessionByHashPrefix(prefix);
  }

 private:
  Store& store_;
  std::atomic<int> reads_{0};
  std::atomic<bool> down_{false};
};

}  // namespace keyward
