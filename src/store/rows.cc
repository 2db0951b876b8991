#include "store/rows.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "common/text.h"

namespace keyward {
namespace {

// The entries joined by single spaces; InvalidArgument naming `what` if one would not split back.
Result<std::string> JoinList(const std::vector<std::string>& entries, std::string_view what) {
  std::string text;
  for (const std::string& entry : entries) {
    if (entry.empty() || entry.find(' ') != std::string::npos) {
      return Status::InvalidArgument(fmt::format("an entry of {} is empty or holds a space", what));
    }
    if (!text.empty()) text += ' ';
    text += entry;
  }
  return text;
}

// The entries of JoinList's text; none for ''.
std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> entries;
  while (!text.empty()) {
    std::size_t space = text.find(' ');
    entries.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return entries;
}

}  // namespace

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
  key.grant.scopes = SplitList(row.Text(8));
  if (!row.IsNull(9)) key.grant.tags = SplitList(row.Text(9));
  key.grant.allowed_addresses = SplitList(row.Text(10));
  key.grant.full_access = row.Int(11) != 0;
  key.description = row.Text(12);
  key.disabled = row.Int(13) != 0;
  key.validity = row.Int(14);
  key.idle_timeout = row.Int(15);
  key.revoke_on_reuse = row.Int(16) != 0;
  key.rotated_at = row.Int(17);
  key.announced_within = row.Int(18);
  key.revision = row.Int(19);
  key.rate_limit.requests = row.Int(20);
  key.rate_limit.per = row.Int(21);
  key.first_used_at = row.Int(22);
  key.last_address = row.Text(23);
  key.last_user_agent = row.Text(24);
  key.canary = row.Int(25) != 0;
  return key;
}

OldSecret ReadOldSecret(const RowReader& row, int first) {
  OldSecret old;
  old.hash = row.Blob(first);
  old.masked = row.Text(first + 1);
  old.rotated_at = row.Int(first + 2);
  old.grace_until = row.Int(first + 3);
  old.retire_when_idle = row.Int(first + 4);
  old.last_used_at = row.Int(first + 5);
  old.expires_at = row.Int(first + 6);
  return old;
}

void AddKeyRow(const RowReader& row, std::vector<KeyRecord>& keys) {
  if (keys.empty() || keys.back().name != row.Text(1)) keys.push_back(ReadKey(row));
  if (!row.IsNull(KW_ROW_KEY_COLUMN_COUNT)) {
    keys.back().old_secrets.push_back(ReadOldSecret(row, KW_ROW_KEY_COLUMN_COUNT));
  }
}

KeyRecord ReadKeyByOldSecret(const RowReader& row) {
  KeyRecord key = ReadKey(row);
  key.old_secrets.push_back(ReadOldSecret(row, KW_ROW_KEY_COLUMN_COUNT));
  key.by_old_secret = true;
  return key;
}

Result<KeyRecord> OneKeyByPrefix(std::vector<KeyRecord> current, std::vector<KeyRecord> old) {
  auto secret = [](const KeyRecord& key) -> const std::string& {
    return key.by_old_secret ? key.old_secrets.front().hash : key.hash;
  };
  std::vector<KeyRecord> found = std::move(old);  // first: a secret in both is an old one now
  for (KeyRecord& key : current) {
    const bool seen = std::any_of(found.begin(), found.end(),
                                  [&](const KeyRecord& k) { return secret(k) == key.hash; });
    if (!seen) found.push_back(std::move(key));
  }
  if (found.size() != 1) return Status::NotFound("key not found");
  return std::move(found.front());
}

void AddUsageRow(const RowReader& row, KeyUsage& usage) {
  usage.first_used_at = row.Int(0);
  usage.last_used_at = row.Int(1);
  usage.last_address = row.Text(2);
  usage.last_user_agent = row.Text(3);
  if (row.IsNull(4)) return;
  UsageHour hour;
  hour.start = row.Int(4);
  for (std::size_t i = 0; i < kUsageOutcomes; ++i) {
    hour.counts[i] = row.Int(5 + static_cast<int>(i));
  }
  usage.hours.push_back(hour);
}

KeyUsageTotal ReadUsageTotal(const RowReader& row) {
  return {.user_id = row.Text(0),
          .name = row.Text(1),
          .allowed = row.Int(2),
          .denied = row.Int(3),
          .last_used_at = row.Int(4)};
}

RateLimit StoredRateLimit(const RateLimit& limit) {
  if (limit.requests <= 0) return {};
  return limit;
}

