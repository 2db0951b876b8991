// PostgreSQL: rotation, edits and the housekeeper's calls on keys (postgres_store_parts.h).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/postgres/pg_listener.h"
#include "store/postgres/postgres_store_parts.h"
#include "store/rows.h"

namespace keyward::pg {
namespace {

// Only string literals reach PostgreSQL; every value is a parameter.
constexpr char kRotate[] =
    "UPDATE api_keys SET hash = $4, sealed = $5, masked = $6, expires_at = $7, rotated_at = $8,"
    " last_used_at = 0, announced_within = -1, revision = revision + 1"
    " WHERE user_id = $1 AND name = $2 AND hash = $3"
    " RETURNING id";
constexpr char kKeyExists[] = "SELECT 1 FROM api_keys WHERE user_id = $1 AND name = $2";
constexpr char kInsertOldSecret[] =
    "INSERT INTO rotated_secrets (key_id, " KW_ROW_OLD_SECRET_COLUMNS(
        "") ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
constexpr char kNotifyHash[] = "SELECT pg_notify($1, 'k:' || encode($2, 'hex'))";
// Each field: a flag (1: set it) and its value; setting expires_at resets announced_within.
// Every secret of the key is announced: a rename, a narrower grant, a shorter expiry or a
// disable must reach every node's cache.
constexpr char kUpdate[] =
    "WITH changed AS (UPDATE api_keys SET"
    " name = CASE WHEN $3 = 1 THEN $4 ELSE name END,"
    " description = CASE WHEN $5 = 1 THEN $6 ELSE description END,"
    " expires_at = CASE WHEN $7 = 1 THEN $8 ELSE expires_at END,"
    " announced_within = CASE WHEN $7 = 1 THEN -1 ELSE announced_within END,"
    " scopes = CASE WHEN $9 = 1 THEN $10 ELSE scopes END,"
    " tags = CASE WHEN $9 = 1 THEN $11 ELSE tags END,"
    " allowed_addresses = CASE WHEN $9 = 1 THEN $12 ELSE allowed_addresses END,"
    " full_access = CASE WHEN $9 = 1 THEN $13 ELSE full_access END,"
    " disabled = CASE WHEN $14 = 1 THEN $15 ELSE disabled END,"
    " idle_timeout = CASE WHEN $16 = 1 THEN $17 ELSE idle_timeout END,"
    " revoke_on_reuse = CASE WHEN $18 = 1 THEN $19 ELSE revoke_on_reuse END,"
    " rate_limit_requests = CASE WHEN $22 = 1 THEN $23 ELSE rate_limit_requests END,"
    " rate_limit_per = CASE WHEN $22 = 1 THEN $24 ELSE rate_limit_per END,"
    " revision = revision + 1"
    " WHERE user_id = $1 AND name = $2 AND revision = $21 RETURNING id, "
    "hash)" KW_PG_NOTIFY_SECRETS_OF("changed", "$20");
constexpr char kKeysToWarn[] = KW_ROW_KEYS_TO_WARN("$1", "$2", "$3");
constexpr char kKeysExpiredUnannounced[] = KW_ROW_KEYS_EXPIRED_UNANNOUNCED("$1", "$2");
constexpr char kIdleKeys[] = KW_ROW_IDLE_KEYS("GREATEST", "$1", "$2");
constexpr char kAnnounce[] =
    "UPDATE api_keys SET announced_within = $2"
    " WHERE hash = $1 AND (announced_within = -1 OR announced_within > $2)";
constexpr char kRevokeIdle[] =
    "WITH gone AS (DELETE FROM api_keys WHERE hash = $1 AND created_at < $2 AND rotated_at < $2"
    " AND last_used_at < $2 RETURNING id, hash)" KW_PG_NOTIFY_SECRETS_OF("gone", "$3");
constexpr char kPruneOldSecrets[] = "DELETE FROM rotated_secrets WHERE expires_at <= $1";

Params& OptionalText(Params& params, const std::optional<std::string>& value) {
  params.Int(value ? 1 : 0);
  return value ? params.Text(*value) : params.NullText();
}

template <typename T>
Params& OptionalInt(Params& params, const std::optional<T>& value) {
  params.Int(value ? 1 : 0);
  return params.Int(value ? static_cast<std::int64_t>(*value) : 0);
}

// The keys (KW_ROW_KEY_COLUMNS rows) `sql` selects with `params`.
Result<std::vector<KeyRecord>> ReadKeys(Connection& conn, const char* sql, const Params& params) {
  KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(sql, params));
  std::vector<KeyRecord> keys;
  keys.reserve(rows.size());
  for (int r = 0; r < rows.size(); ++r) keys.push_back(ReadKey(ResultRow(rows, r)));
  return keys;
}

}  // namespace

