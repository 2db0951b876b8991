// Internal to the SQLite backend (sqlite_store.cc): the parts of SqliteStore kept in files of
// their own, as functions on its connection. The caller holds the store's mutex around each call
// (they use the connection's cached statements); each function is one transaction of its own
// unless it says it runs in the caller's. Errors follow store.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/key_record.h"
#include "core/usage.h"
#include "core/webhook.h"
#include "store/rows.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace keyward::sqlite {

// A row of a stepped statement.
class StatementRow final : public RowReader {
 public:
  explicit StatementRow(const Statement& statement) : statement_(statement) {}
  std::string Text(int column) const override { return statement_.ColumnText(column); }
  std::string Blob(int column) const override { return statement_.ColumnBlob(column); }
  std::int64_t Int(int column) const override { return statement_.ColumnInt(column); }
  bool IsNull(int column) const override { return statement_.ColumnIsNull(column); }

 private:
  const Statement& statement_;
};

// --- sqlite_webhooks.cc ---
// Appends and fans out `events` in the caller's write transaction (Store::AppendEvents); with
// `ids`, appends the id each event got to it, in order.
Status InsertEvents(Connection& db, const EventList& events,
                    std::vector<std::int64_t>* ids = nullptr);
Result<std::vector<std::int64_t>> AppendEvents(Connection& db, const EventList& events);
Status CreateWebhook(Connection& db, const Webhook& webhook);
Result<std::vector<Webhook>> ListWebhooks(Connection& db);
Result<Webhook> GetWebhook(Connection& db, std::string_view id);
Status DeleteWebhook(Connection& db, std::string_view id);
Result<std::vector<Delivery>> ClaimDeliveries(Connection& db, UnixSeconds now,
                                              UnixSeconds lease_until, int limit);
Status FinishDelivery(Connection& db, std::int64_t id, const DeliveryOutcome& outcome);
Result<std::vector<Delivery>> ListDeliveries(Connection& db, std::string_view webhook_id,
                                             int limit);
Result<std::int64_t> PruneEvents(Connection& db, UnixSeconds before);

// --- sqlite_key_lifecycle.cc ---
Status RotateKey(Connection& db, std::string_view user_id, std::string_view name,
                 std::string_view expected_hash, const KeyRecord& next, const OldSecret& old,
                 const EventList& events);
Status UpdateKey(Connection& db, std::string_view user_id, std::string_view name,
                 std::int64_t expected_revision, const KeyUpdate& update, const EventList& events);
Result<std::vector<KeyRecord>> ListKeysToWarn(Connection& db, UnixSeconds now, std::int64_t within,
                                              int limit);
Result<std::vector<KeyRecord>> ListKeysExpiredUnannounced(Connection& db, UnixSeconds now,
                                                          int limit);
Result<std::vector<KeyRecord>> ListIdleKeys(Connection& db, UnixSeconds now, int limit);
Result<bool> AnnounceExpiry(Connection& db, std::string_view hash, std::int64_t within,
                            const EventList& events);
Result<bool> RevokeIdleKey(Connection& db, std::string_view hash, UnixSeconds unused_since,
                           const EventList& events);
Result<std::int64_t> PruneOldSecrets(Connection& db, UnixSeconds now);

// --- sqlite_usage.cc --- (store.h, issue 16)
Status RecordUsage(Connection& db, const std::vector<UsageDelta>& deltas);
Result<KeyUsage> GetUsage(Connection& db, std::string_view user_id, std::string_view name,
                          UnixSeconds since, UnixSeconds until);
Result<std::vector<KeyUsageTotal>> TopUsage(Connection& db, UsageRanking by, UnixSeconds since,
                                            int limit);
Result<std::int64_t> PruneUsage(Connection& db, UnixSeconds before);

// --- sqlite_sign_in.cc --- (store.h, issue 19)
// In a write transaction (BEGIN IMMEDIATE): no other connection writes meanwhile, and one that
// reads what `update` decided sees it whole. Rolled back, never written, when `update` changes
// nothing.
Status UpdateSignInCounters(Connection& db, const std::vector<std::string>& subjects,
                            const SignInCounterUpdate& update);
Result<std::int64_t> PruneSignInCounters(Connection& db, UnixSeconds now);

}  // namespace keyward::sqlite
