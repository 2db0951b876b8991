// SQLite: rotation, edits and the housekeeper's calls on keys (sqlite_store_parts.h).
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "store/rows.h"
#include "store/sqlite/sqlite_store_parts.h"

namespace keyward::sqlite {
namespace {

// Only string literals reach SQLite; every value is a bound parameter.
constexpr char kKeyIdAndHash[] = "SELECT id, hash FROM api_keys WHERE user_id = ?1 AND name = ?2";
constexpr char kRotate[] =
    "UPDATE api_keys SET hash = ?2, sealed = ?3, masked = ?4, expires_at = ?5, rotated_at = ?6,"
    " last_used_at = 0, announced_within = -1, revision = revision + 1 WHERE id = ?1";
constexpr char kInsertOldSecret[] =
    "INSERT INTO rotated_secrets (key_id, " KW_ROW_OLD_SECRET_COLUMNS(
        "") ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
// Each field: a flag (1: set it) and its value; setting expires_at resets announced_within.
constexpr char kUpdate[] =
    "UPDATE api_keys SET"
    " name = CASE WHEN ?3 = 1 THEN ?4 ELSE name END,"
    " description = CASE WHEN ?5 = 1 THEN ?6 ELSE description END,"
    " expires_at = CASE WHEN ?7 = 1 THEN ?8 ELSE expires_at END,"
    " announced_within = CASE WHEN ?7 = 1 THEN -1 ELSE announced_within END,"
    " scopes = CASE WHEN ?9 = 1 THEN ?10 ELSE scopes END,"
    " tags = CASE WHEN ?9 = 1 THEN ?11 ELSE tags END,"
    " allowed_addresses = CASE WHEN ?9 = 1 THEN ?12 ELSE allowed_addresses END,"
    " full_access = CASE WHEN ?9 = 1 THEN ?13 ELSE full_access END,"
    " disabled = CASE WHEN ?14 = 1 THEN ?15 ELSE disabled END,"
    " idle_timeout = CASE WHEN ?16 = 1 THEN ?17 ELSE idle_timeout END,"
    " revoke_on_reuse = CASE WHEN ?18 = 1 THEN ?19 ELSE revoke_on_reuse END,"
    " rate_limit_requests = CASE WHEN ?21 = 1 THEN ?22 ELSE rate_limit_requests END,"
    " rate_limit_per = CASE WHEN ?21 = 1 THEN ?23 ELSE rate_limit_per END,"
    " revision = revision + 1"
    " WHERE user_id = ?1 AND name = ?2 AND revision = ?20";
constexpr char kKeysToWarn[] = KW_ROW_KEYS_TO_WARN("?1", "?2", "?3");
constexpr char kKeysExpiredUnannounced[] = KW_ROW_KEYS_EXPIRED_UNANNOUNCED("?1", "?2");
constexpr char kIdleKeys[] = KW_ROW_IDLE_KEYS("max", "?1", "?2");
constexpr char kAnnounce[] =
    "UPDATE api_keys SET announced_within = ?2"
    " WHERE hash = ?1 AND (announced_within = -1 OR announced_within > ?2)";
constexpr char kRevokeIdle[] =
    "DELETE FROM api_keys WHERE hash = ?1 AND created_at < ?2 AND rotated_at < ?2"
    " AND last_used_at < ?2";
constexpr char kPruneOldSecrets[] = "DELETE FROM rotated_secrets WHERE expires_at <= ?1";

// Binds `value` at `index` and its flag at index - 1: set or not.
template <typename T, typename BindFn>
void BindOptional(Statement& s, int index, const std::optional<T>& value, BindFn bind) {
  s.BindInt(index - 1, value ? 1 : 0);
  if (value) {
    bind(index, *value);
  } else {
    s.BindNull(index);
  }
}

// Runs a single-statement change (with its events if a row changed) in one transaction; true
// when a row changed.
template <typename Bind>
Result<bool> ChangeWithEvents(Connection& db, const char* sql, const EventList& events, Bind bind) {
  Transaction transaction(db);
  KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
  {
    KW_ASSIGN_OR_RETURN(Statement statement, db.Prepare(sql));
    bind(statement);
    KW_RETURN_IF_ERROR(statement.Run());
    if (statement.Changes() == 0) return false;
  }
  KW_RETURN_IF_ERROR(InsertEvents(db, events));
  KW_RETURN_IF_ERROR(transaction.Commit());
  return true;
}

// The keys (KW_ROW_KEY_COLUMNS rows) `sql` selects with `params` bound as ?1, ?2, ...
Result<std::vector<KeyRecord>> ReadKeys(Connection& db, const char* sql,
                                        std::initializer_list<std::int64_t> params) {
  KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(sql));
  int index = 0;
  for (std::int64_t param : params) select.BindInt(++index, param);
  std::vector<KeyRecord> keys;
  while (true) {
    KW_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return keys;
    keys.push_back(ReadKey(StatementRow(select)));
  }
}

}  // namespace

