// SQLite: the usage counts of keys (sqlite_store_parts.h; store.h, issue 16).
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/rows.h"
#include "store/sqlite/sqlite_store_parts.h"

namespace keyward::sqlite {
namespace {

// Only string literals reach SQLite; every value is a bound parameter.
constexpr char kKeyIdOfSecret[] = KW_ROW_KEY_ID_OF_SECRET("?1");
constexpr char kAddUsage[] = KW_ROW_ADD_USAGE("VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
constexpr char kNoteClient[] = KW_ROW_NOTE_CLIENT("max", "?1", "?2", "?3", "?4");
constexpr char kKeyUsage[] = KW_ROW_KEY_USAGE("?1", "?2", "?3", "?4");
constexpr char kTopByRequests[] = KW_ROW_TOP_USAGE(KW_ROW_USAGE_BY_REQUESTS, "?1", "?2");
constexpr char kTopByDenied[] = KW_ROW_TOP_USAGE(KW_ROW_USAGE_BY_DENIED, "?1", "?2");
constexpr char kPruneUsage[] = KW_ROW_PRUNE_USAGE("?1");

bool AnyCount(const UsageCounts& counts) {
  return std::any_of(counts.begin(), counts.end(), [](std::int64_t n) { return n != 0; });
}

// The id of the key whose current or old secret `hash` is; 0 when none.
Result<std::int64_t> KeyIdOfSecret(Connection& db, std::string_view hash) {
  KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kKeyIdOfSecret));
  select.BindBlob(1, hash);
  KW_ASSIGN_OR_RETURN(bool found, select.Step());
  return found ? select.ColumnInt(0) : 0;
}

// Adds one delta of the key `id`, in the caller's transaction.
Status AddDelta(Connection& db, std::int64_t id, const UsageDelta& delta) {
  if (AnyCount(delta.counts)) {
    KW_ASSIGN_OR_RETURN(Statement add, db.Prepare(kAddUsage));
    add.BindInt(1, id);
    add.BindInt(2, delta.hour_start);
    for (std::size_t i = 0; i < kUsageOutcomes; ++i) {
      add.BindInt(3 + static_cast<int>(i), delta.counts[i]);
    }
    KW_RETURN_IF_ERROR(add.Run());
  }
  if (delta.seen_at <= 0) return Status::Ok();
  KW_ASSIGN_OR_RETURN(Statement note, db.Prepare(kNoteClient));
  note.BindInt(1, id);
  note.BindInt(2, delta.seen_at);
  note.BindText(3, ClientText(delta.last_address, kMaxClientAddressBytes));
  note.BindText(4, ClientText(delta.last_user_agent, kMaxUserAgentBytes));
  return note.Run();
}

}  // namespace

Status RecordUsage(Connection& db, const std::vector<UsageDelta>& deltas) {
  Transaction transaction(db);
  KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
  for (const UsageDelta& delta : deltas) {
    KW_ASSIGN_OR_RETURN(std::int64_t id, KeyIdOfSecret(db, delta.hash));
    if (id == 0) continue;  // unknown (or deleted meanwhile): nothing to count it on
    KW_RETURN_IF_ERROR(AddDelta(db, id, delta));
  }
  return transaction.Commit();
}

Result<KeyUsage> GetUsage(Connection& db, std::string_view user_id, std::string_view name,
                          UnixSeconds since, UnixSeconds until) {
  KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kKeyUsage));
  select.BindText(1, user_id);
  select.BindText(2, name);
  select.BindInt(3, since);
  select.BindInt(4, until);
  KeyUsage usage;
  bool found = false;
  while (true) {
    KW_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    found = true;
    AddUsageRow(StatementRow(select), usage);
  }
  if (!found) return Status::NotFound("key not found");
  return usage;
}

Result<std::vector<KeyUsageTotal>> TopUsage(Connection& db, UsageRanking by, UnixSeconds since,
                                            int limit) {
  if (limit < 1) return Status::InvalidArgument("the limit must be at least 1");
  KW_ASSIGN_OR_RETURN(Statement select,
                      db.Prepare(by == UsageRanking::kDenied ? kTopByDenied : kTopByRequests));
  select.BindInt(1, since);
  select.BindInt(2, limit);
  std::vector<KeyUsageTotal> totals;
  while (true) {
    KW_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return totals;
    totals.push_back(ReadUsageTotal(StatementRow(select)));
  }
}

Result<std::int64_t> PruneUsage(Connection& db, UnixSeconds before) {
  KW_ASSIGN_OR_RETURN(Statement remove, db.Prepare(kPruneUsage));
  remove.BindInt(1, before);
  KW_RETURN_IF_ERROR(remove.Run());
  return remove.Changes();
}

}  // namespace keyward::sqlite
