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

#include <cstddef>
#include <cstdint>
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
#include "core/usage.h"
#include "core/user.h"
#include "core/webhook.h"

namespace keyward {

// Changes other nodes made, for this node's caches. Callbacks run on a store thread, one at a
// time; they must be quick and must not call back into the store that runs them.
struct StoreEvents {
  std::function<void(std::string_view hash)> key_revoked;      // a key or session deleted
  std::function<void(std::string_view user_id)> user_changed;  // user deleted or tags changed
  std::function<void()> resync;  // events may have been missed: drop everything cached
  // A token-signing key was added (an emergency rotation signs at once): read them again.
  std::function<void()> signing_keys_changed;
};

// A count of failed sign-ins (service/login_throttle.h, issue 19): of one user name or one
// client address, which the store knows only by an opaque digest (its "subject").
struct SignInCounter {
  std::int64_t failures = 0;
  UnixSeconds locked_until = 0;  // no attempt is admitted before then; 0: not locked
  UnixSeconds expires_at = 0;    // PruneSignInCounters forgets it from then on
};

// Changes the counters UpdateSignInCounters passes it, in the order of their subjects; true to
// store them, false to leave the store as it was.
using SignInCounterUpdate = std::function<bool(std::vector<SignInCounter>& counters)>;

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
  // Methods that change a key take `events`: appended to the webhook outbox in the same
  // transaction as the change and fanned out there to one pending delivery per matching webhook
  // (AppendEvents), so they exist exactly when the change does. Those that make a key's
  // secret stop working (delete, rotate, disable, a narrower grant, a shorter expiry) tell the
  // other nodes in the same transaction (StoreEvents::key_revoked for the current secret and
  // every old one).
  //
  // Keeps every field, the grant included as given (the caller normalizes it; reads return it
  // unchanged, tags nullopt and an empty list kept apart). Keys stored before grants existed
  // (V003) read back with grant.full_access set; before V005, with validity 0, enabled, no
  // description; before V006, without a rate limit. key.rate_limit is stored (requests 0: none,
  // read back as {0, 0}). NotFound if the user is absent; AlreadyExists if the user has a key of
  // that name; InvalidArgument if a grant entry is empty or holds a space (rows.h, WriteGrant).
  // key.old_secrets, by_old_secret and revision are ignored (a new key has revision 0).
  virtual Status CreateKey(const KeyRecord& key, const EventList& events) = 0;
  Status CreateKey(const KeyRecord& key) { return CreateKey(key, {}); }
  // The user's keys ordered by creation time (then name), each with its old secrets (newest
  // first). Expired and disabled keys are included.
  virtual Result<std::vector<KeyRecord>> ListKeys(std::string_view user_id) = 0;
  virtual Result<KeyRecord> GetKey(std::string_view user_id, std::string_view name) = 0;
  // Deletes the key with its old secrets. NotFound if absent.
  virtual Status DeleteKey(std::string_view user_id, std::string_view name,
                           const EventList& events) = 0;
  Status DeleteKey(std::string_view user_id, std::string_view name) {
    return DeleteKey(user_id, name, {});
  }
  // `hash` is the 32-byte SHA-256 of the key. A hash of one of a key's old secrets finds that
  // key, with old_secrets = {that secret} and by_old_secret set (KeyRecord::hash stays the
  // current secret's).
  virtual Result<KeyRecord> FindKeyByHash(std::string_view hash) = 0;
  // Sets last_used_at for many keys at once (by hash: a current secret's, or an old secret's,
  // whose own last_used_at is set) in one transaction; unknown hashes are skipped. Called in
  // batches, never per request; a time earlier than the stored one is ignored.
  virtual Status TouchKeys(const std::vector<std::pair<std::string, UnixSeconds>>& used) = 0;
  // Rotation, in one transaction: only if the key's current hash is still `expected_hash`
  // (else FailedPrecondition "the key was changed meanwhile; try again"), `old` joins the key's
  // old secrets, and the key takes `next`'s hash, sealed, masked, expires_at and rotated_at,
  // last_used_at 0 and announced_within -1, and its revision is incremented (name, grant and
  // every other field kept). NotFound
  // if the key is absent.
  virtual Status RotateKey(std::string_view user_id, std::string_view name,
                           std::string_view expected_hash, const KeyRecord& next,
                           const OldSecret& old, const EventList& events) = 0;
  // Applies the fields `update` sets and increments the key's revision, only if its revision
  // is still `expected_revision` (KeyRecord::revision as read before deciding the change: a
  // compare-and-swap, so a change decided on a stale read never overwrites a concurrent one);
  // else FailedPrecondition "the key was changed meanwhile; try again". NotFound if the key is
  // absent; AlreadyExists when update.name is taken by another key of the user; InvalidArgument
  // as CreateKey for a grant.
  virtual Status UpdateKey(std::string_view user_id, std::string_view name,
                           std::int64_t expected_revision, const KeyUpdate& update,
                           const EventList& events) = 0;
  // The housekeeper's (service/housekeeper.h) lists, of all users' keys, each at most `limit`
  // keys ordered by expires_at (then id), without old secrets. Each returns only keys that still
  // need the housekeeper, so acting on them takes them out of the list and a later pass goes on
  // with the rest: none starves however many keys are due.
  // Keys to warn at threshold `within` (seconds): now < expires_at ≤ now + within, and
  // announced_within is −1 or greater than `within`.
  virtual Result<std::vector<KeyRecord>> ListKeysToWarn(UnixSeconds now, std::int64_t within,
                                                        int limit) = 0;
  // Expired keys whose key.expired is not announced: now − 86400 < expires_at ≤ now (a key that
  // expired over a day ago, say while the server was down, is never announced) and
  // announced_within ≠ 0.
  virtual Result<std::vector<KeyRecord>> ListKeysExpiredUnannounced(UnixSeconds now, int limit) = 0;
  // Idle keys: idle_timeout > 0 and max(created_at, rotated_at, last_used_at) + idle_timeout ≤
  // now.
  virtual Result<std::vector<KeyRecord>> ListIdleKeys(UnixSeconds now, int limit) = 0;
  // Sets announced_within = `within` on the key whose current hash is `hash`, with `events`,
  // only when announced_within is −1 or greater than `within`: true when it did, false (and no
  // event) when another node did first or the key is gone.
  virtual Result<bool> AnnounceExpiry(std::string_view hash, std::int64_t within,
                                      const EventList& events) = 0;
  // Deletes the key whose current hash is `hash`, with `events`, only when none of created_at,
  // rotated_at and last_used_at is ≥ `unused_since`: true when it did.
  virtual Result<bool> RevokeIdleKey(std::string_view hash, UnixSeconds unused_since,
                                     const EventList& events) = 0;
  // Forgets old secrets whose own expiry is ≤ `now`; returns how many.
  virtual Result<std::int64_t> PruneOldSecrets(UnixSeconds now) = 0;

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
  // key by such a prefix (service/token_service.h). Old secrets (rotated_secrets, through its
  // hash index) count too: a secret so found comes as FindKeyByHash gives it (by_old_secret,
  // old_secrets = {it}); the prefix must then match no other secret, current or old.
  virtual Result<KeyRecord> FindKeyByHashPrefix(std::string_view prefix) = 0;
  // The same for sign-in sessions (a token exchanged from a CLI session names its session so).
  virtual Result<SessionRecord> FindSessionByHashPrefix(std::string_view prefix) = 0;