Status RotateKey(Connection& db, std::string_view user_id, std::string_view name,
                 std::string_view expected_hash, const KeyRecord& next, const OldSecret& old,
                 const EventList& events) {
  Transaction transaction(db);
  KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
  std::int64_t id = 0;
  {
    KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kKeyIdAndHash));
    select.BindText(1, user_id);
    select.BindText(2, name);
    KW_ASSIGN_OR_RETURN(bool found, select.Step());
    if (!found) return Status::NotFound("key not found");
    if (select.ColumnBlob(1) != expected_hash) {
      return Status::FailedPrecondition("the key was changed meanwhile; try again");
    }
    id = select.ColumnInt(0);
  }
  {
    KW_ASSIGN_OR_RETURN(Statement update, db.Prepare(kRotate));
    update.BindInt(1, id);
    update.BindBlob(2, next.hash);
    update.BindBlob(3, next.sealed);
    update.BindText(4, next.masked);
    update.BindInt(5, next.expires_at);
    update.BindInt(6, next.rotated_at);
    KW_RETURN_IF_ERROR(update.Run());
  }
  {
    KW_ASSIGN_OR_RETURN(Statement insert, db.Prepare(kInsertOldSecret));
    insert.BindInt(1, id);
    insert.BindBlob(2, old.hash);
    insert.BindText(3, old.masked);
    insert.BindInt(4, old.rotated_at);
    insert.BindInt(5, old.grace_until);
    insert.BindInt(6, old.retire_when_idle);
    insert.BindInt(7, old.last_used_at);
    insert.BindInt(8, old.expires_at);
    KW_RETURN_IF_ERROR(insert.Run());
  }
  KW_RETURN_IF_ERROR(InsertEvents(db, events));
  return transaction.Commit();
}

Status UpdateKey(Connection& db, std::string_view user_id, std::string_view name,
                 std::int64_t expected_revision, const KeyUpdate& update, const EventList& events) {
  std::optional<GrantColumns> grant;
  if (update.grant) {
    KW_ASSIGN_OR_RETURN(grant, WriteGrant(*update.grant));
  }
  auto text = [](Statement& s) { return [&s](int i, std::string_view v) { s.BindText(i, v); }; };
  auto integer = [](Statement& s) { return [&s](int i, std::int64_t v) { s.BindInt(i, v); }; };
  Result<bool> changed = ChangeWithEvents(db, kUpdate, events, [&](Statement& s) {
    s.BindText(1, user_id);
    s.BindText(2, name);
    BindOptional(s, 4, update.name, text(s));
    BindOptional(s, 6, update.description, text(s));
    BindOptional(s, 8, update.expires_at, integer(s));
    s.BindInt(9, grant ? 1 : 0);
    s.BindText(10, grant ? grant->scopes : "");
    if (grant && grant->tags) {
      s.BindText(11, *grant->tags);
    } else {
      s.BindNull(11);
    }
    s.BindText(12, grant ? grant->allowed_addresses : "");
    s.BindInt(13, grant ? grant->full_access : 0);
    std::optional<std::int64_t> disabled, revoke;
    if (update.disabled) disabled = *update.disabled ? 1 : 0;
    if (update.revoke_on_reuse) revoke = *update.revoke_on_reuse ? 1 : 0;
    BindOptional(s, 15, disabled, integer(s));
    BindOptional(s, 17, update.idle_timeout, integer(s));
    BindOptional(s, 19, revoke, integer(s));
    s.BindInt(20, expected_revision);
    const RateLimit limit = StoredRateLimit(update.rate_limit.value_or(RateLimit{}));
    s.BindInt(21, update.rate_limit ? 1 : 0);
    s.BindInt(22, limit.requests);
    s.BindInt(23, limit.per);
  });
  if (!changed.ok()) {
    return Reword(changed.status(), StatusCode::kAlreadyExists,
                  "a key with this name already exists");
  }
  if (*changed) return Status::Ok();
  // No row changed: the key is gone, or its revision moved on (NotFound wins: a key deleted
  // meanwhile cannot be changed by trying again).
  KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kKeyIdAndHash));
  select.BindText(1, user_id);
  select.BindText(2, name);
  KW_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return Status::NotFound("key not found");
  return Status::FailedPrecondition("the key was changed meanwhile; try again");
}

Result<std::vector<KeyRecord>> ListKeysToWarn(Connection& db, UnixSeconds now, std::int64_t within,
                                              int limit) {
  return ReadKeys(db, kKeysToWarn, {now, within, limit});
}

Result<std::vector<KeyRecord>> ListKeysExpiredUnannounced(Connection& db, UnixSeconds now,
                                                          int limit) {
  return ReadKeys(db, kKeysExpiredUnannounced, {now, limit});
}

Result<std::vector<KeyRecord>> ListIdleKeys(Connection& db, UnixSeconds now, int limit) {
  return ReadKeys(db, kIdleKeys, {now, limit});
}

Result<bool> AnnounceExpiry(Connection& db, std::string_view hash, std::int64_t within,
                            const EventList& events) {
  return ChangeWithEvents(db, kAnnounce, events, [&](Statement& s) {
    s.BindBlob(1, hash);
    s.BindInt(2, within);
  });
}

Result<bool> RevokeIdleKey(Connection& db, std::string_view hash, UnixSeconds unused_since,
                           const EventList& events) {
  return ChangeWithEvents(db, kRevokeIdle, events, [&](Statement& s) {
    s.BindBlob(1, hash);
    s.BindInt(2, unused_since);
  });
}

Result<std::int64_t> PruneOldSecrets(Connection& db, UnixSeconds now) {
  KW_ASSIGN_OR_RETURN(Statement remove, db.Prepare(kPruneOldSecrets));
  remove.BindInt(1, now);
  KW_RETURN_IF_ERROR(remove.Run());
  return remove.Changes();
}

}  // namespace keyward::sqlite
