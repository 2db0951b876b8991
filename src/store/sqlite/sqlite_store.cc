#include "store/sqlite/sqlite_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/thread_annotations.h"
#include "store/rows.h"
#include "store/sqlite/group_commit.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_migrations.h"
#include "store/sqlite/sqlite_store_parts.h"

namespace keyward {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::StatementRow;
using sqlite::Transaction;

// Only string literals reach SQLite; every value is a bound parameter.
#define KW_USER_COLUMNS KW_ROW_USER_COLUMNS("")

constexpr char kInsertUser[] =
    "INSERT INTO users (" KW_USER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char kGetUser[] = "SELECT " KW_USER_COLUMNS " FROM users WHERE id = ?1";
constexpr char kListUsers[] = "SELECT " KW_USER_COLUMNS " FROM users ORDER BY id";
constexpr char kDeleteUser[] = "DELETE FROM users WHERE id = ?1";
constexpr char kSetPassword[] = "UPDATE users SET password_hash = ?2 WHERE id = ?1";
constexpr char kCountUsers[] = "SELECT COUNT(*) FROM users";
constexpr char kSchemaVersion[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr char kInsertTag[] =
    "INSERT INTO user_tags (user_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
constexpr char kDeleteTag[] = "DELETE FROM user_tags WHERE user_id = ?1 AND tag = ?2";
constexpr char kUserTags[] = "SELECT tag FROM user_tags WHERE user_id = ?1 ORDER BY tag";
constexpr char kAllTags[] = "SELECT user_id, tag FROM user_tags ORDER BY user_id, tag";

constexpr char kInsertKey[] =
    "INSERT INTO api_keys (" KW_ROW_KEY_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?19, " KW_ROW_NEW_KEY_TAIL("?20", "?21", "?22") ")";
constexpr char kListKeys[] = KW_ROW_KEYS_WITH_OLD_SECRETS("?1") KW_ROW_KEYS_WITH_OLD_SECRETS_ORDER;
constexpr char kGetKey[] =
    KW_ROW_KEYS_WITH_OLD_SECRETS("?1") " AND k.name = ?2" KW_ROW_KEYS_WITH_OLD_SECRETS_ORDER;
constexpr char kDeleteKey[] = "DELETE FROM api_keys WHERE user_id = ?1 AND name = ?2";
constexpr char kFindKey[] = "SELECT " KW_ROW_KEY_COLUMNS " FROM api_keys WHERE hash = ?1";
constexpr char kFindKeyByOldSecret[] = KW_ROW_KEY_BY_OLD_SECRET("?1");
constexpr char kTouchKey[] =
    "UPDATE api_keys SET last_used_at = ?2 WHERE hash = ?1 AND last_used_at < ?2";
constexpr char kTouchOldSecret[] =
    "UPDATE rotated_secrets SET last_used_at = ?2 WHERE hash = ?1 AND last_used_at < ?2";

constexpr char kInsertSession[] =
    "INSERT INTO sessions (" KW_ROW_SESSION_COLUMNS ") VALUES (?1, ?2, ?3, ?4)";
constexpr char kFindSession[] = "SELECT " KW_ROW_SESSION_COLUMNS " FROM sessions WHERE hash = ?1";
constexpr char kDeleteSession[] = "DELETE FROM sessions WHERE hash = ?1";
constexpr char kDeleteExpired[] = "DELETE FROM sessions WHERE expires_at < ?1";

constexpr char kInsertAudit[] =
    "INSERT INTO audit_events (occurred_at, actor, action, user_id, target, address, outcome,"
    " reason, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id";
constexpr char kListAudit[] = "SELECT " KW_ROW_AUDIT_COLUMNS
                              " FROM audit_events WHERE occurred_at BETWEEN ?1 AND ?2"
                              " ORDER BY occurred_at DESC, id DESC LIMIT ?3";
constexpr char kListAuditOfUser[] =
    "SELECT " KW_ROW_AUDIT_COLUMNS
    " FROM audit_events WHERE (actor = ?4 OR user_id = ?4) AND occurred_at BETWEEN ?1 AND ?2"
    " ORDER BY occurred_at DESC, id DESC LIMIT ?3";

// The hash prefix lookups (rows.h).
#define KW_PREFIX_RANGE KW_ROW_PREFIX_RANGE("?1", "?2")
#define KW_PREFIX_OPEN KW_ROW_PREFIX_OPEN("?1")
constexpr char kFindKeyByPrefix[] = "SELECT " KW_ROW_KEY_COLUMNS " FROM api_keys" KW_PREFIX_RANGE;
constexpr char kFindKeyByPrefixOpen[] =
    "SELECT " KW_ROW_KEY_COLUMNS " FROM api_keys" KW_PREFIX_OPEN;
constexpr char kFindOldSecretByPrefix[] =
    KW_ROW_KEY_BY_OLD_SECRET_PREFIX KW_ROW_OLD_PREFIX_RANGE("?1", "?2");
constexpr char kFindOldSecretByPrefixOpen[] =
    KW_ROW_KEY_BY_OLD_SECRET_PREFIX KW_ROW_OLD_PREFIX_OPEN("?1");
constexpr char kFindSessionByPrefix[] =
    "SELECT " KW_ROW_SESSION_COLUMNS " FROM sessions" KW_PREFIX_RANGE;
constexpr char kFindSessionByPrefixOpen[] =
    "SELECT " KW_ROW_SESSION_COLUMNS " FROM sessions" KW_PREFIX_OPEN;
#undef KW_PREFIX_RANGE
#undef KW_PREFIX_OPEN

constexpr char kInsertSigningKey[] = "INSERT INTO signing_keys (" KW_ROW_SIGNING_KEY_COLUMNS
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr char kRetireSigningKeys[] =
    "UPDATE signing_keys SET retired_at = ?2 WHERE generation < ?1 AND retired_at = 0";
constexpr char kListSigningKeys[] = KW_ROW_LIST_SIGNING_KEYS;

#undef KW_USER_COLUMNS

// Runs `write` (one transaction of bookkeeping: last-used marks, usage counts) with
// synchronous = NORMAL, then sets FULL again. In WAL mode such a commit survives the process being
// killed (kill -9), only not a power cut before the next FULL commit (any create, delete or
// sign-in), which makes it durable too; what is lost then is a few seconds of last-used times and
// counts, which are approximate anyway. Without its fsync a batch holds the connection (and mu_)
// for its CPU time only, so the writes queued behind it wait less.
template <typename Write>
Status WithoutFsync(Connection& db, Write write) {
  KW_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = NORMAL", "relax synchronous"));
  Status written = write(db);
  // Never leave the connection relaxed: every other commit must reach the disk before it returns.
  Status restored = db.Exec("PRAGMA synchronous = FULL", "restore synchronous");
  if (!restored.ok()) {
    log::Error("the database connection could not be set back to synchronous=FULL: {}",
               restored.ToString());
  }
  return written.ok() ? restored : written;
}

class SqliteStore final : public Store {
 public:
  // `reader` is a second connection to the same file, used only for the lookups that verify a
  // credential (FindKeyByHash, FindSessionByHash and GetUser): in WAL mode a reader never waits
  // for the writer, so a cache miss at /auth is not queued behind a create's or the last-used
  // writer's commit (and its fsync). Each sees every transaction committed before it began.
  SqliteStore(std::unique_ptr<Connection> db, std::unique_ptr<Connection> reader,
              std::size_t creates_per_commit)
      : db_(std::move(db)), reader_(std::move(reader)) {
    if (creates_per_commit > 1) {
      writes_ = std::make_unique<sqlite::GroupCommit<PendingWrite>>(creates_per_commit);
    }
  }

