// A Store that passes every call to another: the base of test windows on a real store
// (service/signing_key_store_probe.h) that change one or two calls and keep the rest.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace keyward {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& store) : store_(store) {}
  using Store::CreateKey;  // the overloads without events
  using Store::DeleteKey;

  Status CreateUser(const User& user) override { return store_.CreateUser(user); }
  Result<User> GetUser(std::string_view id) override { return store_.GetUser(id); }
  Result<std::vector<User>> ListUsers() override { return store_.ListUsers(); }
  Status DeleteUser(std::string_view id) override { return store_.DeleteUser(id); }
  Status SetPasswordHash(std::string_view id, std::string_view password_hash) override {
    return store_.SetPasswordHash(id, password_hash);
  }
  Status AddTag(std::string_view id, std::string_view tag) override {
    return store_.AddTag(id, tag);
  }
  Status RemoveTag(std::string_view id, std::string_view tag) override {
    return store_.RemoveTag(id, tag);
  }
  Result<std::int64_t> CountUsers() override { return store_.CountUsers(); }
  Status CreateKey(const KeyRecord& key, const EventList& events) override {
    return store_.CreateKey(key, events);
  }
  Result<std::vector<KeyRecord>> ListKeys(std::string_view user_id) override {
    return store_.ListKeys(user_id);
  }
  Result<KeyRecord> GetKey(std::string_view user_id, std::string_view name) override {
    return store_.GetKey(user_id, name);
  }
  Status DeleteKey(std::string_view user_id, std::string_view name,
                   const EventList& events) override {
    return store_.DeleteKey(user_id, name, events);
  }
  Result<KeyRecord> FindKeyByHash(std::string_view hash) override {
    return store_.FindKeyByHash(hash);
  }
  Status TouchKeys(const std::vector<std::pair<std::string, UnixSeconds>>& used) override {
    return store_.TouchKeys(used);
  }
  Status RotateKey(std::string_view user_id, std::string_view name, std::string_view expected_hash,
                   const KeyRecord& next, const OldSecret& old, const EventList& events) override {
    return store_.RotateKey(user_id, name, expected_hash, next, old, events);
  }
  Status UpdateKey(std::string_view user_id, std::string_view name, std::int64_t expected_revision,
                   const KeyUpdate& update, const EventList& events) override {
    return store_.UpdateKey(user_id, name, expected_revision, update, events);
  }
  Result<std::vector<KeyRecord>> ListKeysToWarn(UnixSeconds now, std::int64_t within,
                                                int limit) override {
    return store_.ListKeysToWarn(now, within, limit);
  }
  Result<std::vector<KeyRecord>> ListKeysExpiredUnannounced(UnixSeconds now, int limit) override {
    return store_.ListKeysExpiredUnannounced(now, limit);
  }
  Result<std::vector<KeyRecord>> ListIdleKeys(UnixSeconds now, int limit) override {
    return store_.ListIdleKeys(now, limit);
  }
  Result<bool> AnnounceExpiry(std::string_view hash, std::int64_t within,
                              const EventList& events) override {
    return store_.AnnounceExpiry(hash, within, events);
  }
  Result<bool> RevokeIdleKey(std::string_view hash, UnixSeconds unused_since,
                             const EventList& events) override {
    return store_.RevokeIdleKey(hash, unused_since, events);
  }
  Result<std::int64_t> PruneOldSecrets(UnixSeconds now) override {
    return store_.PruneOldSecrets(now);
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
  Status AddSigningKey(const SigningKeyRecord& key, UnixSeconds retire_others_at) override {
    return store_.AddSigningKey(key, retire_others_at);
  }
  Result<std::vector<SigningKeyRecord>> ListSigningKeys() override {
    return store_.ListSigningKeys();
  }
  Result<KeyRecord> FindKeyByHashPrefix(std::string_view prefix) override {
    return store_.FindKeyByHashPrefix(prefix);
  }
  Result<SessionRecord> FindSessionByHashPrefix(std::string_view prefix) override {
    return store_.FindSessionByHashPrefix(prefix);
  }
  Status CreateWebhook(const Webhook& webhook) override { return store_.CreateWebhook(webhook); }
  Result<std::vector<Webhook>> ListWebhooks() override { return store_.ListWebhooks(); }
  Result<Webhook> GetWebhook(std::string_view id) override { return store_.GetWebhook(id); }
  Status DeleteWebhook(std::string_view id) override { return store_.DeleteWebhook(id); }
  Result<std::vector<std::int64_t>> AppendEvents(const EventList& events) override {
    return store_.AppendEvents(events);
  }
  Result<std::vector<Delivery>> ClaimDeliveries(UnixSeconds now, UnixSeconds lease_until,
                                                int limit) override {
    return store_.ClaimDeliveries(now, lease_until, limit);
  }
  Status FinishDelivery(std::int64_t id, const DeliveryOutcome& outcome) override {
    return store_.FinishDelivery(id, outcome);
  }
  Result<std::vector<Delivery>> ListDeliveries(std::string_view webhook_id, int limit) override {
    return store_.ListDeliveries(webhook_id, limit);
  }
  Result<std::int64_t> PruneEvents(UnixSeconds before) override {
    return store_.PruneEvents(before);
  }
  Status RecordUsage(const std::vector<UsageDelta>& deltas) override {
    return store_.RecordUsage(deltas);
  }
  Result<KeyUsage> GetUsage(std::string_view user_id, std::string_view name, UnixSeconds since,
                            UnixSeconds until) override {
    return store_.GetUsage(user_id, name, since, until);
  }
  Result<std::vector<KeyUsageTotal>> TopUsage(UsageRanking by, UnixSeconds since,
                                              int limit) override {
    return store_.TopUsage(by, since, limit);
  }
  Result<std::int64_t> PruneUsage(UnixSeconds before) override { return store_.PruneUsage(before); }
  Status UpdateSignInCounters(const std::vector<std::string>& subjects,
                              const SignInCounterUpdate& update) override {
    return store_.UpdateSignInCounters(subjects, update);
  }
  Result<std::int64_t> PruneSignInCounters(UnixSeconds now) override {
    return store_.PruneSignInCounters(now);
  }
  Status CheckReady() override { return store_.CheckReady(); }
  void Subscribe(StoreEvents events) override { store_.Subscribe(std::move(events)); }

 protected:
  Store& store_;
};

}  // namespace keyward
