#include "service/canary_rules.h"

#include <string>

namespace keyward {
namespace {

// The refusal naming `fields` (", "-joined), or OK when there are none.
Status GrantsNothing(const std::string& fields) {
  if (fields.empty()) return Status::Ok();
  return Status::InvalidArgument("a canary key grants nothing: " + fields + " not allowed");
}

void Note(bool given, const char* field, std::string& fields) {
  if (!given) return;
  if (!fields.empty()) fields += ", ";
  fields += field;
}

}  // namespace

Status CheckNewCanary(const NewKey& in) {
  std::string fields;
  Note(!in.scopes.empty(), "scopes", fields);
  Note(in.tags.has_value(), "tags", fields);
  Note(in.allowed_addresses.has_value(), "allowed_addresses", fields);
  Note(in.rate_limit.has_value(), "rate_limit", fields);
  Note(in.idle_timeout.has_value(), "idle_timeout", fields);
  Note(in.on_reuse.has_value(), "on_reuse", fields);
  return GrantsNothing(fields);
}

Status CheckCanaryEdit(const KeyEdit& edit) {
  std::string fields;
  Note(edit.scopes.has_value(), "scopes", fields);
  Note(edit.tags.has_value(), "tags", fields);
  Note(edit.allowed_addresses.has_value(), "allowed_addresses", fields);
  Note(edit.rate_limit.has_value(), "rate_limit", fields);
  Note(edit.idle_timeout.has_value(), "idle_timeout", fields);
  Note(edit.on_reuse.has_value(), "on_reuse", fields);
  KW_RETURN_IF_ERROR(GrantsNothing(fields));
  if (edit.disabled) return Status::InvalidArgument("a canary key cannot be disabled or enabled");
  return Status::Ok();
}

Status CanaryNotRotatable() { return Status::InvalidArgument("a canary key cannot be rotated"); }

}  // namespace keyward
