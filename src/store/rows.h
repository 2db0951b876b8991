// What the SQLite and PostgreSQL backends share in reading rows: one mapping from the columns of
// their SELECTs to records, and one way to reword a constraint's error.
//
// Pure functions; thread safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/audit_event.h"
#include "core/key_record.h"
#include "core/signing_key_record.h"
#include "core/usage.h"
#include "core/user.h"
#include "core/webhook.h"
#include "store/store.h"

namespace keyward {

// One result row of a backend, read by 0-based column index. Values are copied out.
class RowReader {
 public:
  virtual ~RowReader() = default;
  virtual std::string Text(int column) const = 0;
  virtual std::string Blob(int column) const = 0;
  virtual std::int64_t Int(int column) const = 0;
  virtual bool IsNull(int column) const = 0;
};

// The columns each Read function below expects, in its order: both backends' SELECTs name them
// with these (string literals only; KW_ROW_USER_COLUMNS takes a table prefix such as "u.").
#define KW_ROW_USER_COLUMNS(t) t "id, " t "name, " t "type, " t "password_hash, " t "created_at"
#define KW_ROW_KEY_COLUMNS_OF(t)                                                          \
  t "user_id, " t "name, " t "hash, " t "sealed, " t "masked, " t "created_at, " t        \
    "expires_at, " t "last_used_at, " t "scopes, " t "tags, " t "allowed_addresses, " t   \
    "full_access, " t "description, " t "disabled, " t "validity, " t "idle_timeout, " t  \
    "revoke_on_reuse, " t "rotated_at, " t "announced_within, " t "revision, " t          \
    "rate_limit_requests, " t "rate_limit_per, " t "first_used_at, " t "last_address, " t \
    "last_user_agent, " t "canary"
#define KW_ROW_KEY_COLUMNS KW_ROW_KEY_COLUMNS_OF("")
#define KW_ROW_KEY_COLUMN_COUNT 26
// CreateKey's values for the columns from revision on (after its 19 parameters), given the
// placeholders of the rate limit and of canary (V007): a new key has revision 0 and has not been
// used yet.
#define KW_ROW_NEW_KEY_TAIL(requests, per, canary) "0, " requests ", " per ", 0, '', '', " canary
// An old secret of a key (rotated_secrets), read from column KW_ROW_KEY_COLUMN_COUNT on.
#define KW_ROW_OLD_SECRET_COLUMNS(t)                                                  \
  t "hash, " t "masked, " t "rotated_at, " t "grace_until, " t "retire_when_idle, " t \
    "last_used_at, " t "expires_at"
#define KW_ROW_WEBHOOK_COLUMNS "id, url, events, users, sealed_secret, created_by, created_at"
// A delivery with its event: d is webhook_deliveries, e webhook_events. ClaimDeliveries adds
// w.url, w.sealed_secret (webhooks w) after them.
#define KW_ROW_DELIVERY_COLUMNS                                                                  \
  "d.id, d.webhook_id, e.id, e.type, e.occurred_at, e.user_id, e.data, e.only_webhook, d.state," \
  " d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error"
#define KW_ROW_DELIVERY_COLUMN_COUNT 14
#define KW_ROW_SESSION_COLUMNS "user_id, hash, created_at, expires_at"
#define KW_ROW_AUDIT_COLUMNS \
  "id, occurred_at, actor, action, user_id, target, address, outcome, reason, detail"
#define KW_ROW_SIGNING_KEY_COLUMNS \
  "generation, kid, alg, public_jwk, sealed_private, created_at, activates_at, retired_at"

// The SQL both backends run alike, but for their placeholders (`from`, `to`: "$1", "$2" or
// "?1", "?2"). The hash prefix lookups (Find*ByHashPrefix, over HashPrefixUpperBound's range): a
// range on the UNIQUE index, hash >= from AND hash < to (the OPEN form has no end, for a prefix
// of 0xff bytes), at most two rows: a second one means the prefix is ambiguous.
#define KW_ROW_PREFIX_RANGE(from, to) \
  " WHERE hash >= " from " AND hash < " to " ORDER BY hash LIMIT 2"
#define KW_ROW_PREFIX_OPEN(from) " WHERE hash >= " from " ORDER BY hash LIMIT 2"
// The same over old secrets: each key whose old secret's hash is in the range, with that secret
// (read with ReadKeyByOldSecret).
#define KW_ROW_KEY_BY_OLD_SECRET_PREFIX                                 \
  "SELECT " KW_ROW_KEY_COLUMNS_OF("k.") ", " KW_ROW_OLD_SECRET_COLUMNS( \
      "r.") " FROM rotated_secrets r JOIN api_keys k ON k.id = r.key_id"
#define KW_ROW_OLD_PREFIX_RANGE(from, to) \
  " WHERE r.hash >= " from " AND r.hash < " to " ORDER BY r.hash LIMIT 2"
#define KW_ROW_OLD_PREFIX_OPEN(from) " WHERE r.hash >= " from " ORDER BY r.hash LIMIT 2"
// A user's keys, or one (add " AND k.name = " name), each with its old secrets (LEFT JOIN: NULL
// old secret columns for none), in the order ListKeys wants; read with AddKeyRow.
#define KW_ROW_KEYS_WITH_OLD_SECRETS(user) \
  "SELECT " KW_ROW_KEY_COLUMNS_OF("k.") ", " KW_ROW_OLD_SECRET_COLUMNS(                        \
      "r.") " FROM api_keys k LEFT JOIN rotated_secrets r ON r.key_id = k.id WHERE k.user_id " \
            "= " user
#define KW_ROW_KEYS_WITH_OLD_SECRETS_ORDER \
  " ORDER BY k.created_at, k.name, r.rotated_at DESC, r.expires_at DESC, r.hash"
// The key an old secret belongs to, with that secret.
#define KW_ROW_KEY_BY_OLD_SECRET(hash)                                  \
  "SELECT " KW_ROW_KEY_COLUMNS_OF("k.") ", " KW_ROW_OLD_SECRET_COLUMNS( \
      "r.") " FROM rotated_secrets r JOIN api_keys k ON k.id = r.key_id WHERE r.hash = " hash
// The housekeeper's lists (Store::ListKeysToWarn, ListKeysExpiredUnannounced, ListIdleKeys);
// `greatest` is the backend's many-argument max (max / GREATEST).
#define KW_ROW_KEYS_DUE_ORDER(limit) " ORDER BY expires_at, id LIMIT " limit
#define KW_ROW_KEYS_TO_WARN(now, within, limit)                                                   \
  "SELECT " KW_ROW_KEY_COLUMNS " FROM api_keys WHERE expires_at > " now " AND expires_at <= " now \
  " + " within " AND (announced_within = -1 OR announced_within > " within                        \
  ")" KW_ROW_KEYS_DUE_ORDER(limit)
#define KW_ROW_KEYS_EXPIRED_UNANNOUNCED(now, limit)                                               \
  "SELECT " KW_ROW_KEY_COLUMNS " FROM api_keys WHERE expires_at <= " now " AND expires_at > " now \
  " - 86400 AND announced_within <> 0" KW_ROW_KEYS_DUE_ORDER(limit)
#define KW_ROW_IDLE_KEYS(greatest, now, limit)                                       \
  "SELECT " KW_ROW_KEY_COLUMNS " FROM api_keys WHERE idle_timeout > 0 AND " greatest \
  "(created_at, rotated_at, last_used_at) + idle_timeout <= " now                    \
  KW_ROW_KEYS_DUE_ORDER(limit)
// Store::AppendEvents's fan-out of the event `event` (its id) made at `time`: `find` is the
// backend's substring search (instr / strpos); never LIKE, ids hold '_'.
#define KW_ROW_LIST_HOLDS(find, list, item) \
  find "(' ' || " list " || ' ', ' ' || " item " || ' ') > 0"
#define KW_ROW_FAN_OUT(find, event, time, type, user, only)                                 \
  "INSERT INTO webhook_deliveries (webhook_id, event_id, state, attempts, next_attempt_at)" \
  " SELECT w.id, " event ", 'pending', 0, " time " FROM webhooks w WHERE (" only            \
  " <> '' AND w.id = " only ") OR (" only " = '' AND (w.events = '' OR " KW_ROW_LIST_HOLDS( \
      find, "w.events", type) ") AND (w.users = '' OR " KW_ROW_LIST_HOLDS(find, "w.users",  \
                                                                          user) "))"
#define KW_ROW_INSERT_EVENT(type, time, user, data, only)                                     \
  "INSERT INTO webhook_events (type, occurred_at, user_id, data, only_webhook) VALUES (" type \
  ", " time ", " user ", " data ", " only ") RETURNING id"
// Store::ClaimDeliveries's one-in-flight rule: the delivery `d` is due (pending, next attempt and
// lease run out by `now`), no delivery of its webhook is leased beyond `now` (in flight), and it
// is that webhook's first due one (by next_attempt_at, then id).
#define KW_ROW_WEBHOOK_IDLE(webhook, now)                                        \
  "NOT EXISTS (SELECT 1 FROM webhook_deliveries f WHERE f.webhook_id = " webhook \
  " AND f.state = 'pending' AND f.lease_until > " now ")"
#define KW_ROW_DUE(t, now) \
  t "state = 'pending' AND " t "next_attempt_at <= " now " AND " t "lease_until <= " now
#define KW_ROW_FIRST_DUE_OF_WEBHOOK(now) \
  KW_ROW_DUE("d.", now) " AND " KW_ROW_WEBHOOK_IDLE("d.webhook_id", now)                       \
  " AND d.id = (SELECT b.id FROM webhook_deliveries b WHERE b.webhook_id = d.webhook_id AND " \
  KW_ROW_DUE("b.", now) " ORDER BY b.next_attempt_at, b.id LIMIT 1)"
#define KW_ROW_LIST_DELIVERIES(webhook, limit)                                                \
  "SELECT " KW_ROW_DELIVERY_COLUMNS                                                           \
  " FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.webhook_id " \
  "= " webhook " ORDER BY e.occurred_at DESC, d.id DESC LIMIT " limit
#define KW_ROW_FINISH_DELIVERY(id, state, next, at, status, error)                \
  "UPDATE webhook_deliveries SET attempts = attempts + 1, state = " state         \
  ", next_attempt_at = " next ", last_attempt_at = " at ", last_status = " status \
  ", last_error = " error ", lease_until = 0 WHERE id = " id
#define KW_ROW_PRUNE_EVENTS(before)                                                          \
  "DELETE FROM webhook_events WHERE occurred_at < " before                                   \
  " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id" \
  " AND d.state = 'pending')"

// --- usage (issue 16; migration V006) ---
// The counts of a key_usage row, in UsageOutcome's order.
#define KW_ROW_USAGE_COUNTS(t)                                                                   \
  t "allowed, " t "expired, " t "revoked, " t "disabled, " t "scope, " t "tag, " t "address, " t \
    "rate_limited"
#define KW_ROW_USAGE_DENIED(t)                                                               \
  "(" t "expired + " t "revoked + " t "disabled + " t "scope + " t "tag + " t "address + " t \
  "rate_limited)"
// The id of the key whose current or old secret has the hash `hash` (no row: unknown).
#define KW_ROW_KEY_ID_OF_SECRET(hash)          \
  "SELECT id FROM api_keys WHERE hash = " hash \
  " UNION ALL SELECT key_id FROM rotated_secrets WHERE hash = " hash " LIMIT 1"
// Adds a delta to its hour: `source` (VALUES or SELECT) gives (key_id, hour_start, counts...);
// an hour already stored (by this node or another) gets the counts added.
#define KW_ROW_USAGE_PLUS(c) c " = key_usage." c " + excluded." c
#define KW_ROW_USAGE_SUMS \
  KW_ROW_USAGE_PLUS("allowed") ", " KW_ROW_USAGE_PLUS("expired") ", " KW_ROW_USAGE_PLUS( \
      "revoked") ", " KW_ROW_USAGE_PLUS("disabled") ", " KW_ROW_USAGE_PLUS("scope")        \
      ", " KW_ROW_USAGE_PLUS("tag") ", " KW_ROW_USAGE_PLUS("address") ", "                 \
      KW_ROW_USAGE_PLUS("rate_limited")
#define KW_ROW_ADD_USAGE(source)                                     \
  "INSERT INTO key_usage (key_id, hour_start, " KW_ROW_USAGE_COUNTS( \
      "") ") " source " ON CONFLICT (key_id, hour_start) DO UPDATE SET " KW_ROW_USAGE_SUMS
// The client of a presentation at `at` (> 0) of key `id`: the latest one seen wins (a flush of
// an older one leaves them), and first_used_at goes back to the earliest. `greatest` is the
// backend's many-argument max (max / GREATEST). SET reads the row as it was.
#define KW_ROW_NOTE_CLIENT(greatest, id, at, address, agent)                                 \
  "UPDATE api_keys SET last_address = CASE WHEN " at " >= last_client_at THEN " address      \
  " ELSE last_address END, last_user_agent = CASE WHEN " at " >= last_client_at THEN " agent \
  " ELSE last_user_agent END, last_client_at = " greatest "(last_client_at, " at             \
  "), first_used_at = CASE WHEN first_used_at = 0 OR first_used_at > " at " THEN " at        \
  " ELSE first_used_at END WHERE id = " id
// Store::GetUsage in one statement (one snapshot): a row per stored hour in [since, until),
// ascending, each with the key's summary; one row with NULL hour columns when it has none; no
// row when the key is absent. Read with AddUsageRow.
#define KW_ROW_USAGE_SUMMARY "k.first_used_at, k.last_used_at, k.last_address, k.last_user_agent"
#define KW_ROW_KEY_USAGE(user, name, since, until)                                                 \
  "SELECT " KW_ROW_USAGE_SUMMARY ", u.hour_start, " KW_ROW_USAGE_COUNTS(                           \
      "u.") " FROM api_keys k LEFT JOIN key_usage u ON u.key_id = k.id AND u.hour_start >= " since \
            " AND u.hour_start < " until " WHERE k.user_id = " user " AND k.name = " name          \
            " ORDER BY u.hour_start"
// Store::TopUsage ranked by `rank` (KW_ROW_USAGE_BY_REQUESTS or _BY_DENIED): keys with a
// positive rank since `since`, highest first, then by user id and name (byte order in both
// backends). Read with ReadUsageTotal.
#define KW_ROW_USAGE_BY_REQUESTS "SUM(u.allowed + " KW_ROW_USAGE_DENIED("u.") ")"
#define KW_ROW_USAGE_BY_DENIED "SUM" KW_ROW_USAGE_DENIED("u.")
#define KW_ROW_TOP_USAGE(rank, since, limit)                                                 \
  "SELECT k.user_id, k.name, CAST(SUM(u.allowed) AS BIGINT), CAST(" KW_ROW_USAGE_BY_DENIED   \
  " AS BIGINT), k.last_used_at FROM key_usage u JOIN api_keys k ON k.id = u.key_id WHERE"    \
  " u.hour_start >= " since " GROUP BY k.id, k.user_id, k.name, k.last_used_at HAVING " rank \
  " > 0 ORDER BY " rank " DESC, k.user_id, k.name LIMIT " limit
#define KW_ROW_PRUNE_USAGE(before) "DELETE FROM key_usage WHERE hour_start < " before

// The sign-in counters (Store::UpdateSignInCounters, PruneSignInCounters; migration V008).
#define KW_ROW_SIGN_IN_COUNTER_COLUMNS "failures, locked_until, expires_at"
#define KW_ROW_STORE_SIGN_IN_COUNTER(subject, failures, locked_until, expires_at)     \
  "UPDATE sign_in_failures SET failures = " failures ", locked_until = " locked_until \
  ", expires_at = " expires_at " WHERE subject = " subject
#define KW_ROW_DELETE_SIGN_IN_COUNTER(subject) \
  "DELETE FROM sign_in_failures WHERE subject = " subject
#define KW_ROW_PRUNE_SIGN_IN_COUNTERS(now) "DELETE FROM sign_in_failures WHERE expires_at <= " now

// Every signing key, by generation ascending.
#define KW_ROW_LIST_SIGNING_KEYS \
  "SELECT " KW_ROW_SIGNING_KEY_COLUMNS " FROM signing_keys ORDER BY generation"

// KW_ROW_USER_COLUMNS. Internal for an unknown type. The tags are left to the caller.
Result<User> ReadUser(const RowReader& row);
// KW_ROW_KEY_COLUMNS, the grant included (see GrantColumns).
KeyRecord ReadKey(const RowReader& row);
// KW_ROW_OLD_SECRET_COLUMNS from column `first` on.
OldSecret ReadOldSecret(const RowReader& row, int first);
// A row of KW_ROW_KEYS_WITH_OLD_SECRETS: a new key at the end of `keys` unless the row is of the
// last one (same name), and its old secret, if any, added to that key.
void AddKeyRow(const RowReader& row, std::vector<KeyRecord>& keys);
// A row of KW_ROW_KEY_BY_OLD_SECRET(_PREFIX): the key, by_old_secret, old_secrets = {that one}.
KeyRecord ReadKeyByOldSecret(const RowReader& row);
// Store::FindKeyByHashPrefix from its two lookups (up to 2 rows each): `current`, keys whose hash
// has the prefix, then `old`, keys by an old secret whose hash has it (ReadKeyByOldSecret). The
// one secret found; NotFound when none, or two different ones (never guess). A secret found in
// both (rotated between two lookups) is one, as the old secret it has become.
Result<KeyRecord> OneKeyByPrefix(std::vector<KeyRecord> current, std::vector<KeyRecord> old);
// A row of KW_ROW_KEY_USAGE: the summary (each row holds it), and the hour unless NULL.
void AddUsageRow(const RowReader& row, KeyUsage& usage);
// A row of KW_ROW_TOP_USAGE.
KeyUsageTotal ReadUsageTotal(const RowReader& row);
// The rate limit as stored: requests and per, or 0 and 0 when off (requests ≤ 0).
RateLimit StoredRateLimit(const RateLimit& limit);
// An address or user agent as RecordUsage stores it: "" unless valid UTF-8 text (IsUtf8Text),
// else cut to at most `max_bytes` on a character boundary (a header can be long; the store
// keeps the latest of each key), with every control character (C0, DEL, C1) made '?'.
std::string ClientText(std::string_view text, std::size_t max_bytes);
inline constexpr std::size_t kMaxClientAddressBytes = 256;
inline constexpr std::size_t kMaxUserAgentBytes = 512;
// KW_ROW_WEBHOOK_COLUMNS.
Webhook ReadWebhook(const RowReader& row);
// KW_ROW_DELIVERY_COLUMNS (url and sealed_secret left empty). Internal for an unknown state.
Result<Delivery> ReadDelivery(const RowReader& row);
// KW_ROW_SESSION_COLUMNS.
SessionRecord ReadSession(const RowReader& row);
// KW_ROW_AUDIT_COLUMNS. Internal for an unknown action.
Result<AuditEvent> ReadAudit(const RowReader& row);
// KW_ROW_SIGNING_KEY_COLUMNS.
SigningKeyRecord ReadSigningKey(const RowReader& row);

// KW_ROW_SIGN_IN_COUNTER_COLUMNS.
SignInCounter ReadSignInCounter(const RowReader& row);
// The order in which a backend takes the counters of `subjects` (Store::UpdateSignInCounters):
// indexes into it, by the subjects' bytes, the same on every node. InvalidArgument unless there
// are 1 to Store::kMaxSignInSubjects distinct subjects of 1 to 64 bytes each.
Result<std::vector<std::size_t>> SignInLockOrder(const std::vector<std::string>& subjects);

// The range of 32-byte hashes that start with `prefix`, for Find*ByHashPrefix: hash >= prefix
// AND (no upper bound, or hash < upper). `upper` is the prefix with its trailing 0xff bytes
// dropped and its last byte then incremented; nullopt when the prefix is all 0xff bytes.
// InvalidArgument for an empty prefix or one longer than 32 bytes.
Result<std::optional<std::string>> HashPrefixUpperBound(std::string_view prefix);

// A key's grant as the columns scopes, tags, allowed_addresses and full_access of api_keys hold it
// (migration V003): each list as its entries joined by single spaces, in the grant's order (which
// NormalizeGrant sorts); tags nullopt as NULL, an empty list as ''. ReadKey reads them back.
struct GrantColumns {
  std::string scopes;
  std::optional<std::string> tags;  // nullopt: NULL, all of the owner's tags, live
  std::string allowed_addresses;
  std::int64_t full_access = 0;  // 0 or 1
};

// InvalidArgument if an entry of a list is empty or holds a space: it could not be read back as
// it was. (Valid scopes, tags and CIDRs never do.)
Result<GrantColumns> WriteGrant(const Grant& grant);

// A webhook's lists as the columns events and users hold them ('' = all), as WriteGrant.
struct WebhookListColumns {
  std::string events;
  std::string users;
};
Result<WebhookListColumns> WriteWebhookLists(const Webhook& webhook);

// The InvalidArgument both backends give for a text argument that is not valid UTF-8 or holds
// NUL (!IsUtf8Text): no row can hold it, and a lookup by it is a mistake, not a miss.
Status InvalidText(std::string detail);

// An error of `code` gets `message`, which names what was taken or missing (its detail stays);
// any other status is returned as it is.
Status Reword(Status status, StatusCode code, std::string message);

}  // namespace keyward