  Status CreateUser(const User& user) override {
    MutexLock lock(mu_);
    Transaction transaction(*db_);
    KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
    {
      KW_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertUser));
      insert.BindText(1, user.id);
      insert.BindText(2, user.name);
      insert.BindText(3, UserTypeName(user.type));
      insert.BindText(4, user.password_hash);
      insert.BindInt(5, user.created_at);
      KW_RETURN_IF_ERROR(
          Reword(insert.Run(), StatusCode::kAlreadyExists, "a user with this id already exists"));
    }
    for (const std::string& tag : user.tags) KW_RETURN_IF_ERROR(InsertTag(user.id, tag));
    return transaction.Commit();
  }

  Result<User> GetUser(std::string_view id) override {
    MutexLock lock(read_mu_);
    return LoadUser(*reader_, id);
  }

  Result<std::vector<User>> ListUsers() override {
    MutexLock lock(mu_);
    Transaction transaction(*db_);
    KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kRead));
    std::vector<User> users;
    std::unordered_map<std::string, std::size_t> index;
    {
      KW_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kListUsers));
      while (true) {
        KW_ASSIGN_OR_RETURN(bool row, select.Step());
        if (!row) break;
        KW_ASSIGN_OR_RETURN(User user, ReadUser(StatementRow(select)));
        index.emplace(user.id, users.size());
        users.push_back(std::move(user));
      }
    }
    KW_ASSIGN_OR_RETURN(Statement tags, db_->Prepare(kAllTags));
    while (true) {
      KW_ASSIGN_OR_RETURN(bool row, tags.Step());
      if (!row) break;
      auto it = index.find(tags.ColumnText(0));
      if (it != index.end()) users[it->second].tags.push_back(tags.ColumnText(1));
    }
    return users;
  }

  Status DeleteUser(std::string_view id) override {
    MutexLock lock(mu_);
    return RunChange(kDeleteUser, "user not found", [&](Statement& s) { s.BindText(1, id); });
  }

  Status SetPasswordHash(std::string_view id, std::string_view password_hash) override {
    MutexLock lock(mu_);
    return RunChange(kSetPassword, "user not found", [&](Statement& s) {
      s.BindText(1, id);
      s.BindText(2, password_hash);
    });
  }

  Status AddTag(std::string_view id, std::string_view tag) override {
    MutexLock lock(mu_);
    return InsertTag(id, tag);
  }

  Status RemoveTag(std::string_view id, std::string_view tag) override {
    MutexLock lock(mu_);
    return RunChange(kDeleteTag, "user or tag not found", [&](Statement& s) {
      s.BindText(1, id);
      s.BindText(2, tag);
    });
  }

  Status CheckReady() override {
    MutexLock lock(mu_);
    KW_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSchemaVersion));
    KW_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return Status::Internal("schema_migrations: no result");
    return CheckSchemaCurrent(select.ColumnInt(0), sqlite::SqliteMigrations());
  }

  Result<std::int64_t> CountUsers() override {
    MutexLock lock(mu_);
    KW_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kCountUsers));
    KW_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return Status::Internal("COUNT returned no row");
    return select.ColumnInt(0);
  }

  Status CreateKey(const KeyRecord& key, const EventList& events) override {
    KW_ASSIGN_OR_RETURN(GrantColumns grant, WriteGrant(key.grant));
    return Write([&]() REQUIRES(mu_) { return InsertKey(key, events, grant); });
  }

  Result<std::vector<KeyRecord>> ListKeys(std::string_view user_id) override {
    MutexLock lock(mu_);
    KW_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kListKeys));
    select.BindText(1, user_id);
    return ReadKeyRows(select);
  }

  Result<KeyRecord> GetKey(std::string_view user_id, std::string_view name) override {
    MutexLock lock(mu_);
    KW_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kGetKey));
    select.BindText(1, user_id);
    select.BindText(2, name);
    KW_ASSIGN_OR_RETURN(std::vector<KeyRecord> keys, ReadKeyRows(select));
    if (keys.empty()) return Status::NotFound("key not found");
    return std::move(keys.front());
  }

  Status DeleteKey(std::string_view user_id, std::string_view name,
                   const EventList& events) override {
    MutexLock lock(mu_);
    Transaction transaction(*db_);
    KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
    KW_RETURN_IF_ERROR(RunChange(kDeleteKey, "key not found", [&](Statement& s) {
      s.BindText(1, user_id);
      s.BindText(2, name);
    }));
    KW_RETURN_IF_ERROR(sqlite::InsertEvents(*db_, events));
    return transaction.Commit();
  }

  Result<KeyRecord> FindKeyByHash(std::string_view hash) override {
    MutexLock lock(read_mu_);
    Connection& db = *reader_;
    Transaction transaction(db);  // both lookups in one snapshot
    KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kRead));
    {
      KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kFindKey));
      select.BindBlob(1, hash);
      KW_ASSIGN_OR_RETURN(bool found, select.Step());
      if (found) return ReadKey(StatementRow(select));
    }
    KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kFindKeyByOldSecret));
    select.BindBlob(1, hash);
    KW_ASSIGN_OR_RETURN(bool found, select.Step());
    if (!found) return Status::NotFound("key not found");
    StatementRow row(select);
    KeyRecord key = ReadKey(row);
    key.old_secrets.push_back(ReadOldSecret(row, KW_ROW_KEY_COLUMN_COUNT));
    key.by_old_secret = true;
    return key;
  }

  Status TouchKeys(const std::vector<std::pair<std::string, UnixSeconds>>& used) override {
    if (used.empty()) return Status::Ok();
    MutexLock lock(mu_);
    return WithoutFsync(*db_, [&](Connection& db) -> Status {
      Transaction transaction(db);
      KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
      for (const auto& [hash, when] : used) {
        for (const char* sql : {kTouchKey, kTouchOldSecret}) {
          KW_ASSIGN_OR_RETURN(Statement update, db.Prepare(sql));
          update.BindBlob(1, hash);
          update.BindInt(2, when);
          KW_RETURN_IF_ERROR(update.Run());
        }
      }
      return transaction.Commit();
    });
  }

  Status CreateSession(const SessionRecord& session) override {
    MutexLock lock(mu_);
    KW_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertSession));
    insert.BindText(1, session.user_id);
    insert.BindBlob(2, session.hash);
    insert.BindInt(3, session.created_at);
    insert.BindInt(4, session.expires_at);
    return Reword(insert.Run(), StatusCode::kAlreadyExists, "the session already exists");
  }

  Result<SessionRecord> FindSessionByHash(std::string_view hash) override {
    MutexLock lock(read_mu_);
    KW_ASSIGN_OR_RETURN(Statement select, reader_->Prepare(kFindSession));
    select.BindBlob(1, hash);
    KW_ASSIGN_OR_RETURN(bool found, select.Step());
    if (!found) return Status::NotFound("session not found");
    return ReadSession(StatementRow(select));
  }

  Status DeleteSession(std::string_view hash) override {
    MutexLock lock(mu_);
    return RunChange(kDeleteSession, "session not found",
                     [&](Statement& s) { s.BindBlob(1, hash); });
  }

  Result<std::int64_t> DeleteExpiredSessions(UnixSeconds now) override {
    MutexLock lock(mu_);
    KW_ASSIGN_OR_RETURN(Statement remove, db_->Prepare(kDeleteExpired));
    remove.BindInt(1, now);
    KW_RETURN_IF_ERROR(remove.Run());
    return remove.Changes();
  }

  // Batched like key creates (Write): a create's audit record, written after the key, would
  // otherwise cost a durable transaction of its own.
  Result<std::int64_t> AppendAudit(const AuditEvent& event) override {
    std::int64_t id = 0;
    KW_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
      KW_ASSIGN_OR_RETURN(id, InsertAudit(event));
      return Status::Ok();
    }));
    return id;
  }

  Result<std::int64_t> InsertAudit(const AuditEvent& event) REQUIRES(mu_) {
    KW_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertAudit));
    insert.BindInt(1, event.time);
    insert.BindText(2, event.actor);
    insert.BindText(3, AuditActionName(event.action));
    insert.BindText(4, event.user);
    insert.BindText(5, event.target);
    insert.BindText(6, event.address);
    insert.BindText(7, AuditOutcomeName(event.success));
    insert.BindText(8, event.reason);
    insert.BindText(9, event.detail);
    KW_ASSIGN_OR_RETURN(bool row, insert.Step());
    if (!row) return Status::Internal("INSERT ... RETURNING returned no row");
    std::int64_t id = insert.ColumnInt(0);
    // Steps past the row so the statement completes now.
    KW_ASSIGN_OR_RETURN(bool more, insert.Step());
    if (more) return Status::Internal("INSERT ... RETURNING returned two rows");
    return id;
  }

  Result<std::vector<AuditEvent>> ListAudit(const AuditFilter& filter) override {
    MutexLock lock(mu_);
    const bool of_user = !filter.user.empty();
    KW_ASSIGN_OR_RETURN(Statement select, db_->Prepare(of_user ? kListAuditOfUser : kListAudit));
    select.BindInt(1, filter.since);
    select.BindInt(2, filter.until);
    select.BindInt(3, filter.limit);
    if (of_user) select.BindText(4, filter.user);
    std::vector<AuditEvent> events;
    while (true) {
      KW_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      KW_ASSIGN_OR_RETURN(AuditEvent event, ReadAudit(StatementRow(select)));
      events.push_back(std::move(event));
    }
    return events;
  }

  Status AddSigningKey(const SigningKeyRecord& key, UnixSeconds retire_others_at) override {
    MutexLock lock(mu_);
    Transaction transaction(*db_);
    KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
    {
      KW_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertSigningKey));
      insert.BindInt(1, key.generation);
      insert.BindText(2, key.kid);
      insert.BindText(3, key.alg);
      insert.BindText(4, key.public_jwk);
      insert.BindBlob(5, key.sealed_private);
      insert.BindInt(6, key.created_at);
      insert.BindInt(7, key.activates_at);
      insert.BindInt(8, key.retired_at);
      KW_RETURN_IF_ERROR(Reword(insert.Run(), StatusCode::kAlreadyExists,
                                "a signing key of this generation or kid already exists"));
    }
    if (retire_others_at != 0) {
      KW_ASSIGN_OR_RETURN(Statement retire, db_->Prepare(kRetireSigningKeys));
      retire.BindInt(1, key.generation);
      retire.BindInt(2, retire_others_at);
      KW_RETURN_IF_ERROR(retire.Run());
    }
    return transaction.Commit();
  }

  Result<std::vector<SigningKeyRecord>> ListSigningKeys() override {
    MutexLock lock(mu_);
    KW_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kListSigningKeys));
    std::vector<SigningKeyRecord> keys;
    while (true) {
      KW_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      keys.push_back(ReadSigningKey(StatementRow(select)));
    }
    return keys;
  }

  // A current secret, or an old one (rows.h, OneKeyByPrefix), in one snapshot.
  Result<KeyRecord> FindKeyByHashPrefix(std::string_view prefix) override {
    KW_ASSIGN_OR_RETURN(std::optional<std::string> upper, HashPrefixUpperBound(prefix));
    MutexLock lock(mu_);
    Transaction transaction(*db_);
    KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kRead));
    std::vector<KeyRecord> found[2];  // current, old
    for (int old = 0; old < 2; ++old) {
      const char* sql = old != 0 ? (upper ? kFindOldSecretByPrefix : kFindOldSecretByPrefixOpen)
                                 : (upper ? kFindKeyByPrefix : kFindKeyByPrefixOpen);
      KW_ASSIGN_OR_RETURN(Statement select, db_->Prepare(sql));
      select.BindBlob(1, prefix);
      if (upper) select.BindBlob(2, *upper);
      while (true) {
        KW_ASSIGN_OR_RETURN(bool row, select.Step());
        if (!row) break;
        StatementRow read(select);
        found[old].push_back(old != 0 ? ReadKeyByOldSecret(read) : ReadKey(read));
      }
    }
    return OneKeyByPrefix(std::move(found[0]), std::move(found[1]));
  }

  Result<SessionRecord> FindSessionByHashPrefix(std::string_view prefix) override {
    return FindByPrefix<SessionRecord>(prefix, kFindSessionByPrefix, kFindSessionByPrefixOpen,
                                       ReadSession, "session not found");
  }
  // --- issue 15: sqlite_key_lifecycle.cc and sqlite_webhooks.cc ---
  Status RotateKey(std::string_view user_id, std::string_view name, std::string_view expected_hash,
                   const KeyRecord& next, const OldSecret& old, const EventList& events) override {
    MutexLock lock(mu_);
    return sqlite::RotateKey(*db_, user_id, name, expected_hash, next, old, events);
  }
  Status UpdateKey(std::string_view user_id, std::string_view name, std::int64_t expected_revision,
                   const KeyUpdate& update, const EventList& events) override {
    MutexLock lock(mu_);
    return sqlite::UpdateKey(*db_, user_id, name, expected_revision, update, events);
  }
  Result<std::vector<KeyRecord>> ListKeysToWarn(UnixSeconds now, std::int64_t within,
                                                int limit) override {
    MutexLock lock(mu_);
    return sqlite::ListKeysToWarn(*db_, now, within, limit);
  }
  Result<std::vector<KeyRecord>> ListKeysExpiredUnannounced(UnixSeconds now, int limit) override {
    MutexLock lock(mu_);
    return sqlite::ListKeysExpiredUnannounced(*db_, now, limit);
  }
  Result<std::vector<KeyRecord>> ListIdleKeys(UnixSeconds now, int limit) override {
    MutexLock lock(mu_);
    return sqlite::ListIdleKeys(*db_, now, limit);
  }
  Result<bool> AnnounceExpiry(std::string_view hash, std::int64_t within,
                              const EventList& events) override {
    MutexLock lock(mu_);
    return sqlite::AnnounceExpiry(*db_, hash, within, events);
  }
  Result<bool> RevokeIdleKey(std::string_view hash, UnixSeconds unused_since,
                             const EventList& events) override {
    MutexLock lock(mu_);
    return sqlite::RevokeIdleKey(*db_, hash, unused_since, events);
  }
  Result<std::int64_t> PruneOldSecrets(UnixSeconds now) override {
    MutexLock lock(mu_);
    return sqlite::PruneOldSecrets(*db_, now);
  }
  Status CreateWebhook(const Webhook& webhook) override {
    MutexLock lock(mu_);
    return sqlite::CreateWebhook(*db_, webhook);
  }
  Result<std::vector<Webhook>> ListWebhooks() override {
    MutexLock lock(mu_);
    return sqlite::ListWebhooks(*db_);
  }
  Result<Webhook> GetWebhook(std::string_view id) override {
    MutexLock lock(mu_);
    return sqlite::GetWebhook(*db_, id);
  }
  Status DeleteWebhook(std::string_view id) override {
    MutexLock lock(mu_);
    return sqlite::DeleteWebhook(*db_, id);
  }
  Result<std::vector<std::int64_t>> AppendEvents(const EventList& events) override {
    MutexLock lock(mu_);
    return sqlite::AppendEvents(*db_, events);
  }
  Result<std::vector<Delivery>> ClaimDeliveries(UnixSeconds now, UnixSeconds lease_until,
                                                int limit) override {
    MutexLock lock(mu_);
    return sqlite::ClaimDeliveries(*db_, now, lease_until, limit);
  }
  Status FinishDelivery(std::int64_t id, const DeliveryOutcome& outcome) override {
    MutexLock lock(mu_);
    return sqlite::FinishDelivery(*db_, id, outcome);
  }
  Result<std::vector<Delivery>> ListDeliveries(std::string_view webhook_id, int limit) override {
    MutexLock lock(mu_);
    return sqlite::ListDeliveries(*db_, webhook_id, limit);
  }
  Result<std::int64_t> PruneEvents(UnixSeconds before) override {
    MutexLock lock(mu_);
    return sqlite::PruneEvents(*db_, before);
  }
  // --- issue 16: sqlite_usage.cc ---
  Status RecordUsage(const std::vector<UsageDelta>& deltas) override {
    if (deltas.empty()) return Status::Ok();
    MutexLock lock(mu_);
    return WithoutFsync(*db_, [&](Connection& db) { return sqlite::RecordUsage(db, deltas); });
  }
  Result<KeyUsage> GetUsage(std::string_view user_id, std::string_view name, UnixSeconds since,
                            UnixSeconds until) override {
    MutexLock lock(mu_);
    return sqlite::GetUsage(*db_, user_id, name, since, until);
  }
  Result<std::vector<KeyUsageTotal>> TopUsage(UsageRanking by, UnixSeconds since,
                                              int limit) override {
    MutexLock lock(mu_);
    return sqlite::TopUsage(*db_, by, since, limit);
  }
  Result<std::int64_t> PruneUsage(UnixSeconds before) override {
    MutexLock lock(mu_);
    return sqlite::PruneUsage(*db_, before);
  }
  // --- issue 19: sqlite_sign_in.cc ---
  Status UpdateSignInCounters(const std::vector<std::string>& subjects,
                              const SignInCounterUpdate& update) override {
    MutexLock lock(mu_);
    return sqlite::UpdateSignInCounters(*db_, subjects, update);
  }
  Result<std::int64_t> PruneSignInCounters(UnixSeconds now) override {
    MutexLock lock(mu_);
    return sqlite::PruneSignInCounters(*db_, now);
  }

  SqliteCreateBatchStats CreateBatchStats() {
    if (writes_ == nullptr) return {};
    const sqlite::GroupCommitStats stats = writes_->stats();
    return {.batches = stats.batches,
            .creates = stats.requests,
            .largest_batch = stats.largest_batch,
            .queued = stats.queued};
  }

  Result<std::string> Pragma(const char* sql) {
    MutexLock lock(mu_);
    return db_->QueryText(sql);
  }

 private:
  // OK if the user has the tag already; NotFound if the user is absent.
  Status InsertTag(std::string_view id, std::string_view tag) REQUIRES(mu_) {
    KW_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertTag));
    insert.BindText(1, id);
    insert.BindText(2, tag);
    return insert.Run();
  }

  // A write waiting for a batch (GroupCommit): a key create or an audit record. `write` runs
  // under mu_ inside the batch's transaction (borrowing its caller's values); `result` is set by
  // the leader that writes it.
  struct PendingWrite {
    std::function<Status()> write;
    Status result;
  };

  // Runs `write` (which needs mu_) in a durable transaction: shared with the writes that queued
  // while the previous one committed (GroupCommit), or alone when creates_per_commit is 1.
  template <typename Fn>
  Status Write(Fn write) EXCLUDES(mu_) {
    PendingWrite pending;
    pending.write = [&]() {
      mu_.AssertHeld();
      return write();
    };
    if (writes_ == nullptr) {
      MutexLock lock(mu_);
      return WriteAlone(pending);
    }
    writes_->Submit(pending,
                    [this](const std::vector<PendingWrite*>& batch) { WriteBatch(batch); });
    return pending.result;
  }

  // The key's row and its outbox events, in the caller's transaction.
  Status InsertKey(const KeyRecord& key, const EventList& events, const GrantColumns& grant)
      REQUIRES(mu_) {
    {
      KW_ASSIGN_OR_RETURN(Statement insert, db_->Prepare(kInsertKey));
      insert.BindText(1, key.user_id);
      insert.BindText(2, key.name);
      insert.BindBlob(3, key.hash);
      insert.BindBlob(4, key.sealed);
      insert.BindText(5, key.masked);
      insert.BindInt(6, key.created_at);
      insert.BindInt(7, key.expires_at);
      insert.BindInt(8, key.last_used_at);
      insert.BindText(9, grant.scopes);
      if (grant.tags) {
        insert.BindText(10, *grant.tags);
      } else {
        insert.BindNull(10);
      }
      insert.BindText(11, grant.allowed_addresses);
      insert.BindInt(12, grant.full_access);
      insert.BindText(13, key.description);
      insert.BindInt(14, key.disabled ? 1 : 0);
      insert.BindInt(15, key.validity);
      insert.BindInt(16, key.idle_timeout);
      insert.BindInt(17, key.revoke_on_reuse ? 1 : 0);
      insert.BindInt(18, key.rotated_at);
      insert.BindInt(19, key.announced_within);
      const RateLimit limit = StoredRateLimit(key.rate_limit);
      insert.BindInt(20, limit.requests);
      insert.BindInt(21, limit.per);
      insert.BindInt(22, key.canary ? 1 : 0);
      // A missing user fails the foreign key (NotFound); a taken name, the UNIQUE constraint.
      KW_RETURN_IF_ERROR(
          Reword(insert.Run(), StatusCode::kAlreadyExists, "a key with this name already exists"));
    }
    return sqlite::InsertEvents(*db_, events);
  }

  // One write in a transaction of its own.
  Status WriteAlone(const PendingWrite& pending) REQUIRES(mu_) {
    Transaction transaction(*db_);
    KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
    KW_RETURN_IF_ERROR(pending.write());
    return transaction.Commit();
  }

  Status RunSql(const char* sql) REQUIRES(mu_) {
    KW_ASSIGN_OR_RETURN(Statement statement, db_->Prepare(sql));
    return statement.Run();
  }

  // A GroupCommit batch: every create in one transaction, each in a SAVEPOINT of its own, so a
  // create that fails (a taken name, a missing user or webhook) is undone alone and the others
  // commit. Each create's result is set only once the COMMIT has returned: OK when its row is
  // on disk; when the COMMIT (or BEGIN, or a failure that ends the whole transaction, such as
  // a full disk) fails, that error for every create not refused on its own: none was stored.
  void WriteBatch(const std::vector<PendingWrite*>& batch) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (batch.size() == 1) {  // nothing to share the transaction with: no savepoint either
      batch.front()->result = WriteAlone(*batch.front());
      return;
    }
    // Until the COMMIT says otherwise, a create refused on its own has its error here and one
    // written in the transaction has OK.
    auto fail_all = [&](const Status& failure) {
      for (PendingWrite* create : batch) {
        if (create->result.ok()) create->result = failure;
      }
    };
    Transaction transaction(*db_);
    if (Status begun = transaction.Begin(Transaction::Mode::kWrite); !begun.ok()) {
      return fail_all(begun);
    }
    for (PendingWrite* create : batch) {
      if (Status saved = RunSql("SAVEPOINT kw_create"); !saved.ok()) return fail_all(saved);
      Status inserted = create->write();
      if (inserted.ok()) {
        if (Status released = RunSql("RELEASE kw_create"); !released.ok()) {
          return fail_all(released);
        }
        continue;
      }
      // SQLite ends the whole transaction itself on some errors (a full disk, I/O, out of
      // memory): then what the batch wrote before this create is gone too.
      if (sqlite3_get_autocommit(db_->raw()) != 0) return fail_all(inserted);
      if (Status undone = RunSql("ROLLBACK TO kw_create"); !undone.ok()) {
        return fail_all(undone);
      }
      if (Status released = RunSql("RELEASE kw_create"); !released.ok()) {
        return fail_all(released);
      }
      create->result = std::move(inserted);
    }
    // The transaction's destructor rolls back whatever a failed COMMIT left open.
    if (Status committed = transaction.Commit(); !committed.ok()) fail_all(committed);
  }

  // The keys of a KW_ROW_KEYS_WITH_OLD_SECRETS statement, with their old secrets.
  static Result<std::vector<KeyRecord>> ReadKeyRows(Statement& select) {
    std::vector<KeyRecord> keys;
    while (true) {
      KW_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) return keys;
      AddKeyRow(StatementRow(select), keys);
    }
  }

  // Runs a single-statement UPDATE or DELETE; NotFound if no row changed.
  template <typename Bind>
  Status RunChange(const char* sql, const char* not_found, Bind bind) REQUIRES(mu_) {
    KW_ASSIGN_OR_RETURN(Statement statement, db_->Prepare(sql));
    bind(statement);
    KW_RETURN_IF_ERROR(statement.Run());
    if (statement.Changes() == 0) return Status::NotFound(not_found);
    return Status::Ok();
  }

  // The one row whose hash starts with `prefix` (rows.h, HashPrefixUpperBound); NotFound when
  // none or two match.
  template <typename Record>
  Result<Record> FindByPrefix(std::string_view prefix, const char* range, const char* open,
                              Record (*read)(const RowReader&), const char* not_found) {
    KW_ASSIGN_OR_RETURN(std::optional<std::string> upper, HashPrefixUpperBound(prefix));
    MutexLock lock(mu_);
    KW_ASSIGN_OR_RETURN(Statement select, db_->Prepare(upper ? range : open));
    select.BindBlob(1, prefix);
    if (upper) select.BindBlob(2, *upper);
    KW_ASSIGN_OR_RETURN(bool found, select.Step());
    if (!found) return Status::NotFound(not_found);
    Record record = read(StatementRow(select));
    KW_ASSIGN_OR_RETURN(bool second, select.Step());
    if (second) return Status::NotFound(not_found);  // ambiguous: never guess
    return record;
  }

  // The user with its tags, in one read transaction on `db`.
  static Result<User> LoadUser(Connection& db, std::string_view id) {
    Transaction transaction(db);
    KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kRead));
    User user;
    {
      KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kGetUser));
      select.BindText(1, id);
      KW_ASSIGN_OR_RETURN(bool found, select.Step());
      if (!found) return Status::NotFound("user not found");
      KW_ASSIGN_OR_RETURN(user, ReadUser(StatementRow(select)));
    }
    KW_ASSIGN_OR_RETURN(Statement tags, db.Prepare(kUserTags));
    tags.BindText(1, id);
    while (true) {
      KW_ASSIGN_OR_RETURN(bool row, tags.Step());
      if (!row) break;
      user.tags.push_back(tags.ColumnText(0));
    }
    return user;  // the read transaction ends in the destructor
  }

  Mutex mu_;  // guards db_, its cached statements and every call into SQLite through it
  std::unique_ptr<Connection> db_ GUARDED_BY(mu_);
  // Key creates and audit records, batched into shared transactions; null when each gets its
  // own (creates_per_commit 1). Its batches are written under mu_, which it takes itself: never
  // call it with mu_ held.
  std::unique_ptr<sqlite::GroupCommit<PendingWrite>> writes_;
  Mutex read_mu_;  // the same for reader_; never held together with mu_
  std::unique_ptr<Connection> reader_ GUARDED_BY(read_mu_);
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& options) {
  KW_RETURN_IF_ERROR(sqlite::CreateOwnerOnlyFile(path));
  KW_ASSIGN_OR_RETURN(std::unique_ptr<Connection> db, Connection::Open(path, options.busy_timeout));
  KW_ASSIGN_OR_RETURN(std::string mode, db->QueryText("PRAGMA journal_mode = WAL"));
  if (mode != "wal") {
    return Status::Internal(
        fmt::format("{}: journal_mode is {}, WAL is not available", path, mode));
  }
  // Per connection: a commit reaches the disk before it returns, and ON DELETE CASCADE works.
  KW_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = FULL", "set synchronous"));
  KW_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON", "enable foreign keys"));
  KW_RETURN_IF_ERROR(sqlite::ApplyMigrations(*db, sqlite::SqliteMigrations(), Clock::System()));
  // SQLite creates them with the database's mode; this also fixes ones left by older versions.
  KW_RETURN_IF_ERROR(sqlite::TightenModeIfPresent(path + "-wal"));
  KW_RETURN_IF_ERROR(sqlite::TightenModeIfPresent(path + "-shm"));
  // The readers' connection opens after the migrations, on the schema they made; it never writes.
  KW_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader,
                      Connection::Open(path, options.busy_timeout));
  KW_RETURN_IF_ERROR(reader->Exec("PRAGMA query_only = ON", "make the reader read-only"));
  return std::unique_ptr<Store>(
      std::make_unique<SqliteStore>(std::move(db), std::move(reader), options.creates_per_commit));
}

Result<std::string> SqlitePragmaForTesting(Store& store, std::string_view name) {
  static const std::unordered_map<std::string_view, const char*> kAllowed = {
      {"journal_mode", "PRAGMA journal_mode"},
      {"synchronous", "PRAGMA synchronous"},
      {"foreign_keys", "PRAGMA foreign_keys"},
      {"busy_timeout", "PRAGMA busy_timeout"},
  };
  auto* sqlite_store = dynamic_cast<SqliteStore*>(&store);
  auto it = kAllowed.find(name);
  if (sqlite_store == nullptr || it == kAllowed.end()) {
    return Status::InvalidArgument("not an SQLite store or not an allowed pragma");
  }
  return sqlite_store->Pragma(it->second);
}

Result<SqliteCreateBatchStats> SqliteCreateBatchStatsForTesting(Store& store) {
  auto* sqlite_store = dynamic_cast<SqliteStore*>(&store);
  if (sqlite_store == nullptr) return Status::InvalidArgument("not an SQLite store");
  return sqlite_store->CreateBatchStats();
}

}  // namespace keyward
