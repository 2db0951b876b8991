#include "service/audit_log.h"

#include <charconv>
#include <utility>

#include "common/clock.h"
#include "common/log.h"
#include "core/policy.h"

namespace keyward {
namespace {

constexpr std::size_t kMaxText = 128;
constexpr std::size_t kMaxReason = 200;
constexpr std::size_t kMaxDetail = 16384;
constexpr std::string_view kInvalid = "(invalid)";
constexpr std::string_view kInvalidUserName = "(invalid user name)";

// `text` when printable UTF-8, cut to at most `max` bytes on a character boundary; kInvalid
// otherwise (the store keeps text only, and PostgreSQL refuses bytes that are not UTF-8).
std::string Clean(std::string_view text, std::size_t max = kMaxText) {
  if (!IsPrintableUtf8(text)) return std::string(kInvalid);
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

// At sign-in the name is whatever was typed: only a well-formed user id is kept.
std::string CleanUserName(std::string_view name) {
  return ValidateUserId(name).ok() ? std::string(name) : std::string(kInvalidUserName);
}

Result<UnixSeconds> TimeParameter(std::string_view name, std::string_view text) {
  std::optional<UnixSeconds> t = ParseRfc3339(text);
  if (!t) {
    return Status::InvalidArgument(std::string(name) +
                                   " must be an RFC 3339 time such as 2023-08-10T23:00:00Z");
  }
  return *t;
}

AuditEvent MakeEvent(const AuditRecord& record, const Status& outcome, UnixSeconds now) {
  AuditEvent event;
  event.time = now;
  event.action = record.action;
  if (record.action == AuditAction::kSignIn) {
    event.actor = CleanUserName(record.actor);
    event.user = CleanUserName(record.user);
  } else {
    event.actor = Clean(record.actor);
    event.user = Clean(record.user);
  }
  event.target = Clean(record.target);
  event.address = Clean(record.address, 64);
  event.success = outcome.ok();
  if (!outcome.ok()) event.reason = Clean(outcome.message(), kMaxReason);
  if (!record.detail.empty()) event.detail = Clean(record.detail, kMaxDetail);
  return event;
}

}  // namespace

Result<AuditFilter> ParseAuditQuery(const AuditQuery& query) {
  AuditFilter filter;
  if (query.user) {
    if (*query.user != "me") KW_RETURN_IF_ERROR(ValidateUserId(*query.user));
    filter.user = *query.user;
  }
  if (query.since) {
    KW_ASSIGN_OR_RETURN(filter.since, TimeParameter("since", *query.since));
  }
  if (query.until) {
    KW_ASSIGN_OR_RETURN(filter.until, TimeParameter("until", *query.until));
  }
  if (filter.since > filter.until) return Status::InvalidArgument("since is after until");
  if (query.limit) {
    const std::string& text = *query.limit;
    int limit = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (error != std::errc() || end != text.data() + text.size() || limit < 1 ||
        limit > kMaxAuditLimit) {
      return Status::InvalidArgument("limit must be a whole number from 1 to 1000");
    }
    filter.limit = limit;
  }
  return filter;
}

Status AuditLog::Record(const AuditRecord& record, const Status& outcome) const {
  return store_.AppendAudit(MakeEvent(record, outcome, clock_.Now())).status();
}

void AuditLog::RecordAfter(const AuditRecord& record, const Status& outcome) const {
  AuditEvent event = MakeEvent(record, outcome, clock_.Now());
  Status recorded = store_.AppendAudit(event).status();
  if (recorded.ok()) return;
  // A full disk refuses every write, so a warning per event would be one per request: the
  // store says it once, with the count of writes refused (sqlite_db.h, DiskFullLog).
  if (recorded.code() == StatusCode::kInsufficientStorage) return;
  // The action is done and stands; only its record is missing. The event's cleaned names and
  // the store's error: neither ever holds a secret.
  log::Warn("audit: could not record {} by {} of user {} ({}): {}", AuditActionName(event.action),
            event.actor, event.user, AuditOutcomeName(event.success), recorded.ToString());
}

Result<std::vector<AuditEvent>> AuditLog::List(const Caller& caller, AuditFilter filter) const {
  KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope::kAuditRead));
  const User& user = caller.user;
  if (filter.user == "me") filter.user = user.id;
  if (!user.IsOperator()) {
    if (filter.user.empty()) filter.user = user.id;
    if (filter.user != user.id) {
      return Status::PermissionDenied("only operators may read other users' audit events");
    }
  }
  if (filter.limit < 1 || filter.limit > kMaxAuditLimit) {
    return Status::InvalidArgument("limit must be a whole number from 1 to 1000");
  }
  return store_.ListAudit(filter);
}

}  // namespace keyward
