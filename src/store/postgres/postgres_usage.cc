// PostgreSQL: the usage counts of keys (postgres_store_parts.h; store.h, issue 16).
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/postgres/postgres_store_parts.h"
#include "store/rows.h"

namespace keyward::pg {
namespace {

// Only string literals reach PostgreSQL; every value is a parameter.
// The key of a current or old secret: its id, and its current hash (the order TouchKeys locks
// api_keys rows in).
constexpr char kKeyOfSecret[] =
    "SELECT id, hash FROM api_keys WHERE hash = $1 UNION ALL SELECT k.id, k.hash FROM "
    "rotated_secrets r JOIN api_keys k ON k.id = r.key_id WHERE r.hash = $1 LIMIT 1";
// One delta of key $1 in one statement: its counts added to its hour unless $11 is 0 (none
// counted), and its client ($12 seen_at, $13 address, $14 user agent) noted unless $12 is 0.
#define KW_DELTA_HOUR \
  KW_ROW_ADD_USAGE("SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE $11 = 1")
#define KW_DELTA_CLIENT KW_ROW_NOTE_CLIENT("GREATEST", "$1", "$12", "$13", "$14")
constexpr char kAddDelta[] = "WITH added AS (" KW_DELTA_HOUR ") " KW_DELTA_CLIENT " AND $12 > 0";
#undef KW_DELTA_HOUR
#undef KW_DELTA_CLIENT
constexpr char kKeyUsage[] = KW_ROW_KEY_USAGE("$1", "$2", "$3", "$4");
constexpr char kTopByRequests[] = KW_ROW_TOP_USAGE(KW_ROW_USAGE_BY_REQUESTS, "$1", "$2");
constexpr char kTopByDenied[] = KW_ROW_TOP_USAGE(KW_ROW_USAGE_BY_DENIED, "$1", "$2");
constexpr char kPruneUsage[] = KW_ROW_PRUNE_USAGE("$1");

bool AnyCount(const UsageCounts& counts) {
  return std::any_of(counts.begin(), counts.end(), [](std::int64_t n) { return n != 0; });
}

// Adds one delta of the key `id`, in the caller's transaction. Under READ COMMITTED an hour
// another node inserts meanwhile is waited for, then added to (ON CONFLICT DO UPDATE).
Status AddDelta(Connection& conn, std::int64_t id, const UsageDelta& delta) {
  Params params;
  params.Int(id).Int(delta.hour_start);
  for (std::int64_t count : delta.counts) params.Int(count);
  params.Int(AnyCount(delta.counts) ? 1 : 0).Int(std::max<UnixSeconds>(delta.seen_at, 0));
  params.Text(ClientText(delta.last_address, kMaxClientAddressBytes));
  params.Text(ClientText(delta.last_user_agent, kMaxUserAgentBytes));
  return conn.Prepared(kAddDelta, params).status();
}

}  // namespace

Status RecordUsage(Connection& conn, const std::vector<UsageDelta>& deltas) {
  // Each delta's key first, then the writes in (the key's current hash, hour) order: the order
  // in which every node's RecordUsage and TouchKeys (by hash) lock api_keys rows, so concurrent
  // flushes and last-used writes wait for each other instead of deadlocking.
  struct Known {
    std::string key_hash;
    std::int64_t id = 0;
    const UsageDelta* delta = nullptr;
  };
  std::vector<Known> known;
  known.reserve(deltas.size());
  for (const UsageDelta& delta : deltas) {
    KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kKeyOfSecret, Params().Bytes(delta.hash)));
    if (rows.size() == 0) continue;  // unknown (or deleted meanwhile): nothing to count it on
    known.push_back({rows.Bytes(0, 1), rows.Int(0, 0), &delta});
  }
  std::sort(known.begin(), known.end(), [](const Known& a, const Known& b) {
    if (a.key_hash != b.key_hash) return a.key_hash < b.key_hash;
    return a.delta->hour_start < b.delta->hour_start;
  });
  for (const Known& k : known) KW_RETURN_IF_ERROR(AddDelta(conn, k.id, *k.delta));
  return Status::Ok();
}

Result<KeyUsage> GetUsage(Connection& conn, std::string_view user_id, std::string_view name,
                          UnixSeconds since, UnixSeconds until) {
  KW_ASSIGN_OR_RETURN(
      Rows rows, conn.Prepared(kKeyUsage, Params().Text(user_id).Text(name).Int(since).Int(until)));
  if (rows.size() == 0) return Status::NotFound("key not found");
  KeyUsage usage;
  usage.hours.reserve(static_cast<std::size_t>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) AddUsageRow(ResultRow(rows, r), usage);
  return usage;
}

Result<std::vector<KeyUsageTotal>> TopUsage(Connection& conn, UsageRanking by, UnixSeconds since,
                                            int limit) {
  if (limit < 1) return Status::InvalidArgument("the limit must be at least 1");
  KW_ASSIGN_OR_RETURN(Rows rows,
                      conn.Prepared(by == UsageRanking::kDenied ? kTopByDenied : kTopByRequests,
                                    Params().Int(since).Int(limit)));
  std::vector<KeyUsageTotal> totals;
  totals.reserve(static_cast<std::size_t>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) totals.push_back(ReadUsageTotal(ResultRow(rows, r)));
  return totals;
}

Result<std::int64_t> PruneUsage(Connection& conn, UnixSeconds before) {
  KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kPruneUsage, Params().Int(before)));
  return rows.Affected();
}

}  // namespace keyward::pg
