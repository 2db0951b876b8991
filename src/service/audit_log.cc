#include "service/audit_log.h"

#include <charconv>
#include <cstdint>
#include <utility>

#include "common/log.h"
#include "core/policy.h"

namespace keyward {
namespace {

constexpr std::size_t kMaxText = 128;
constexpr std::size_t kMaxReason = 200;
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

// Digits only, exactly `width` of them, at text[pos...].
bool Digits(std::string_view text, std::size_t pos, std::size_t width, int& out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), 'T' and 'Z' in either
// case. The fraction is dropped; a leap second counts as the next second.
std::optional<UnixSeconds> ParseTime(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!Digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !Digits(text, 5, 2, month) || text[7] != '-' || !Digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !Digits(text, 11, 2, hour) || text[13] != ':' ||
      !Digits(text, 14, 2, minute) || text[16] != ':' || !Digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t digits = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == digits) return std::nullopt;
  }
  std::int64_t offset = 0;
  std::string_view zone = text.substr(pos);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh, om;
    if (!Digits(zone, 1, 2, oh) || !Digits(zone, 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (zone[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  const std::int64_t days = DaysFromCivil(year, month, day);
  return days * 86400 + hour * 3600 + minute * 60 + second - offset;
}

Result<UnixSeconds> TimeParameter(std::string_view name, std::string_view text) {
  std::optional<UnixSeconds> t = ParseTime(text);
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
  // The action is done and stands; only its record is missing. The event's cleaned names and
  // the store's error: neither ever holds a secret.
  log::Warn("audit: could not record {} by {} of user {} ({}): {}", AuditActionName(event.action),
            event.actor, event.user, event.success ? "success" : "failure", recorded.ToString());
}

Result<std::vector<AuditEvent>> AuditLog::List(const User& caller, AuditFilter filter) const {
  if (filter.user == "me") filter.user = caller.id;
  if (!caller.IsOperator()) {
    if (filter.user.empty()) filter.user = caller.id;
    if (filter.user != caller.id) {
      return Status::PermissionDenied("only operators may read other users' audit events");
    }
  }
  if (filter.limit < 1 || filter.limit > kMaxAuditLimit) {
    return Status::InvalidArgument("limit must be a whole number from 1 to 1000");
  }
  return store_.ListAudit(filter);
}

}  // namespace keyward
