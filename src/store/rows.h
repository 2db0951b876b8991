// What the SQLite and PostgreSQL backends share in reading rows: one mapping from the columns of
// their SELECTs to records, and one way to reword a constraint's error.
//
// Pure functions; thread safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "core/audit_event.h"
#include "core/key_record.h"
#include "core/signing_key_record.h"
#include "core/user.h"

namespace keyward {

// One result row of a backend, read by 0-based column index. Values are copied out.
class RowReader {
 public:
  virtual ~RowReader() = default;
  virtual std::string Text(int column) const = 0;
  virtual std::string Blob(int column) const = 0;
  virtual std::int64_t Int(int column) const = 0;
  virtual bool IsNull(int column) const = 0;
};

// The columns each Read function below expects, in its order: both backends' SELECTs name them
// with these (string literals only; KW_ROW_USER_COLUMNS takes a table prefix such as "u.").
#define KW_ROW_USER_COLUMNS(t) t "id, " t "name, " t "type, " t "password_hash, " t "created_at"
#define KW_ROW_KEY_COLUMNS                                                                   \
  "user_id, name, hash, sealed, masked, created_at, expires_at, last_used_at, scopes, tags," \
  " allowed_addresses, full_access"
#define KW_ROW_SESSION_COLUMNS "user_id, hash, created_at, expires_at"
#define KW_ROW_AUDIT_COLUMNS \
  "id, occurred_at, actor, action, user_id, target, address, outcome, reason, detail"
#define KW_ROW_SIGNING_KEY_COLUMNS \
  "generation, kid, alg, public_jwk, sealed_private, created_at, activates_at, retired_at"

// KW_ROW_USER_COLUMNS. Internal for an unknown type. The tags are left to the caller.
Result<User> ReadUser(const RowReader& row);
// KW_ROW_KEY_COLUMNS, the grant included (see GrantColumns).
KeyRecord ReadKey(const RowReader& row);
// KW_ROW_SESSION_COLUMNS.
SessionRecord ReadSession(const RowReader& row);
// KW_ROW_AUDIT_COLUMNS. Internal for an unknown action.
Result<AuditEvent> ReadAudit(const RowReader& row);
// KW_ROW_SIGNING_KEY_COLUMNS.
SigningKeyRecord ReadSigningKey(const RowReader& row);

// The range of 32-byte hashes that start with `prefix`, for Find*ByHashPrefix: hash >= prefix
// AND (no upper bound, or hash < upper). `upper` is the prefix with its trailing 0xff bytes
// dropped and its last byte then incremented; nullopt when the prefix is all 0xff bytes.
// InvalidArgument for an empty prefix or one longer than 32 bytes.
Result<std::optional<std::string>> HashPrefixUpperBound(std::string_view prefix);

// A key's grant as the columns scopes, tags, allowed_addresses and full_access of api_keys hold it
// (migration V003): each list as its entries joined by single spaces, in the grant's order (which
// NormalizeGrant sorts); tags nullopt as NULL, an empty list as ''. ReadKey reads them back.
struct GrantColumns {
  std::string scopes;
  std::optional<std::string> tags;  // nullopt: NULL, all of the owner's tags, live
  std::string allowed_addresses;
  std::int64_t full_access = 0;  // 0 or 1
};

// InvalidArgument if an entry of a list is empty or holds a space: it could not be read back as
// it was. (Valid scopes, tags and CIDRs never do.)
Result<GrantColumns> WriteGrant(const Grant& grant);

// The InvalidArgument both backends give for a text argument that is not valid UTF-8 or holds
// NUL (!IsUtf8Text): no row can hold it, and a lookup by it is a mistake, not a miss.
Status InvalidText(std::string detail);

// An error of `code` gets `message`, which names what was taken or missing (its detail stays);
// any other status is returned as it is.
Status Reword(Status status, StatusCode code, std::string message);

}  // namespace keyward
