// Internal to the PostgreSQL backend (postgres_store.cc): the parts of PostgresStore kept in
// files of their own, as functions on a borrowed connection. The store runs each inside its
// Write (BEGIN ... COMMIT, retried once on a lost connection: so they only return what they
// produce, never change the caller's state) or Read. Errors follow store.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/key_record.h"
#include "core/usage.h"
#include "core/webhook.h"
#include "store/postgres/pg_connection.h"
#include "store/rows.h"
#include "store/store.h"

namespace keyward::pg {

// The SELECT after a data-modifying CTE `cte` that returns (id, hash) of api_keys rows: NOTIFY
// `channel` of each key's current secret and of every old one, a row each (so none: no key).
// The old secrets are read in the statement's snapshot, before a delete's cascade.
#define KW_PG_NOTIFY_SECRETS_OF(cte, channel)                                                 \
  " SELECT pg_notify(" channel ", 'k:' || encode(s.hash, 'hex')) FROM (SELECT hash FROM " cte \
  " UNION ALL SELECT r.hash FROM rotated_secrets r JOIN " cte " c ON r.key_id = c.id) AS s"

// Row `r` of a result.
class ResultRow final : public RowReader {
 public:
  ResultRow(const Rows& rows, int r) : rows_(rows), r_(r) {}
  std::string Text(int column) const override { return rows_.Bytes(r_, column); }
  std::string Blob(int column) const override { return rows_.Bytes(r_, column); }
  std::int64_t Int(int column) const override { return rows_.Int(r_, column); }
  bool IsNull(int column) const override { return rows_.IsNull(r_, column); }

 private:
  const Rows& rows_;
  int r_;
};

// --- postgres_webhooks.cc --- (in a Write unless marked Read)
// Appends and fans out `events` (Store::AppendEvents), in the caller's transaction; with `ids`,
// appends the id each event got to it, in order.
Status InsertEvents(Connection& conn, const EventList& events,
                    std::vector<std::int64_t>* ids = nullptr);
Status CreateWebhook(Connection& conn, const Webhook& webhook);
Result<std::vector<Webhook>> ListWebhooks(Connection& conn);        // Read
Result<Webhook> GetWebhook(Connection& conn, std::string_view id);  // Read
Status DeleteWebhook(Connection& conn, std::string_view id);
Result<std::vector<Delivery>> ClaimDeliveries(Connection& conn, UnixSeconds now,
                                              UnixSeconds lease_until, int limit);
Status FinishDelivery(Connection& conn, std::int64_t id, const DeliveryOutcome& outcome);
Result<std::vector<Delivery>> ListDeliveries(Connection& conn, std::string_view webhook_id,
                                             int limit);  // Read
Result<std::int64_t> PruneEvents(Connection& conn, UnixSeconds before);

// --- postgres_key_lifecycle.cc --- (in a Write unless marked Read). Those that make a secret
// stop working NOTIFY `k:<hex>` on kInvalidateChannel for it (pg_listener.h).
Status RotateKey(Connection& conn, std::string_view user_id, std::string_view name,
                 std::string_view expected_hash, const KeyRecord& next, const OldSecret& old,
                 const EventList& events);
Status UpdateKey(Connection& conn, std::string_view user_id, std::string_view name,
                 std::int64_t expected_revision, const KeyUpdate& update, const EventList& events);
Result<std::vector<KeyRecord>> ListKeysToWarn(Connection& conn, UnixSeconds now,
                                              std::int64_t within, int limit);  // Read
Result<std::vector<KeyRecord>> ListKeysExpiredUnannounced(Connection& conn, UnixSeconds now,
                                                          int limit);  // Read
Result<std::vector<KeyRecord>> ListIdleKeys(Connection& conn, UnixSeconds now,
                                            int limit);  // Read
Result<bool> AnnounceExpiry(Connection& conn, std::string_view hash, std::int64_t within,
                            const EventList& events);
Result<bool> RevokeIdleKey(Connection& conn, std::string_view hash, UnixSeconds unused_since,
                           const EventList& events);
Result<std::int64_t> PruneOldSecrets(Connection& conn, UnixSeconds now);

// --- postgres_usage.cc --- (store.h, issue 16)
// In a Write: the deltas' keys are locked in key id order, so two nodes' flushes cannot deadlock.
Status RecordUsage(Connection& conn, const std::vector<UsageDelta>& deltas);
Result<KeyUsage> GetUsage(Connection& conn, std::string_view user_id, std::string_view name,
                          UnixSeconds since, UnixSeconds until);  // Read
Result<std::vector<KeyUsageTotal>> TopUsage(Connection& conn, UsageRanking by, UnixSeconds since,
                                            int limit);  // Read
Result<std::int64_t> PruneUsage(Connection& conn, UnixSeconds before);

// --- postgres_sign_in.cc --- (store.h, issue 19)
// In a Write. Each counter is taken by an upsert (INSERT ... ON CONFLICT DO UPDATE), which locks
// its row whether it existed, was being inserted by another node (then it waits for that one) or
// not; in SignInLockOrder. Returns false when `update` changed nothing: the caller rolls back.
Result<bool> UpdateSignInCounters(Connection& conn, const std::vector<std::string>& subjects,
                                  const SignInCounterUpdate& update);
Result<std::int64_t> PruneSignInCounters(Connection& conn, UnixSeconds now);

}  // namespace keyward::pg