  // --- webhooks (core/webhook.h) ---
  // AlreadyExists if the id is taken.
  virtual Status CreateWebhook(const Webhook& webhook) = 0;
  // Ordered by created_at, then id.
  virtual Result<std::vector<Webhook>> ListWebhooks() = 0;
  virtual Result<Webhook> GetWebhook(std::string_view id) = 0;
  // Deletes the webhook with its deliveries. NotFound if absent.
  virtual Status DeleteWebhook(std::string_view id) = 0;
  // Appends events that go with no other change (key.reuse_detected, webhook.test) and fans
  // them out, in one transaction. Fan-out: one delivery (pending, next_attempt_at = the event's
  // time, attempts 0) per webhook whose `events` is empty or holds the type and whose `users`
  // is empty or holds the event's user_id; an event with only_webhook set goes to that webhook
  // alone (NotFound, nothing appended, if it is absent). Returns the ids the events got, in
  // their order (later events get larger ids; an empty list appends nothing).
  virtual Result<std::vector<std::int64_t>> AppendEvents(const EventList& events) = 0;
  // Takes up to `limit` pending deliveries with next_attempt_at ≤ now whose lease (if any) ran
  // out, oldest first, leasing them until `lease_until`: no other caller (on any node) gets them
  // before that. At most one per webhook, and none of a webhook that has a delivery in flight
  // (leased beyond `now`, not finished): a receiver that does not answer holds one delivery
  // worker, not all. PostgreSQL: FOR UPDATE SKIP LOCKED, and claims of one webhook serialized by
  // a lock on its row. Each comes with its event, url and sealed_secret.
  virtual Result<std::vector<Delivery>> ClaimDeliveries(UnixSeconds now, UnixSeconds lease_until,
                                                        int limit) = 0;
  // Records an attempt's outcome: attempts + 1, the state, next_attempt_at, status and error,
  // and ends the lease. NotFound if the delivery is gone (its webhook was deleted).
  virtual Status FinishDelivery(std::int64_t id, const DeliveryOutcome& outcome) = 0;
  // The webhook's deliveries, newest first (event time, then id), at most `limit`.
  virtual Result<std::vector<Delivery>> ListDeliveries(std::string_view webhook_id, int limit) = 0;
  // Deletes events older than `before` with the deliveries that are not pending; returns how
  // many events went. An event with a pending delivery stays.
  virtual Result<std::int64_t> PruneEvents(UnixSeconds before) = 0;

