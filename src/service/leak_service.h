// Issue 17's use cases for leaked keys: which of a list of key hashes are live keys (for
// `keyward scan --check`, revoking them with `--revoke`), and leak reports from code hosts and
// scanners (POST /api/v1/leaks), which revoke or disable each live key reported at once.
//
// A hash or token is live when it is a stored key's current secret, or an old secret still
// accepted (as the Authenticator judges: OldSecret::AcceptedUntil with the writer's lag, and
// never past the key's expiry), and the key is neither expired nor disabled (nor a canary).
// Changes go through the store with their webhook events in the same transaction; the store
// tells the other nodes, whose caches drop every secret of the key at once, and this node's cache
// drops them before a call returns. Blocking: call from blocking threads. Thread safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/key_record.h"
#include "service/audit_log.h"
#include "service/key_cache.h"
#include "service/key_service.h"
#include "service/options.h"
#include "service/principal.h"
#include "service/rate_limiter.h"
#include "store/store.h"

namespace keyward {

// 900 hashes of 64 hex characters fit in the 64 KiB body limit with room to spare.
inline constexpr std::size_t kMaxCheckHashes = 900;
inline constexpr std::size_t kMaxLeakTokens = 100;
inline constexpr std::size_t kMaxLeakUrlBytes = 2048;

// One hash of a check, as asked.
struct HashCheck {
  std::string hash;  // as given: 64 lower-case hex
  bool live = false;
  bool revoked = false;  // deleted by this call
  // The key's owner and name, live or not; empty unless the caller may read the key: its owner,
  // or an operator (an operator's API key needs users:read for it).
  std::string user = {};
  std::string name = {};
};

// One token of a leak report, as sent.
struct ReportedToken {
  std::string token;
  std::optional<std::string> url = {};  // where it was found; at most kMaxLeakUrlBytes
};

struct LeakReportOutcome {
  std::size_t received = 0;  // tokens in the report
  std::size_t live = 0;      // live keys revoked or disabled by it
};

class LeakService {
 public:
  // Everything borrowed must outlive the service. `cache` may be null; `audit` may be null only
  // where nothing needs recording (tests). `keys` deletes what Check revokes.
  LeakService(Store& store, const KeyService& keys, const ServiceOptions& options,
              const Clock& clock, KeyCache* cache, const AuditLog* audit)
      : store_(store),
        keys_(keys),
        options_(options),
        clock_(clock),
        cache_(cache),
        audit_(audit),
        throttle_(RateLimit{.requests = std::max<std::int64_t>(1, options.leak_reports_per_minute),
                            .per = 60}) {}

  // The hashes (hex SHA-256 of keys) in the request's order. Needs keys:read, and keys:write
  // with `revoke` (PermissionDenied). InvalidArgument for none, more than kMaxCheckHashes, or one
  // that is not 64 lower-case hex characters. With `revoke`, each live key the caller may delete
  // (as KeyService::Delete: keys:write, users:write for another's key; other users' keys only
  // for an operator) is deleted as Delete does (event key.deleted; audit key.delete with detail
  // "leak scan"); `revoked` says which. Store errors end the call (Unavailable).
  Result<std::vector<HashCheck>> Check(const Caller& caller, const std::vector<std::string>& hashes,
                                       bool revoke) const;

  // Takes one report from `address` out of its budget (ServiceOptions::leak_reports_per_minute,
  // all at once at most); IPv6 addresses share one budget per /64: 0 when admitted, else the whole
  // seconds (≥ 1) until one would be.
  std::int64_t Admit(std::string_view address) const;

  // A leak report from `address`. InvalidArgument for none or more than kMaxLeakTokens tokens or
  // a url over kMaxLeakUrlBytes or with a control character. A token is a key as such, or with its
  // '_' percent-encoded
  // ("kw%5F…"); nothing else. Each live key among the tokens is deleted, or disabled with
  // ServiceOptions::leak_action kDisable, with events key.leaked (data: user, key and name,
  // expiration, action "revoked" | "disabled", url with every key in it masked, reporter_address)
  // and key.deleted or key.disabled; audit key.leaked (actor "system", the owner, the key's name,
  // `address`, detail "revoked" or "disabled", then " url=<masked url>" when given). A url is
  // masked leniently: each key the scanner finds, each 49 base62 characters with a valid checksum
  // wherever they stand ("kw%255F…", "xkw_…"), and each reported key's secret anywhere. Tokens that
  // are not keys, unknown, expired, disabled or reported twice count as not live. Store errors
  // end the call (Unavailable); keys acted on before it stay so.
  Result<LeakReportOutcome> Report(const std::vector<ReportedToken>& tokens,
                                   std::string_view address) const;

 private:
  // What acting on a reported key came to: done, the key gone meanwhile (not live), or changed
  // meanwhile (rotated, edited: look it up again).
  enum class LeakStep { kDone, kGone, kChanged };

  // Is the key `found` (FindKeyByHash) still stored under its name, with the same current
  // secret? False when it is gone or replaced (deleted and created again) or rotated meanwhile.
  Result<bool> StillTheKeyFound(const KeyRecord& found) const;
  // Is the key found for a hash live at `now`?
  bool IsLive(const KeyRecord& found, UnixSeconds now) const;
  // Deletes or disables the key `found` (FindKeyByHash) for a report from `address`, with its
  // events and audit record, if it is still the key found.
  Result<LeakStep> ActOnLeak(const KeyRecord& found, const std::optional<std::string>& url,
                             std::string_view address) const;
  // Drops the key's current secret and the old ones it holds from this node's cache.
  void EraseSecrets(const KeyRecord& key) const;

  Store& store_;
  const KeyService& keys_;
  const ServiceOptions& options_;
  const Clock& clock_;
  KeyCache* cache_;
  const AuditLog* audit_;
  // One bucket per reporting address, pruned at most once a minute; mutable: admitting a report
  // changes the buckets, not the service.
  const RateLimit throttle_;
  mutable RateLimiter throttle_limiter_;
  mutable std::atomic<TokenBucket::Nanos> next_prune_{0};
};

}  // namespace keyward
