// PostgreSQL: the counts of failed sign-ins (postgres_store_parts.h; store.h, issue 19).
#include <cstdint>
#include <string>
#include <vector>

#include "store/postgres/postgres_store_parts.h"
#include "store/rows.h"

namespace keyward::pg {
namespace {

// Only string literals reach PostgreSQL; every value is a parameter.
// Takes the counter of $1: its row, inserted as zeros when absent, locked until the transaction
// ends (the no-op DO UPDATE is what locks an existing row; under READ COMMITTED it reads the
// latest committed values, whatever the statement's snapshot). Zeros inserted for a refused
// attempt are rolled back with it.
constexpr char kTakeCounter[] =
    "INSERT INTO sign_in_failures (subject, " KW_ROW_SIGN_IN_COUNTER_COLUMNS
    ") VALUES ($1, 0, 0, 0) ON CONFLICT (subject) DO UPDATE SET failures ="
    " sign_in_failures.failures RETURNING " KW_ROW_SIGN_IN_COUNTER_COLUMNS;
constexpr char kStoreCounter[] = KW_ROW_STORE_SIGN_IN_COUNTER("$1", "$2", "$3", "$4");
constexpr char kDeleteCounter[] = KW_ROW_DELETE_SIGN_IN_COUNTER("$1");
constexpr char kPruneCounters[] = KW_ROW_PRUNE_SIGN_IN_COUNTERS("$1");

}  // namespace

Result<bool> UpdateSignInCounters(Connection& conn, const std::vector<std::string>& subjects,
                                  const SignInCounterUpdate& update) {
  KW_ASSIGN_OR_RETURN(std::vector<std::size_t> order, SignInLockOrder(subjects));
  std::vector<SignInCounter> counters(subjects.size());
  for (std::size_t i : order) {
    KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kTakeCounter, Params().Bytes(subjects[i])));
    if (rows.size() != 1) return Status::Internal("a sign-in counter was not taken");
    counters[i] = ReadSignInCounter(ResultRow(rows, 0));
  }
  if (!update(counters)) return false;
  for (std::size_t i : order) {
    const SignInCounter& c = counters[i];
    if (c.failures <= 0) {
      KW_RETURN_IF_ERROR(conn.Prepared(kDeleteCounter, Params().Bytes(subjects[i])).status());
    } else {
      Params params;
      params.Bytes(subjects[i]).Int(c.failures).Int(c.locked_until).Int(c.expires_at);
      KW_RETURN_IF_ERROR(conn.Prepared(kStoreCounter, params).status());
    }
  }
  return true;
}

Result<std::int64_t> PruneSignInCounters(Connection& conn, UnixSeconds now) {
  KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kPruneCounters, Params().Int(now)));
  return rows.Affected();
}

}  // namespace keyward::pg