  // --- usage (core/usage.h; issue 16) ---
  // Adds each delta's counts to the stored hour (key, hour_start), creating it, in one
  // transaction; several nodes' deltas add up. A delta's hash is a key's current or old secret
  // (resolved as FindKeyByHash does); unknown hashes are skipped. A delta with seen_at > 0 also
  // sets the key's last_address and last_user_agent (when seen_at ≥ the time they were set) and
  // first_used_at when it is 0 or later than seen_at. An address or user agent that is not
  // UTF-8 text is stored as "", a long one cut (rows.h, ClientText): a client's bytes never fail
  // the batch.
  virtual Status RecordUsage(const std::vector<UsageDelta>& deltas) = 0;
  // The key's stored hours with since ≤ start < until, ascending, and its summary. NotFound if
  // the key is absent.
  virtual Result<KeyUsage> GetUsage(std::string_view user_id, std::string_view name,
                                    UnixSeconds since, UnixSeconds until) = 0;
  // Of all users' keys, the `limit` with the most requests (allowed + denied) or denials in the
  // hours starting at or after `since` (keys with none left out), most first, then by user id
  // and name. InvalidArgument if limit < 1.
  virtual Result<std::vector<KeyUsageTotal>> TopUsage(UsageRanking by, UnixSeconds since,
                                                      int limit) = 0;
  // Forgets hours that start before `before`; returns how many hour rows went.
  virtual Result<std::int64_t> PruneUsage(UnixSeconds before) = 0;

  // --- sign-in throttle (service/login_throttle.h; issue 19) ---
  // One read-modify-write of the counters of `subjects` (1 to kMaxSignInSubjects distinct
  // digests of 1 to 64 bytes), atomic across every store on the same database: each counter is
  // read (an absent one as all zeros) and held against any other UpdateSignInCounters naming it,
  // on this node or another, until this one has stored its change or given up; `update` gets
  // them in the order of `subjects`. When it returns true they are stored as it left them (a
  // counter left with failures ≤ 0 is deleted), else nothing changes. The store only counts: what
  // a count means is `update`'s. `update` must decide from its argument alone, and may run twice
  // (a transaction retried on a new connection): only its last run counts. Nodes lock the
  // counters in one order (of the subjects' bytes), so they never deadlock. InvalidArgument for
  // subjects outside those bounds.
  static constexpr std::size_t kMaxSignInSubjects = 8;
  virtual Status UpdateSignInCounters(const std::vector<std::string>& subjects,
                                      const SignInCounterUpdate& update) = 0;
  // Forgets the counters whose expires_at ≤ `now`; returns how many.
  virtual Result<std::int64_t> PruneSignInCounters(UnixSeconds now) = 0;

  // --- readiness (GET /readyz) ---
  // OK when the database answers a trivial query and records the schema version of the last
  // migration this build knows. Unavailable when it cannot be reached; FailedPrecondition when
  // its schema is at another version (being migrated by another node, or newer). Cheap: meant
  // for a probe every few seconds.
  virtual Status CheckReady() = 0;

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
