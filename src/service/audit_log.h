// The audit log: every sign-in, key create, reveal and delete, user create and delete, and tag
// change, with its actor, the user it concerns, its target, time, client address and outcome.
//
// Records go to the Store (Store::AppendAudit) with the clock's time. An event never holds a
// key, a password or a token, nor a hash of one; text that is not a valid id, name or tag is
// replaced or cut short (see Record). The services call Record or RecordAfter:
//   - a reveal is recorded before the key is returned, and fails (Unavailable, or
//     InsufficientStorage on a full disk) when its record cannot be written: no key leaves
//     without a record (fail closed);
//   - every other action is recorded after it is done; when that write fails, the action
//     stands, the failure is logged as a warning (without secrets) and the caller is answered.
//     A full disk is not warned about per event: the store reports it once (DiskFullLog).
//
// Reading the log needs the scope audit:read (core/policy.h: RequireScope) from an API key;
// operators see every event; other users only the events whose actor or user is themselves
// (PermissionDenied when they ask for someone else's).
// Blocking (store I/O): call from blocking threads. Thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/audit_event.h"
#include "core/user.h"
#include "service/principal.h"
#include "store/store.h"

namespace keyward {

// The query parameters of GET /api/v1/audit (and `keyward audit get`), as given.
struct AuditQuery {
  std::optional<std::string> user;   // a user id, or "me"
  std::optional<std::string> since;  // RFC 3339, inclusive
  std::optional<std::string> until;  // RFC 3339, inclusive
  std::optional<std::string> limit;  // 1-1000; default 100
};

inline constexpr int kDefaultAuditLimit = 100;
inline constexpr int kMaxAuditLimit = 1000;

// The filter `query` names. `since` and `until` are RFC 3339 with any offset ("Z", "+02:00");
// fractions of a second are dropped. "me" is resolved later, by AuditLog::List. InvalidArgument
// for a malformed time, a `since` after `until`, a limit outside 1-1000, or a malformed user id.
Result<AuditFilter> ParseAuditQuery(const AuditQuery& query);

// One event to record; the text is cleaned by Record.
struct AuditRecord {
  AuditAction action = AuditAction::kSignIn;
  std::string_view actor;
  std::string_view user;
  std::string_view target;
  std::string_view address;
  std::string_view detail = {};  // more about a success (AuditEvent::detail); no secret
};

class AuditLog {
 public:
  // `store` and `clock` must outlive this object.
  AuditLog(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Records `record` with the outcome `outcome` (OK: success; otherwise failure, with the
  // status's message, which is safe to show, as the reason). Returns the store's error.
  // Cleaning: an actor, user or target that is not printable UTF-8 becomes "(invalid)", and one
  // longer than 128 bytes is cut there (a detail at 16 KiB, more than any grant describes); at
  // sign-in, a user name that is not a valid user id is recorded as "(invalid user name)", so that
  // a password typed into the wrong field is not kept.
  Status Record(const AuditRecord& record, const Status& outcome) const;
  // Record for an action already done: a failure to record is logged as a warning (names and
  // the store's error only; none for a full disk, which the store reports) and otherwise
  // ignored, so the action's own answer stands.
  void RecordAfter(const AuditRecord& record, const Status& outcome) const;

  // The events `filter` selects that `caller` may see, newest first. PermissionDenied for a key
  // without audit:read. For a non-operator an empty filter.user means themselves and another
  // user's id is PermissionDenied; "me" is the caller for everyone.
  Result<std::vector<AuditEvent>> List(const Caller& caller, AuditFilter filter) const;

 private:
  Store& store_;
  const Clock& clock_;
};

}  // namespace keyward
