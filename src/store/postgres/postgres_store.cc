#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"
#include "store/postgres/libpq_loader.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_listener.h"
#include "store/postgres/pg_pool.h"
#include "store/postgres/postgres_migrations.h"
#include "store/postgres/postgres_store_parts.h"
#include "store/rows.h"

namespace keyward {
namespace {

using pg::Connection;
using pg::kInvalidateChannel;
using pg::Params;
using pg::ResultRow;
using pg::Rows;

// Only string literals reach PostgreSQL; every value is a parameter. Deletes and tag changes
// NOTIFY in the same statement, hence the same transaction: other nodes hear of a change only
// once it is committed, and always when it is. The channel, kInvalidateChannel, is the last
// parameter of those statements; payloads are described in pg_listener.h.
#define KW_USER_COLUMNS KW_ROW_USER_COLUMNS("u.")

constexpr char kInsertUser[] =
    "INSERT INTO users (id, name, type, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)";
constexpr char kGetUser[] = "SELECT " KW_USER_COLUMNS
                            ", t.tag FROM users u LEFT JOIN user_tags t ON t.user_id = u.id"
                            " WHERE u.id = $1 ORDER BY t.tag";
constexpr char kListUsers[] = "SELECT " KW_USER_COLUMNS
                              ", t.tag FROM users u LEFT JOIN user_tags t ON t.user_id = u.id"
                              " ORDER BY u.id, t.tag";
constexpr char kDeleteUser[] =
    "WITH gone AS (DELETE FROM users WHERE id = $1 RETURNING id)"
    " SELECT pg_notify($2, 'u:' || id) FROM gone";
constexpr char kSetPassword[] = "UPDATE users SET password_hash = $2 WHERE id = $1";
constexpr char kCountUsers[] = "SELECT COUNT(*) FROM users";
constexpr char kSchemaVersion[] = "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations";
constexpr char kInsertTag[] =
    "INSERT INTO user_tags (user_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING";
constexpr char kAddTag[] =
    "WITH added AS (INSERT INTO user_tags (user_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    " RETURNING user_id) SELECT pg_notify($3, 'u:' || user_id) FROM added";
constexpr char kRemoveTag[] =
    "WITH gone AS (DELETE FROM user_tags WHERE user_id = $1 AND tag = $2 RETURNING user_id)"
    " SELECT pg_notify($3, 'u:' || user_id) FROM gone";

constexpr char kInsertKey[] =
    "INSERT INTO api_keys (" KW_ROW_KEY_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19, " KW_ROW_NEW_KEY_TAIL("$20", "$21", "$22") ")";
constexpr char kListKeys[] = KW_ROW_KEYS_WITH_OLD_SECRETS("$1") KW_ROW_KEYS_WITH_OLD_SECRETS_ORDER;
constexpr char kGetKey[] =
    KW_ROW_KEYS_WITH_OLD_SECRETS("$1") " AND k.name = $2" KW_ROW_KEYS_WITH_OLD_SECRETS_ORDER;
constexpr char kFindKey[] = "SELECT " KW_ROW_KEY_COLUMNS " FROM api_keys WHERE hash = $1";
constexpr char kFindKeyByOldSecret[] = KW_ROW_KEY_BY_OLD_SECRET("$1");
// The key's current secret and every old one stop working.
constexpr char kDeleteKey[] =
    "WITH gone AS (DELETE FROM api_keys WHERE user_id = $1 AND name = $2 RETURNING id, "
    "hash)" KW_PG_NOTIFY_SECRETS_OF("gone", "$3");
constexpr char kTouchKey[] =
    "UPDATE api_keys SET last_used_at = $2 WHERE hash = $1 AND last_used_at < $2";
constexpr char kTouchOldSecret[] =
    "UPDATE rotated_secrets SET last_used_at = $2 WHERE hash = $1 AND last_used_at < $2";

constexpr char kInsertSession[] =
    "INSERT INTO sessions (" KW_ROW_SESSION_COLUMNS ") VALUES ($1, $2, $3, $4)";
