#include "core/audit_event.h"

#include <array>
#include <utility>

namespace keyward {
namespace {

constexpr std::array<std::pair<AuditAction, std::string_view>, 20> kNames = {{
    {AuditAction::kSignIn, "signin"},
    {AuditAction::kKeyCreate, "key.create"},
    {AuditAction::kKeyReveal, "key.reveal"},
    {AuditAction::kKeyDelete, "key.delete"},
    {AuditAction::kUserCreate, "user.create"},
    {AuditAction::kUserDelete, "user.delete"},
    {AuditAction::kTagAdd, "tag.add"},
    {AuditAction::kTagDelete, "tag.delete"},
    {AuditAction::kSigningKeyCreated, "signing_key.created"},
    {AuditAction::kSigningKeyRotated, "signing_key.rotated"},
    {AuditAction::kKeyRotate, "key.rotate"},
    {AuditAction::kKeyUpdate, "key.update"},
    {AuditAction::kKeyDisable, "key.disable"},
    {AuditAction::kKeyEnable, "key.enable"},
    {AuditAction::kKeyReuse, "key.reuse"},
    {AuditAction::kKeyIdleRevoke, "key.idle_revoke"},
    {AuditAction::kWebhookCreate, "webhook.create"},
    {AuditAction::kWebhookDelete, "webhook.delete"},
    {AuditAction::kKeyLeaked, "key.leaked"},
    {AuditAction::kKeyCanaryUsed, "key.canary_used"},
}};

}  // namespace

std::string_view AuditActionName(AuditAction action) {
  for (const auto& [value, name] : kNames) {
    if (value == action) return name;
  }
  return "unknown";
}

std::optional<AuditAction> ParseAuditAction(std::string_view name) {
  for (const auto& [value, text] : kNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

std::string_view AuditOutcomeName(bool success) { return success ? "success" : "failure"; }

}  // namespace keyward
