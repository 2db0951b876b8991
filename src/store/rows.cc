#include "store/rows.h"

#include <optional>
#include <utility>

namespace keyward {

Result<User> ReadUser(const RowReader& row) {
  User user;
  user.id = row.Text(0);
  user.name = row.Text(1);
  std::optional<UserType> type = ParseUserType(row.Text(2));
  if (!type) return Status::Internal("user has an unknown type");
  user.type = *type;
  user.password_hash = row.Text(3);
  user.created_at = row.Int(4);
  return user;
}

KeyRecord ReadKey(const RowReader& row) {
  KeyRecord key;
  key.user_id = row.Text(0);
  key.name = row.Text(1);
  key.hash = row.Blob(2);
  key.sealed = row.Blob(3);
  key.masked = row.Text(4);
  key.created_at = row.Int(5);
  key.expires_at = row.Int(6);
  key.last_used_at = row.Int(7);
  return key;
}

SessionRecord ReadSession(const RowReader& row) {
  SessionRecord session;
  session.user_id = row.Text(0);
  session.hash = row.Blob(1);
  session.created_at = row.Int(2);
  session.expires_at = row.Int(3);
  return session;
}

Result<AuditEvent> ReadAudit(const RowReader& row) {
  AuditEvent event;
  event.id = row.Int(0);
  event.time = row.Int(1);
  event.actor = row.Text(2);
  std::optional<AuditAction> action = ParseAuditAction(row.Text(3));
  if (!action) return Status::Internal("audit event has an unknown action");
  event.action = *action;
  event.user = row.Text(4);
  event.target = row.Text(5);
  event.address = row.Text(6);
  event.success = row.Text(7) == AuditOutcomeName(true);
  event.reason = row.Text(8);
  return event;
}

Status InvalidText(std::string detail) {
  return {StatusCode::kInvalidArgument, "text must be UTF-8 without NUL characters",
          std::move(detail)};
}

Status Reword(Status status, StatusCode code, std::string message) {
  if (status.code() != code) return status;
  return {code, std::move(message), status.detail()};
}

}  // namespace keyward
