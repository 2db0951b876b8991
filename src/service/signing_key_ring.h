// The token issuer's signing keys: load them from the store, unseal them with the master key,
// create and rotate them, and answer "which key signs now" and "what does the JWKS hold".
//
// Schedule (times from the store, so every node computes the same): the key that signs is the
// highest generation with activates_at ≤ now and retired_at = 0. When the current key has signed
// for `rotation − prepublish`, Refresh adds the next generation with activates_at = max(now +
// prepublish, current.activates_at + rotation): it is in the JWKS from then on and signs at
// activates_at. A key stops signing when a later generation activates (or at retired_at); it
// stays published for `ttl + skew + 60 s` after that, then leaves the JWKS. When the configured
// alg differs from the current key's, the next key (of the new alg) is added at once, on the same
// pre-publication rule. With no key at all, generation 1 is created and signs at once.
// Exactly one node adds a generation: the store refuses a taken one (AlreadyExists), and the
// loser reads what the winner added.
//
// Thread safe: readers take an immutable Snapshot (one shared_ptr copy under a mutex); Refresh
// and Rotate replace it. Refresh and Rotate block on the store: call them from a blocking
// thread or the ticker.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "core/master_key.h"
#include "core/signing_key_record.h"
#include "service/audit_log.h"
#include "service/principal.h"
#include "service/token_options.h"
#include "store/store.h"
#include "token/signing_key.h"

namespace keyward {

enum class SigningKeyState { kNext, kCurrent, kRetired, kUnpublished };
std::string_view SigningKeyStateName(
    SigningKeyState state);  // "next" | "current" | "retired" | "unpublished"

// One key as the ring sees it at the snapshot's time.
struct RingKey {
  SigningKeyRecord record;  // sealed_private cleared
  token::PublicKey public_key;
  std::optional<token::SigningKey> private_key;  // for next and current only
  SigningKeyState state = SigningKeyState::kNext;
  UnixSeconds signs_until = 0;      // when it stopped (or stops) signing; 0: not yet known
  UnixSeconds published_until = 0;  // when it leaves (or left) the JWKS; 0: not yet known
};

struct RingSnapshot {
  UnixSeconds taken_at = 0;
  std::vector<RingKey> keys;         // every generation, ascending
  const RingKey* current = nullptr;  // null only before the first Refresh succeeded
  std::string jwks;                  // {"keys":[…]}: the published keys (next, current, retired)
  // A published key by kid; null otherwise.
  const token::PublicKey* Find(std::string_view kid) const;
  // The key that signs at `now` (≥ taken_at): `current`, or the next key once its activates_at
  // has come, so that a key signs at its time even before the ticker's next Refresh. Null when
  // none does.
  const RingKey* SignerAt(UnixSeconds now) const;
};

class SigningKeyRing {
 public:
  // `store`, `master_key`, `clock` and `audit` must outlive the ring.
  SigningKeyRing(Store& store, const MasterKey& master_key, const TokenOptions& options,
                 const Clock& clock, const AuditLog& audit);

  // Reads the keys, adds a generation when the schedule says so (see above), unseals the ones
  // that sign or will, and publishes a new snapshot. Unavailable when the store cannot be read;
  // Internal when a key cannot be unsealed (another master key): the old snapshot stays.
  Status Refresh();

  // An operator's rotation (signing-key rotate). now = false: adds the next key on the
  // pre-publication rule (AlreadyExists "a next key is already published; it signs at …" when
  // one is pending: HTTP 409). now = true, for an emergency: a new key
  // signs at once and every older one is retired now (stays published ttl + skew + 60 s, so
  // tokens already handed out verify until they expire). Needs the caller's `users:write` scope
  // and the operator tag (PermissionDenied otherwise). Audited as "signing_key.rotated" (target
  // the new kid). Returns the new key.
  // Unavailable when the store cannot be read or written.
  Result<RingKey> Rotate(const Caller& caller, bool now);

  // Refresh, unless the snapshot was taken less than `seconds` ago: for a verifier that met a
  // kid it does not know (another node's emergency key signs at once).
  Status RefreshIfOlderThan(std::int64_t seconds);

  // The current snapshot; never null (empty before the first Refresh).
  std::shared_ptr<const RingSnapshot> snapshot() const;

  // How often the ticker calls Refresh: prepublish / 4, between 1 s and 60 s. Another node's new
  // key is therefore seen long before it signs.
  std::chrono::milliseconds TickInterval() const;

 private:
  // Adds generation max + 1 to the store, signing from `activates_at`; with `retire_others`,
  // every older key is retired at `now`. AlreadyExists when another node took the generation.
  Result<SigningKeyRecord> AddKey(const std::vector<SigningKeyRecord>& records,
                                  UnixSeconds activates_at, bool retire_others, UnixSeconds now);
  // Adds what the schedule asks for at `now`, if anything; true when a key was added (by this
  // node, or by another that was first), so that the keys must be read again.
  Result<bool> Schedule(const std::vector<SigningKeyRecord>& records, UnixSeconds now);
  // Rotate's work, before its audit record.
  Result<SigningKeyRecord> AddRotation(const Caller& caller, bool now);
  // Builds and publishes the snapshot of `records` at `now`.
  Status Publish(const std::vector<SigningKeyRecord>& records, UnixSeconds now);
  // The private key of `record`: from `old` when it has it, else unsealed.
  Result<token::SigningKey> Unseal(const RingSnapshot& old, const SigningKeyRecord& record) const;

  Store& store_;
  const MasterKey& master_key_;
  const TokenOptions& options_;
  const Clock& clock_;
  const AuditLog& audit_;
  Mutex refresh_mu_;  // one Refresh or Rotate at a time on this node
  mutable Mutex mu_;
  std::shared_ptr<const RingSnapshot> snapshot_ GUARDED_BY(mu_);
};

// Calls ring.Refresh() every ring.TickInterval() on its own thread (a failure is logged, and the
// old snapshot stays). Call Refresh once yourself at start, so a missing key fails the start.
// Stop() (or the destructor) joins the thread.
class SigningKeyTicker {
 public:
  explicit SigningKeyTicker(SigningKeyRing& ring);
  ~SigningKeyTicker() { Stop(); }
  SigningKeyTicker(const SigningKeyTicker&) = delete;
  SigningKeyTicker& operator=(const SigningKeyTicker&) = delete;

  void Stop();

 private:
  void Loop();

  SigningKeyRing& ring_;
  Mutex mu_;
  CondVar wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace keyward
