// Store: everything Keyward keeps, behind one interface with two backends (SQLite, PostgreSQL).
//
// Every method is atomic: it happens completely or not at all, and when it returns OK the
// change is durable. Methods block (disk or network I/O): call them from blocking threads only.
// Implementations are thread safe. Errors:
//   NotFound       the user, key or session does not exist
//   AlreadyExists  a user id, or a key name for that user, is taken
//   InvalidArgument  a text argument (id, name, tag, ...) is not valid UTF-8 or holds NUL: no
//                  row can hold it (store/rows.h InvalidText), so lookups by it are refused,
//                  never answered NotFound or with an empty list
//   Unavailable    the database cannot be reached or is busy beyond its timeout
//   Internal       anything else (detail() holds the backend's message)
// No backend type appears in this header.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/audit_event.h"
#include "core/key_record.h"
#include "core/signing_key_record.h"
#include "core/user.h"

namespace keyward {

// Changes other nodes made, for this node's caches. Callbacks run on a store thread, one at a
// time; they must be quick and must not call back into the store that runs them.
struct StoreEvents {
  std::function<void(std::string_view hash)> key_revoked;      // a key or session deleted
  std::function<void(std::string_view user_id)> user_changed;  // user deleted or tags changed
  std::function<void()> resync;  // events may have been missed: drop everything cached
};

class Store {
 public:
  virtual ~Store() = default;

  // --- users ---
  // `user.tags` are stored too. AlreadyExists if the id is taken.
  virtual Status CreateUser(const User& user) = 0;
  // The user with its tags (sorted). NotFound if absent.
  virtual Result<User> GetUser(std::string_view id) = 0;
  // All users with their tags, ordered by id.
  virtual Result<std::vector<User>> ListUsers() = 0;
  // Deletes the user with its tags, keys and sessions. NotFound if absent.
  virtual Status DeleteUser(std::string_view id) = 0;
  virtual Status SetPasswordHash(std::string_view id, std::string_view password_hash) = 0;
  // Adding a tag the user has is OK (no change). NotFound if the user is absent.
  virtual Status AddTag(std::string_view id, std::string_view tag) = 0;
  // NotFound if the user is absent or does not have the tag.
  virtual Status RemoveTag(std::string_view id, std::string_view tag) = 0;
  virtual Result<std::int64_t> CountUsers() = 0;

  // --- API keys ---
  // Keeps every field, the grant included as given (the caller normalizes it; reads return it
  // unchanged, tags nullopt and an empty list kept apart). Keys stored before grants existed
  // (V003) read back with grant.full_access set. NotFound if the user is absent; AlreadyExists
  // if the user has a key of that name; InvalidArgument if a grant entry is empty or holds a
  // space (rows.h, WriteGrant).
  virtual Status CreateKey(const KeyRecord& key) = 0;
  // The user's keys ordered by creation time (then name). Expired keys are included.
  virtual Result<std::vector<KeyRecord>> ListKeys(std::string_view user_id) = 0;
  virtual Result<KeyRecord> GetKey(std::string_view user_id, std::string_view name) = 0;
  virtual Status DeleteKey(std::string_view user_id, std::string_view name) = 0;
  // `hash` is the 32-byte SHA-256 of the key.
  virtual Result<KeyRecord> FindKeyByHash(std::string_view hash) = 0;
  // Sets last_used_at for many keys at once (by hash) in one transaction; unknown hashes are
  // skipped. Called in batches, never per request.
  virtual Status TouchKeys(const std::vector<std::pair<std::string, UnixSeconds>>& used) = 0;

  // --- sessions ---
  // NotFound if the user is absent.
  virtual Status CreateSession(const SessionRecord& session) = 0;
  virtual Result<SessionRecord> FindSessionByHash(std::string_view hash) = 0;
  virtual Status DeleteSession(std::string_view hash) = 0;
  // Removes sessions that expired before `now`; returns how many.
  virtual Result<std::int64_t> DeleteExpiredSessions(UnixSeconds now) = 0;

  // --- audit log ---
  // Appends `event` (its id is ignored) and returns the id the store gave it; later events get
  // larger ids. On an error (Unavailable, Internal) nothing is appended.
  virtual Result<std::int64_t> AppendAudit(const AuditEvent& event) = 0;
  // The events `filter` selects, newest first (time, then id, descending), at most
  // filter.limit of them. Events outlive the users they name.
  virtual Result<std::vector<AuditEvent>> ListAudit(const AuditFilter& filter) = 0;

  // --- token-signing keys (service/signing_key_ring.h) ---
  // Adds `key`. AlreadyExists when its generation or kid is taken (another node rotated first).
  // With `retire_others_at` ≠ 0, every key of a lower generation whose retired_at is 0 gets that
  // value, in the same transaction (an emergency rotation).
  virtual Status AddSigningKey(const SigningKeyRecord& key, UnixSeconds retire_others_at) = 0;
  // Every signing key, by generation ascending.
  virtual Result<std::vector<SigningKeyRecord>> ListSigningKeys() = 0;

  // The API key whose hash starts with `prefix` (1-32 bytes), through the hash index (a range
  // scan). NotFound when no key, or more than one, has that prefix: an issued token names its
  // key by such a prefix (service/token_service.h).
  virtual Result<KeyRecord> FindKeyByHashPrefix(std::string_view prefix) = 0;
  // The same for sign-in sessions (a token exchanged from a CLI session names its session so).
  virtual Result<SessionRecord> FindSessionByHashPrefix(std::string_view prefix) = 0;

  // --- several nodes ---
  // Starts delivering `events` for the changes any node makes to the shared database (a node
  // hears its own too); a second call replaces the first. Once it returns, later changes are
  // heard, or resync() is called when some may have been missed (the backend lost its
  // connection, or could not listen yet). Empty callbacks are skipped. Delivery stops before the
  // store's destructor returns. Never fails: a backend that cannot listen keeps retrying.
  // The default, for single-node backends (SQLite), does nothing.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): a sink, overrides move from it.
  virtual void Subscribe(StoreEvents /*events*/) {}  // SQLite: one node, nothing to hear
};

}  // namespace keyward