constexpr char kFindSession[] = "SELECT " KW_ROW_SESSION_COLUMNS " FROM sessions WHERE hash = $1";
constexpr char kDeleteSession[] =
    "WITH gone AS (DELETE FROM sessions WHERE hash = $1 RETURNING hash)"
    " SELECT pg_notify($2, 'k:' || encode(hash, 'hex')) FROM gone";
constexpr char kDeleteExpired[] = "DELETE FROM sessions WHERE expires_at < $1";

constexpr char kInsertAudit[] =
    "INSERT INTO audit_events (occurred_at, actor, action, user_id, target, address, outcome,"
    " reason, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
constexpr char kListAudit[] = "SELECT " KW_ROW_AUDIT_COLUMNS
                              " FROM audit_events WHERE occurred_at BETWEEN $1 AND $2"
                              " ORDER BY occurred_at DESC, id DESC LIMIT $3";
constexpr char kListAuditOfUser[] =
    "SELECT " KW_ROW_AUDIT_COLUMNS
    " FROM audit_events WHERE (actor = $4 OR user_id = $4) AND occurred_at BETWEEN $1 AND $2"
    " ORDER BY occurred_at DESC, id DESC LIMIT $3";

// The hash prefix lookups (rows.h).
#define KW_PREFIX_RANGE KW_ROW_PREFIX_RANGE("$1", "$2")
#define KW_PREFIX_OPEN KW_ROW_PREFIX_OPEN("$1")
constexpr char kFindKeyByPrefix[] = "SELECT " KW_ROW_KEY_COLUMNS " FROM api_keys" KW_PREFIX_RANGE;
constexpr char kFindKeyByPrefixOpen[] =
    "SELECT " KW_ROW_KEY_COLUMNS " FROM api_keys" KW_PREFIX_OPEN;
constexpr char kFindOldSecretByPrefix[] =
    KW_ROW_KEY_BY_OLD_SECRET_PREFIX KW_ROW_OLD_PREFIX_RANGE("$1", "$2");
constexpr char kFindOldSecretByPrefixOpen[] =
    KW_ROW_KEY_BY_OLD_SECRET_PREFIX KW_ROW_OLD_PREFIX_OPEN("$1");
constexpr char kFindSessionByPrefix[] =
    "SELECT " KW_ROW_SESSION_COLUMNS " FROM sessions" KW_PREFIX_RANGE;
constexpr char kFindSessionByPrefixOpen[] =
    "SELECT " KW_ROW_SESSION_COLUMNS " FROM sessions" KW_PREFIX_OPEN;
#undef KW_PREFIX_RANGE
#undef KW_PREFIX_OPEN

constexpr char kInsertSigningKey[] = "INSERT INTO signing_keys (" KW_ROW_SIGNING_KEY_COLUMNS
                                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
constexpr char kRetireSigningKeys[] =
    "UPDATE signing_keys SET retired_at = $2 WHERE generation < $1 AND retired_at = 0";
constexpr char kNotifySigningKeys[] = "SELECT pg_notify($1, 's:')";
constexpr char kListSigningKeys[] = KW_ROW_LIST_SIGNING_KEYS;

#undef KW_USER_COLUMNS