std::string ClientText(std::string_view text, std::size_t max_bytes) {
  if (!IsUtf8Text(text)) return "";
  std::size_t end = text.size();
  if (end > max_bytes) {
    end = max_bytes;
    // Back to the first byte of a character (continuation bytes are 10xxxxxx).
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  }
  // Control characters (C1 too) become '?': the CLI shows the user agent on a terminal.
  return ReplaceControlCharacters(text.substr(0, end));
}

Webhook ReadWebhook(const RowReader& row) {
  Webhook webhook;
  webhook.id = row.Text(0);
  webhook.url = row.Text(1);
  webhook.events = SplitList(row.Text(2));
  webhook.users = SplitList(row.Text(3));
  webhook.sealed_secret = row.Blob(4);
  webhook.created_by = row.Text(5);
  webhook.created_at = row.Int(6);
  return webhook;
}

Result<Delivery> ReadDelivery(const RowReader& row) {
  Delivery delivery;
  delivery.id = row.Int(0);
  delivery.webhook_id = row.Text(1);
  delivery.event.id = row.Int(2);
  delivery.event.type = row.Text(3);
  delivery.event.time = row.Int(4);
  delivery.event.user_id = row.Text(5);
  delivery.event.data = row.Text(6);
  delivery.event.only_webhook = row.Text(7);
  std::string state = row.Text(8);
  bool known = false;
  for (DeliveryState s :
       {DeliveryState::kPending, DeliveryState::kDelivered, DeliveryState::kFailed}) {
    if (DeliveryStateName(s) == state) {
      delivery.state = s;
      known = true;
    }
  }
  if (!known) return Status::Internal("delivery has an unknown state");
  delivery.attempts = static_cast<int>(row.Int(9));
  delivery.next_attempt_at = row.Int(10);
  delivery.last_attempt_at = row.Int(11);
  delivery.last_status = static_cast<int>(row.Int(12));
  delivery.last_error = row.Text(13);
  return delivery;
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
  event.detail = row.Text(9);
  return event;
}

SigningKeyRecord ReadSigningKey(const RowReader& row) {
  SigningKeyRecord key;
  key.generation = row.Int(0);
  key.kid = row.Text(1);
  key.alg = row.Text(2);
  key.public_jwk = row.Text(3);
  key.sealed_private = row.Blob(4);
  key.created_at = row.Int(5);
  key.activates_at = row.Int(6);
  key.retired_at = row.Int(7);
  return key;
}

Result<std::optional<std::string>> HashPrefixUpperBound(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 32) {
    return Status::InvalidArgument("a hash prefix must be 1 to 32 bytes");
  }
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  if (upper.empty()) return std::optional<std::string>();
  upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  return std::optional<std::string>(std::move(upper));
}

Result<GrantColumns> WriteGrant(const Grant& grant) {
  GrantColumns columns;
  KW_ASSIGN_OR_RETURN(columns.scopes, JoinList(grant.scopes, "scopes"));
  if (grant.tags) {
    KW_ASSIGN_OR_RETURN(columns.tags, JoinList(*grant.tags, "tags"));
  }
  KW_ASSIGN_OR_RETURN(columns.allowed_addresses,
                      JoinList(grant.allowed_addresses, "allowed_addresses"));
  columns.full_access = grant.full_access ? 1 : 0;
  return columns;
}

Result<WebhookListColumns> WriteWebhookLists(const Webhook& webhook) {
  WebhookListColumns columns;
  KW_ASSIGN_OR_RETURN(columns.events, JoinList(webhook.events, "events"));
  KW_ASSIGN_OR_RETURN(columns.users, JoinList(webhook.users, "users"));
  return columns;
}

SignInCounter ReadSignInCounter(const RowReader& row) {
  return {.failures = row.Int(0), .locked_until = row.Int(1), .expires_at = row.Int(2)};
}

Result<std::vector<std::size_t>> SignInLockOrder(const std::vector<std::string>& subjects) {
  if (subjects.empty() || subjects.size() > Store::kMaxSignInSubjects) {
    return Status::InvalidArgument("a sign-in counter update names 1 to 8 subjects");
  }
  std::vector<std::size_t> order(subjects.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (subjects[i].empty() || subjects[i].size() > 64) {
      return Status::InvalidArgument("a sign-in counter's subject is 1 to 64 bytes");
    }
    order[i] = i;
  }
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return subjects[a] < subjects[b]; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (subjects[order[i - 1]] == subjects[order[i]]) {
      return Status::InvalidArgument("a sign-in counter update names a subject twice");
    }
  }
  return order;
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