Status RotateKey(Connection& conn, std::string_view user_id, std::string_view name,
                 std::string_view expected_hash, const KeyRecord& next, const OldSecret& old,
                 const EventList& events) {
  // The update is the compare-and-swap: a rotation committed meanwhile changed the hash, and
  // the row lock makes a concurrent one wait, then find the new hash.
  Params rotate;
  rotate.Text(user_id).Text(name).Bytes(expected_hash).Bytes(next.hash).Bytes(next.sealed);
  rotate.Text(next.masked).Int(next.expires_at).Int(next.rotated_at);
  KW_ASSIGN_OR_RETURN(Rows rotated, conn.Prepared(kRotate, rotate));
  if (rotated.size() == 0) {
    KW_ASSIGN_OR_RETURN(Rows exists, conn.Prepared(kKeyExists, Params().Text(user_id).Text(name)));
    if (exists.size() == 0) return Status::NotFound("key not found");
    return Status::FailedPrecondition("the key was changed meanwhile; try again");
  }
  Params insert;
  insert.Int(rotated.Int(0, 0)).Bytes(old.hash).Text(old.masked).Int(old.rotated_at);
  insert.Int(old.grace_until).Int(old.retire_when_idle).Int(old.last_used_at).Int(old.expires_at);
  KW_RETURN_IF_ERROR(conn.Prepared(kInsertOldSecret, insert).status());
  KW_RETURN_IF_ERROR(
      conn.Prepared(kNotifyHash, Params().Text(kInvalidateChannel).Bytes(expected_hash)).status());
  return InsertEvents(conn, events);
}

Status UpdateKey(Connection& conn, std::string_view user_id, std::string_view name,
                 std::int64_t expected_revision, const KeyUpdate& update, const EventList& events) {
  std::optional<GrantColumns> grant;
  if (update.grant) {
    KW_ASSIGN_OR_RETURN(grant, WriteGrant(*update.grant));
  }
  Params params;
  params.Text(user_id).Text(name);
  OptionalText(params, update.name);
  OptionalText(params, update.description);
  OptionalInt(params, update.expires_at);
  params.Int(grant ? 1 : 0).Text(grant ? grant->scopes : "");
  if (grant && grant->tags) {
    params.Text(*grant->tags);
  } else {
    params.NullText();
  }
  params.Text(grant ? grant->allowed_addresses : "").Int(grant ? grant->full_access : 0);
  OptionalInt(params, update.disabled);
  OptionalInt(params, update.idle_timeout);
  OptionalInt(params, update.revoke_on_reuse);
  params.Text(kInvalidateChannel).Int(expected_revision);
  const RateLimit limit = StoredRateLimit(update.rate_limit.value_or(RateLimit{}));
  params.Int(update.rate_limit ? 1 : 0).Int(limit.requests).Int(limit.per);
  Result<Rows> rows = conn.Prepared(kUpdate, params);
  if (!rows.ok()) {
    return Reword(rows.status(), StatusCode::kAlreadyExists, "a key with this name already exists");
  }
  if (rows->size() == 0) {
    // The key is gone, or its revision moved on (the row lock makes a concurrent edit wait,
    // then find the new revision).
    KW_ASSIGN_OR_RETURN(Rows exists, conn.Prepared(kKeyExists, Params().Text(user_id).Text(name)));
    if (exists.size() == 0) return Status::NotFound("key not found");
    return Status::FailedPrecondition("the key was changed meanwhile; try again");
  }
  return InsertEvents(conn, events);
}

Result<std::vector<KeyRecord>> ListKeysToWarn(Connection& conn, UnixSeconds now,
                                              std::int64_t within, int limit) {
  return ReadKeys(conn, kKeysToWarn, Params().Int(now).Int(within).Int(limit));
}

Result<std::vector<KeyRecord>> ListKeysExpiredUnannounced(Connection& conn, UnixSeconds now,
                                                          int limit) {
  return ReadKeys(conn, kKeysExpiredUnannounced, Params().Int(now).Int(limit));
}

Result<std::vector<KeyRecord>> ListIdleKeys(Connection& conn, UnixSeconds now, int limit) {
  return ReadKeys(conn, kIdleKeys, Params().Int(now).Int(limit));
}

Result<bool> AnnounceExpiry(Connection& conn, std::string_view hash, std::int64_t within,
                            const EventList& events) {
  KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kAnnounce, Params().Bytes(hash).Int(within)));
  if (rows.Affected() == 0) return false;
  KW_RETURN_IF_ERROR(InsertEvents(conn, events));
  return true;
}

Result<bool> RevokeIdleKey(Connection& conn, std::string_view hash, UnixSeconds unused_since,
                           const EventList& events) {
  KW_ASSIGN_OR_RETURN(
      Rows rows,
      conn.Prepared(kRevokeIdle, Params().Bytes(hash).Int(unused_since).Text(kInvalidateChannel)));
  if (rows.size() == 0) return false;
  KW_RETURN_IF_ERROR(InsertEvents(conn, events));
  return true;
}

Result<std::int64_t> PruneOldSecrets(Connection& conn, UnixSeconds now) {
  KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kPruneOldSecrets, Params().Int(now)));
  return rows.Affected();
}

}  // namespace keyward::pg
