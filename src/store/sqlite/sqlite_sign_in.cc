// SQLite: the counts of failed sign-ins (sqlite_store_parts.h; store.h, issue 19).
#include <cstdint>
#include <string>
#include <vector>

#include "store/rows.h"
#include "store/sqlite/sqlite_store_parts.h"

namespace keyward::sqlite {
namespace {

// Only string literals reach SQLite; every value is a bound parameter.
constexpr char kReadCounter[] =
    "SELECT " KW_ROW_SIGN_IN_COUNTER_COLUMNS " FROM sign_in_failures WHERE subject = ?1";
constexpr char kInsertCounter[] =
    "INSERT INTO sign_in_failures (subject, " KW_ROW_SIGN_IN_COUNTER_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4)";
constexpr char kStoreCounter[] = KW_ROW_STORE_SIGN_IN_COUNTER("?1", "?2", "?3", "?4");
constexpr char kDeleteCounter[] = KW_ROW_DELETE_SIGN_IN_COUNTER("?1");
constexpr char kPruneCounters[] = KW_ROW_PRUNE_SIGN_IN_COUNTERS("?1");

// The counter of `subject` (all zeros when absent); `found` says whether a row holds it.
Result<SignInCounter> ReadCounter(Connection& db, const std::string& subject, bool& found) {
  KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kReadCounter));
  select.BindBlob(1, subject);
  KW_ASSIGN_OR_RETURN(found, select.Step());
  return found ? ReadSignInCounter(StatementRow(select)) : SignInCounter{};
}

// Stores `counter` of `subject`, in the caller's transaction.
Status StoreCounter(Connection& db, const std::string& subject, const SignInCounter& counter,
                    bool found) {
  if (counter.failures <= 0) {
    if (!found) return Status::Ok();
    KW_ASSIGN_OR_RETURN(Statement remove, db.Prepare(kDeleteCounter));
    remove.BindBlob(1, subject);
    return remove.Run();
  }
  KW_ASSIGN_OR_RETURN(Statement write, db.Prepare(found ? kStoreCounter : kInsertCounter));
  write.BindBlob(1, subject);
  write.BindInt(2, counter.failures);
  write.BindInt(3, counter.locked_until);
  write.BindInt(4, counter.expires_at);
  return write.Run();
}

}  // namespace

Status UpdateSignInCounters(Connection& db, const std::vector<std::string>& subjects,
                            const SignInCounterUpdate& update) {
  KW_RETURN_IF_ERROR(SignInLockOrder(subjects).status());
  Transaction transaction(db);
  KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
  std::vector<SignInCounter> counters(subjects.size());
  std::vector<char> found(subjects.size(), 0);
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    bool row = false;
    KW_ASSIGN_OR_RETURN(counters[i], ReadCounter(db, subjects[i], row));
    found[i] = row ? 1 : 0;
  }
  if (!update(counters)) return Status::Ok();  // the destructor rolls back: nothing written
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    KW_RETURN_IF_ERROR(StoreCounter(db, subjects[i], counters[i], found[i] != 0));
  }
  return transaction.Commit();
}

Result<std::int64_t> PruneSignInCounters(Connection& db, UnixSeconds now) {
  KW_ASSIGN_OR_RETURN(Statement remove, db.Prepare(kPruneCounters));
  remove.BindInt(1, now);
  KW_RETURN_IF_ERROR(remove.Run());
  return remove.Changes();
}

}  // namespace keyward::sqlite