Result<Params> KeyParams(const KeyRecord& key) {
  KW_ASSIGN_OR_RETURN(GrantColumns grant, WriteGrant(key.grant));
  Params params;
  params.Text(key.user_id).Text(key.name).Bytes(key.hash).Bytes(key.sealed).Text(key.masked);
  params.Int(key.created_at).Int(key.expires_at).Int(key.last_used_at).Text(grant.scopes);
  if (grant.tags) {
    params.Text(*grant.tags);
  } else {
    params.NullText();
  }
  params.Text(grant.allowed_addresses).Int(grant.full_access).Text(key.description);
  params.Int(key.disabled ? 1 : 0).Int(key.validity).Int(key.idle_timeout);
  params.Int(key.revoke_on_reuse ? 1 : 0).Int(key.rotated_at).Int(key.announced_within);
  const RateLimit limit = StoredRateLimit(key.rate_limit);
  params.Int(limit.requests).Int(limit.per).Int(key.canary ? 1 : 0);
  return params;
}

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string url, const PostgresStoreOptions& options)
      : url_(std::move(url)),
        options_(options),
        pool_(url_, {.size = options.pool_size,
                     .acquire_timeout = options.acquire_timeout,
                     .connect = MakeConnectOptions("keyward")}) {}

  ~PostgresStore() override {
    MutexLock lock(listener_mu_);
    listener_.reset();  // joins its thread before the pool goes
  }

  Status Migrate() {
    KW_ASSIGN_OR_RETURN(pg::Pool::Lease lease, pool_.Acquire());
    return pg::ApplyMigrations(*lease, pg::PostgresMigrations(), Clock::System());
  }

  Status CreateUser(const User& user) override {
    return Write([&](Connection& conn) -> Status {
      Params insert;
      insert.Text(user.id).Text(user.name).Text(UserTypeName(user.type));
      insert.Text(user.password_hash).Int(user.created_at);
      KW_RETURN_IF_ERROR(Reword(conn.Prepared(kInsertUser, insert).status(),
                                StatusCode::kAlreadyExists, "a user with this id already exists"));
      for (const std::string& tag : user.tags) {
        KW_RETURN_IF_ERROR(conn.Prepared(kInsertTag, Params().Text(user.id).Text(tag)).status());
      }
      return Status::Ok();
    });
  }

  Result<User> GetUser(std::string_view id) override {
    std::optional<User> user;
    KW_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kGetUser, Params().Text(id)));
      if (rows.size() == 0) return Status::NotFound("user not found");
      KW_ASSIGN_OR_RETURN(user, ReadUser(ResultRow(rows, 0)));
      for (int r = 0; r < rows.size(); ++r) {
        if (!rows.IsNull(r, 5)) user->tags.push_back(rows.Bytes(r, 5));
      }
      return Status::Ok();
    }));
    return std::move(*user);
  }

  Result<std::vector<User>> ListUsers() override {
    std::vector<User> users;
    KW_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      users.clear();
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kListUsers));
      for (int r = 0; r < rows.size(); ++r) {
        if (users.empty() || users.back().id != rows.Bytes(r, 0)) {
          KW_ASSIGN_OR_RETURN(User user, ReadUser(ResultRow(rows, r)));
          users.push_back(std::move(user));
        }
        if (!rows.IsNull(r, 5)) users.back().tags.push_back(rows.Bytes(r, 5));
      }
      return Status::Ok();
    }));
    return users;
  }

  Status DeleteUser(std::string_view id) override {
    return WriteOne(kDeleteUser, Params().Text(id).Text(kInvalidateChannel), "user not found");
  }

  Status SetPasswordHash(std::string_view id, std::string_view password_hash) override {
    return Write([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows,
                          conn.Prepared(kSetPassword, Params().Text(id).Text(password_hash)));
      return rows.Affected() == 0 ? Status::NotFound("user not found") : Status::Ok();
    });
  }

  Status AddTag(std::string_view id, std::string_view tag) override {
    // A missing user fails the foreign key: NotFound.
    return Write([&](Connection& conn) -> Status {
      return conn.Prepared(kAddTag, Params().Text(id).Text(tag).Text(kInvalidateChannel)).status();
    });
  }

  Status RemoveTag(std::string_view id, std::string_view tag) override {
    return WriteOne(kRemoveTag, Params().Text(id).Text(tag).Text(kInvalidateChannel),
                    "user or tag not found");
  }

  Status CheckReady() override {
    std::int64_t version = 0;
    KW_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kSchemaVersion));
      if (rows.size() != 1) return Status::Internal("schema_migrations: no result");
      version = rows.Int(0, 0);
      return Status::Ok();
    }));
    return CheckSchemaCurrent(version, pg::PostgresMigrations());
  }

  Result<std::int64_t> CountUsers() override {
    std::int64_t count = 0;
    KW_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kCountUsers));
      if (rows.size() != 1) return Status::Internal("COUNT returned no row");
      count = rows.Int(0, 0);
      return Status::Ok();
    }));
    return count;
  }

  Status CreateKey(const KeyRecord& key, const EventList& events) override {
    KW_ASSIGN_OR_RETURN(Params params, KeyParams(key));
    // A missing user fails the foreign key (NotFound); a taken name, the UNIQUE constraint.
    return Write([&](Connection& conn) -> Status {
      KW_RETURN_IF_ERROR(Reword(conn.Prepared(kInsertKey, params).status(),
                                StatusCode::kAlreadyExists, "a key with this name already exists"));
      return pg::InsertEvents(conn, events);
    });
  }

  Result<std::vector<KeyRecord>> ListKeys(std::string_view user_id) override {
    return ReadKeys(kListKeys, Params().Text(user_id));
  }

  Result<KeyRecord> GetKey(std::string_view user_id, std::string_view name) override {
    KW_ASSIGN_OR_RETURN(std::vector<KeyRecord> keys,
                        ReadKeys(kGetKey, Params().Text(user_id).Text(name)));
    if (keys.empty()) return Status::NotFound("key not found");
    return std::move(keys.front());
  }

  Status DeleteKey(std::string_view user_id, std::string_view name,
                   const EventList& events) override {
    Params params = Params().Text(user_id).Text(name).Text(kInvalidateChannel);
    return Write([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kDeleteKey, params));
      if (rows.size() == 0) return Status::NotFound("key not found");
      return pg::InsertEvents(conn, events);
    });
  }

  Result<KeyRecord> FindKeyByHash(std::string_view hash) override {
    KeyRecord key;
    KW_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kFindKey, Params().Bytes(hash)));
      if (rows.size() != 0) {
        key = ReadKey(ResultRow(rows, 0));
        return Status::Ok();
      }
      // A secret moves from api_keys to rotated_secrets, never back: looking here second finds
      // it even when a rotation commits between the two statements.
      KW_ASSIGN_OR_RETURN(Rows old, conn.Prepared(kFindKeyByOldSecret, Params().Bytes(hash)));
      if (old.size() == 0) return Status::NotFound("key not found");
      ResultRow row(old, 0);
      key = ReadKey(row);
      key.old_secrets.push_back(ReadOldSecret(row, KW_ROW_KEY_COLUMN_COUNT));
      key.by_old_secret = true;
      return Status::Ok();
    }));
    return key;
  }

  Status TouchKeys(const std::vector<std::pair<std::string, UnixSeconds>>& used) override {
    if (used.empty()) return Status::Ok();
    // The same order on every node, so two batches touching the same keys cannot deadlock.
    std::vector<const std::pair<std::string, UnixSeconds>*> sorted;
    sorted.reserve(used.size());
    for (const auto& entry : used) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
    return Write([&](Connection& conn) -> Status {
      for (const char* sql : {kTouchKey, kTouchOldSecret}) {
        for (const auto* entry : sorted) {
          KW_RETURN_IF_ERROR(
              conn.Prepared(sql, Params().Bytes(entry->first).Int(entry->second)).status());
        }
      }
      return Status::Ok();
    });
  }

  Status CreateSession(const SessionRecord& session) override {
    return Write([&](Connection& conn) -> Status {
      Params insert;
      insert.Text(session.user_id).Bytes(session.hash).Int(session.created_at);
      insert.Int(session.expires_at);
      return Reword(conn.Prepared(kInsertSession, insert).status(), StatusCode::kAlreadyExists,
                    "the session already exists");
    });
  }

  Result<SessionRecord> FindSessionByHash(std::string_view hash) override {
    SessionRecord session;
    KW_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kFindSession, Params().Bytes(hash)));
      if (rows.size() == 0) return Status::NotFound("session not found");
      session = ReadSession(ResultRow(rows, 0));
      return Status::Ok();
    }));
    return session;
  }

  Status DeleteSession(std::string_view hash) override {
    return WriteOne(kDeleteSession, Params().Bytes(hash).Text(kInvalidateChannel),
                    "session not found");
  }

  Result<std::int64_t> DeleteExpiredSessions(UnixSeconds now) override {
    std::int64_t removed = 0;
    KW_RETURN_IF_ERROR(Write([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kDeleteExpired, Params().Int(now)));
      removed = rows.Affected();
      return Status::Ok();
    }));
    return removed;
  }

  Result<std::int64_t> AppendAudit(const AuditEvent& event) override {
    std::int64_t id = 0;
    KW_RETURN_IF_ERROR(Write([&](Connection& conn) -> Status {
      Params insert;
      insert.Int(event.time).Text(event.actor).Text(AuditActionName(event.action));
      insert.Text(event.user).Text(event.target).Text(event.address);
      insert.Text(AuditOutcomeName(event.success)).Text(event.reason).Text(event.detail);
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kInsertAudit, insert));
      if (rows.size() != 1) return Status::Internal("INSERT ... RETURNING returned no row");
      id = rows.Int(0, 0);
      return Status::Ok();
    }));
    return id;
  }

  Result<std::vector<AuditEvent>> ListAudit(const AuditFilter& filter) override {
    std::vector<AuditEvent> events;
    const bool of_user = !filter.user.empty();
    Params params;
    params.Int(filter.since).Int(filter.until).Int(filter.limit);
    if (of_user) params.Text(filter.user);
    Status status = Read([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows,
                          conn.Prepared(of_user ? kListAuditOfUser : kListAudit, params));
      events.clear();
      for (int r = 0; r < rows.size(); ++r) {
        KW_ASSIGN_OR_RETURN(AuditEvent event, ReadAudit(ResultRow(rows, r)));
        events.push_back(std::move(event));
      }
      return Status::Ok();
    });
    KW_RETURN_IF_ERROR(status);
    return events;
  }

  Status AddSigningKey(const SigningKeyRecord& key, UnixSeconds retire_others_at) override {
    Params insert;
    insert.Int(key.generation).Text(key.kid).Text(key.alg).Text(key.public_jwk);
    insert.Bytes(key.sealed_private).Int(key.created_at).Int(key.activates_at).Int(key.retired_at);
    // Two nodes adding the same generation at once: the second insert waits for the first to
    // commit, then fails the primary key (AlreadyExists).
    return Write([&](Connection& conn) -> Status {
      KW_RETURN_IF_ERROR(Reword(conn.Prepared(kInsertSigningKey, insert).status(),
                                StatusCode::kAlreadyExists,
                                "a signing key of this generation or kid already exists"));
      if (retire_others_at != 0) {
        KW_RETURN_IF_ERROR(
            conn.Prepared(kRetireSigningKeys, Params().Int(key.generation).Int(retire_others_at))
                .status());
      }
      // The other nodes read the keys when this commits, not at their next tick.
      return conn.Prepared(kNotifySigningKeys, Params().Text(kInvalidateChannel)).status();
    });
  }

  Result<std::vector<SigningKeyRecord>> ListSigningKeys() override {
    std::vector<SigningKeyRecord> keys;
    KW_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kListSigningKeys));
      keys.clear();
      for (int r = 0; r < rows.size(); ++r) keys.push_back(ReadSigningKey(ResultRow(rows, r)));
      return Status::Ok();
    }));
    return keys;
  }

  // A current secret, or an old one (rows.h, OneKeyByPrefix). A secret moves from api_keys to
  // rotated_secrets, never back: looking there second finds it even when a rotation commits
  // between the two statements (then seen twice, and counted once).
  Result<KeyRecord> FindKeyByHashPrefix(std::string_view prefix) override {
    KW_ASSIGN_OR_RETURN(std::optional<std::string> upper, HashPrefixUpperBound(prefix));
    Params params;
    params.Bytes(prefix);
    if (upper) params.Bytes(*upper);
    return ReadResult<KeyRecord>([&](Connection& conn) -> Result<KeyRecord> {
      KW_ASSIGN_OR_RETURN(Rows rows,
                          conn.Prepared(upper ? kFindKeyByPrefix : kFindKeyByPrefixOpen, params));
      std::vector<KeyRecord> current;
      current.reserve(static_cast<std::size_t>(rows.size()));
      for (int r = 0; r < rows.size(); ++r) current.push_back(ReadKey(ResultRow(rows, r)));
      KW_ASSIGN_OR_RETURN(
          Rows old_rows,
          conn.Prepared(upper ? kFindOldSecretByPrefix : kFindOldSecretByPrefixOpen, params));
      std::vector<KeyRecord> old;
      old.reserve(static_cast<std::size_t>(old_rows.size()));
      for (int r = 0; r < old_rows.size(); ++r) {
        old.push_back(ReadKeyByOldSecret(ResultRow(old_rows, r)));
      }
      return OneKeyByPrefix(std::move(current), std::move(old));
    });
  }

  Result<SessionRecord> FindSessionByHashPrefix(std::string_view prefix) override {
    return FindByPrefix<SessionRecord>(prefix, kFindSessionByPrefix, kFindSessionByPrefixOpen,
                                       ReadSession, "session not found");
  }
  // --- issue 15: postgres_key_lifecycle.cc and postgres_webhooks.cc ---
  Status RotateKey(std::string_view user_id, std::string_view name, std::string_view expected_hash,
                   const KeyRecord& next, const OldSecret& old, const EventList& events) override {
    return Write([&](Connection& conn) {
      return pg::RotateKey(conn, user_id, name, expected_hash, next, old, events);
    });
  }
  Status UpdateKey(std::string_view user_id, std::string_view name, std::int64_t expected_revision,
                   const KeyUpdate& update, const EventList& events) override {
    return Write([&](Connection& conn) {
      return pg::UpdateKey(conn, user_id, name, expected_revision, update, events);
    });
  }
  Result<std::vector<KeyRecord>> ListKeysToWarn(UnixSeconds now, std::int64_t within,
                                                int limit) override {
    return ReadResult<std::vector<KeyRecord>>(
        [&](Connection& conn) { return pg::ListKeysToWarn(conn, now, within, limit); });
  }
  Result<std::vector<KeyRecord>> ListKeysExpiredUnannounced(UnixSeconds now, int limit) override {
    return ReadResult<std::vector<KeyRecord>>(
        [&](Connection& conn) { return pg::ListKeysExpiredUnannounced(conn, now, limit); });
  }
  Result<std::vector<KeyRecord>> ListIdleKeys(UnixSeconds now, int limit) override {
    return ReadResult<std::vector<KeyRecord>>(
        [&](Connection& conn) { return pg::ListIdleKeys(conn, now, limit); });
  }
  Result<bool> AnnounceExpiry(std::string_view hash, std::int64_t within,
                              const EventList& events) override {
    return WriteResult<bool>(
        [&](Connection& conn) { return pg::AnnounceExpiry(conn, hash, within, events); });
  }
  Result<bool> RevokeIdleKey(std::string_view hash, UnixSeconds unused_since,
                             const EventList& events) override {
    return WriteResult<bool>(
        [&](Connection& conn) { return pg::RevokeIdleKey(conn, hash, unused_since, events); });
  }
  Result<std::int64_t> PruneOldSecrets(UnixSeconds now) override {
    return WriteResult<std::int64_t>(
        [&](Connection& conn) { return pg::PruneOldSecrets(conn, now); });
  }
  Status CreateWebhook(const Webhook& webhook) override {
    return Write([&](Connection& conn) { return pg::CreateWebhook(conn, webhook); });
  }
  Result<std::vector<Webhook>> ListWebhooks() override {
    return ReadResult<std::vector<Webhook>>(
        [&](Connection& conn) { return pg::ListWebhooks(conn); });
  }
  Result<Webhook> GetWebhook(std::string_view id) override {
    return ReadResult<Webhook>([&](Connection& conn) { return pg::GetWebhook(conn, id); });
  }
  Status DeleteWebhook(std::string_view id) override {
    return Write([&](Connection& conn) { return pg::DeleteWebhook(conn, id); });
  }
  Result<std::vector<std::int64_t>> AppendEvents(const EventList& events) override {
    std::vector<std::int64_t> ids;
    if (events.empty()) return ids;
    KW_RETURN_IF_ERROR(Write([&](Connection& conn) {
      ids.clear();  // a retried transaction starts again
      return pg::InsertEvents(conn, events, &ids);
    }));
    return ids;
  }
  Result<std::vector<Delivery>> ClaimDeliveries(UnixSeconds now, UnixSeconds lease_until,
                                                int limit) override {
    return WriteResult<std::vector<Delivery>>(
        [&](Connection& conn) { return pg::ClaimDeliveries(conn, now, lease_until, limit); });
  }
  Status FinishDelivery(std::int64_t id, const DeliveryOutcome& outcome) override {
    return Write([&](Connection& conn) { return pg::FinishDelivery(conn, id, outcome); });
  }
  Result<std::vector<Delivery>> ListDeliveries(std::string_view webhook_id, int limit) override {
    return ReadResult<std::vector<Delivery>>(
        [&](Connection& conn) { return pg::ListDeliveries(conn, webhook_id, limit); });
  }
  Result<std::int64_t> PruneEvents(UnixSeconds before) override {
    return WriteResult<std::int64_t>(
        [&](Connection& conn) { return pg::PruneEvents(conn, before); });
  }
  // --- issue 16: postgres_usage.cc ---
  Status RecordUsage(const std::vector<UsageDelta>& deltas) override {
    if (deltas.empty()) return Status::Ok();
    return Write([&](Connection& conn) { return pg::RecordUsage(conn, deltas); });
  }
  Result<KeyUsage> GetUsage(std::string_view user_id, std::string_view name, UnixSeconds since,
                            UnixSeconds until) override {
    return ReadResult<KeyUsage>(
        [&](Connection& conn) { return pg::GetUsage(conn, user_id, name, since, until); });
  }
  Result<std::vector<KeyUsageTotal>> TopUsage(UsageRanking by, UnixSeconds since,
                                              int limit) override {
    return ReadResult<std::vector<KeyUsageTotal>>(
        [&](Connection& conn) { return pg::TopUsage(conn, by, since, limit); });
  }
  Result<std::int64_t> PruneUsage(UnixSeconds before) override {
    return WriteResult<std::int64_t>(
        [&](Connection& conn) { return pg::PruneUsage(conn, before); });
  }
  // --- issue 19: postgres_sign_in.cc ---
  Status UpdateSignInCounters(const std::vector<std::string>& subjects,
                              const SignInCounterUpdate& update) override {
    // A refused attempt changes nothing: its transaction ends in ROLLBACK, which Write does for
    // a failed body, so the body reports "unchanged" as a status of its own, taken back here.
    const Status unchanged(StatusCode::kFailedPrecondition, "sign-in counters unchanged");
    Status status = Write([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(bool changed, pg::UpdateSignInCounters(conn, subjects, update));
      return changed ? Status::Ok() : unchanged;
    });
    if (status.code() == unchanged.code() && status.message() == unchanged.message()) {
      return Status::Ok();
    }
    return status;
  }
  Result<std::int64_t> PruneSignInCounters(UnixSeconds now) override {
    return WriteResult<std::int64_t>(
        [&](Connection& conn) { return pg::PruneSignInCounters(conn, now); });
  }

  void Subscribe(StoreEvents events) override {
    MutexLock lock(listener_mu_);
    listener_.reset();  // a second call replaces the first
    listener_ = std::make_unique<pg::Listener>(
        url_, std::move(events),
        pg::ListenerOptions{.connect = MakeConnectOptions("keyward-listener"),
                            .retry_min = options_.listen_retry_min,
                            .retry_max = options_.listen_retry_max});
    // Changes made once Subscribe returns are heard (unless the server is down: then the
    // listener calls resync() when it gets through).
    listener_->WaitUntilListening(options_.connect_timeout + std::chrono::seconds(1));
  }

 private:
  pg::ConnectOptions MakeConnectOptions(std::string application_name) const {
    return {.connect_timeout = options_.connect_timeout,
            .statement_timeout = options_.statement_timeout,
            .application_name = std::move(application_name)};
  }

  // Runs `read`, a single statement, on a borrowed connection. If that connection turns out
  // lost (it sat idle through a server restart), the others are discarded and `read` runs once
  // more on a new one.
  template <typename Fn>
  Status Read(Fn&& read) {
    for (int attempt = 1;; ++attempt) {
      KW_ASSIGN_OR_RETURN(pg::Pool::Lease lease, pool_.Acquire());
      Status status = read(*lease);
      if (status.ok() || lease->ok()) return status;
      pool_.DiscardIdle();
      if (attempt > 1 || !lease.reused()) return status;
    }
  }

  // Runs `write` in BEGIN ... COMMIT (ROLLBACK if it fails). A connection found lost before
  // COMMIT was sent means nothing was committed, so it is retried once, as in Read; a
  // connection lost during COMMIT leaves the outcome unknown: Unavailable, no retry. READ
  // COMMITTED whatever the server's default: the compare-and-swaps (UpdateKey, RotateKey) and
  // the per-webhook claim rely on each statement seeing what committed before it.
  template <typename Fn>
  Status Write(Fn&& write) {
    for (int attempt = 1;; ++attempt) {
      KW_ASSIGN_OR_RETURN(pg::Pool::Lease lease, pool_.Acquire());
      Status status = lease->Script("BEGIN ISOLATION LEVEL READ COMMITTED", "begin");
      if (status.ok()) status = write(*lease);
      if (status.ok()) return lease->Script("COMMIT", "commit");
      if (lease->ok()) {
        // A connection left inside a transaction is closed by the pool, so this cannot leak.
        (void)lease->Script("ROLLBACK", "rollback");
        return status;
      }
      pool_.DiscardIdle();
      if (attempt > 1 || !lease.reused()) return status;
    }
  }

  // Read and Write for a function that returns a Result (taken from its last run).
  template <typename T, typename Fn>
  Result<T> ReadResult(Fn&& read) {
    std::optional<T> out;
    KW_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(out, read(conn));
      return Status::Ok();
    }));
    return std::move(*out);
  }
  template <typename T, typename Fn>
  Result<T> WriteResult(Fn&& write) {
    std::optional<T> out;
    KW_RETURN_IF_ERROR(Write([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(out, write(conn));
      return Status::Ok();
    }));
    return std::move(*out);
  }

  // The keys of a KW_ROW_KEYS_WITH_OLD_SECRETS query (one statement: one snapshot).
  Result<std::vector<KeyRecord>> ReadKeys(const char* sql, const Params& params) {
    std::vector<KeyRecord> keys;
    KW_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(sql, params));
      keys.clear();
      for (int r = 0; r < rows.size(); ++r) AddKeyRow(ResultRow(rows, r), keys);
      return Status::Ok();
    }));
    return keys;
  }

  // A write of one statement that returns a row per changed row; NotFound when none changed.
  Status WriteOne(const char* sql, const Params& params, const char* not_found) {
    return Write([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(sql, params));
      return rows.size() == 0 ? Status::NotFound(not_found) : Status::Ok();
    });
  }

  // The one row whose hash starts with `prefix` (rows.h, HashPrefixUpperBound); NotFound when
  // none or two match.
  template <typename Record>
  Result<Record> FindByPrefix(std::string_view prefix, const char* range, const char* open,
                              Record (*read)(const RowReader&), const char* not_found) {
    KW_ASSIGN_OR_RETURN(std::optional<std::string> upper, HashPrefixUpperBound(prefix));
    Params params;
    params.Bytes(prefix);
    if (upper) params.Bytes(*upper);
    Record record;
    KW_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(upper ? range : open, params));
      if (rows.size() != 1) return Status::NotFound(not_found);  // none, or ambiguous
      record = read(ResultRow(rows, 0));
      return Status::Ok();
    }));
    return record;
  }

  const std::string url_;  // may hold a password: never logged
  const PostgresStoreOptions options_;
  pg::Pool pool_;
  Mutex listener_mu_;
  std::unique_ptr<pg::Listener> listener_ GUARDED_BY(listener_mu_);  // null until Subscribe
};

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 const PostgresStoreOptions& options) {
  KW_RETURN_IF_ERROR(pg::LoadLibpq());  // opened on first use: a missing one is said here
  // Checked here so a typo is a configuration error, not an outage. libpq's message may quote
  // the URL, so it is dropped.
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (parsed == nullptr) return Status::InvalidArgument("the PostgreSQL URL is not valid");
  PQconninfoFree(parsed);
  auto store = std::make_unique<PostgresStore>(url, options);
  KW_RETURN_IF_ERROR(store->Migrate());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace keyward
