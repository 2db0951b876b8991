#include "store/postgres/libpq_loader.h"

#include <libpq-fe.h>

#include "common/shared_library.h"

// Every libpq function the backend calls; a new one fails the link until it is added here.
// clang-format off
#define KW_LIBPQ_FUNCTIONS(X) \
  X(PQclear) X(PQcmdTuples) X(PQconnectPoll) X(PQconnectStartParams) X(PQconninfoFree)   \
  X(PQconninfoParse) X(PQconsumeInput) X(PQerrorMessage) X(PQexec) X(PQexecParams)       \
  X(PQexecPrepared) X(PQfinish) X(PQfreemem) X(PQgetisnull) X(PQgetlength) X(PQgetvalue) \
  X(PQnotifies) X(PQntuples) X(PQprepare) X(PQresultErrorField) X(PQresultErrorMessage)  \
  X(PQresultStatus) X(PQsetErrorVerbosity) X(PQsetNoticeProcessor) X(PQsocket)          \
  X(PQstatus) X(PQtransactionStatus)
// clang-format on

namespace keyward::pg {
namespace {

// clang-format off
enum LibpqFunction {
#define KW_INDEX(name) k_##name,
  KW_LIBPQ_FUNCTIONS(KW_INDEX)
#undef KW_INDEX
  kFunctionCount
};
// clang-format on

void* g_libpq_functions[kFunctionCount];

const Status& LibpqLoaded() {
  // clang-format off
  static const Status status = OpenSharedLibrary("libpq.so.5", "libpq5", {
#define KW_SYMBOL(name) {#name, &g_libpq_functions[k_##name]},
    KW_LIBPQ_FUNCTIONS(KW_SYMBOL)
#undef KW_SYMBOL
  });
  // clang-format on
  return status;
}

}  // namespace

Status LoadLibpq() { return LibpqLoaded(); }

// libpq's function `F`, of the type libpq-fe.h declares.
template <typename F>
F Libpq(LibpqFunction function) {
  if (!LibpqLoaded().ok()) LibraryMissing(LibpqLoaded());
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym gives functions as void*
  return reinterpret_cast<F>(g_libpq_functions[function]);
}

}  // namespace keyward::pg

#define KW_LIBPQ(name) keyward::pg::Libpq<decltype(&::name)>(keyward::pg::k_##name)

// The forwarders, with libpq-fe.h's declarations (the compiler checks they match).
extern "C" {

void PQclear(PGresult* res) { KW_LIBPQ(PQclear)(res); }
char* PQcmdTuples(PGresult* res) { return KW_LIBPQ(PQcmdTuples)(res); }
PostgresPollingStatusType PQconnectPoll(PGconn* conn) { return KW_LIBPQ(PQconnectPoll)(conn); }
PGconn* PQconnectStartParams(const char* const* keywords, const char* const* values,
                             int expand_dbname) {
  return KW_LIBPQ(PQconnectStartParams)(keywords, values, expand_dbname);
}
void PQconninfoFree(PQconninfoOption* connOptions) { KW_LIBPQ(PQconninfoFree)(connOptions); }
PQconninfoOption* PQconninfoParse(const char* conninfo, char** errmsg) {
  return KW_LIBPQ(PQconninfoParse)(conninfo, errmsg);
}
int PQconsumeInput(PGconn* conn) { return KW_LIBPQ(PQconsumeInput)(conn); }
char* PQerrorMessage(const PGconn* conn) { return KW_LIBPQ(PQerrorMessage)(conn); }
PGresult* PQexec(PGconn* conn, const char* query) { return KW_LIBPQ(PQexec)(conn, query); }
PGresult* PQexecParams(PGconn* conn, const char* command, int nParams, const Oid* paramTypes,
                       const char* const* paramValues, const int* paramLengths,
                       const int* paramFormats, int resultFormat) {
  return KW_LIBPQ(PQexecParams)(conn, command, nParams, paramTypes, paramValues, paramLengths,
                                paramFormats, resultFormat);
}
PGresult* PQexecPrepared(PGconn* conn, const char* stmtName, int nParams,
                         const char* const* paramValues, const int* paramLengths,
                         const int* paramFormats, int resultFormat) {
  return KW_LIBPQ(PQexecPrepared)(conn, stmtName, nParams, paramValues, paramLengths, paramFormats,
                                  resultFormat);
}
void PQfinish(PGconn* conn) { KW_LIBPQ(PQfinish)(conn); }
void PQfreemem(void* ptr) { KW_LIBPQ(PQfreemem)(ptr); }
int PQgetisnull(const PGresult* res, int tup_num, int field_num) {
  return KW_LIBPQ(PQgetisnull)(res, tup_num, field_num);
}
int PQgetlength(const PGresult* res, int tup_num, int field_num) {
  return KW_LIBPQ(PQgetlength)(res, tup_num, field_num);
}
char* PQgetvalue(const PGresult* res, int tup_num, int field_num) {
  return KW_LIBPQ(PQgetvalue)(res, tup_num, field_num);
}
PGnotify* PQnotifies(PGconn* conn) { return KW_LIBPQ(PQnotifies)(conn); }
int PQntuples(const PGresult* res) { return KW_LIBPQ(PQntuples)(res); }
PGresult* PQprepare(PGconn* conn, const char* stmtName, const char* query, int nParams,
                    const Oid* paramTypes) {
  return KW_LIBPQ(PQprepare)(conn, stmtName, query, nParams, paramTypes);
}
char* PQresultErrorField(const PGresult* res, int fieldcode) {
  return KW_LIBPQ(PQresultErrorField)(res, fieldcode);
}
char* PQresultErrorMessage(const PGresult* res) { return KW_LIBPQ(PQresultErrorMessage)(res); }
ExecStatusType PQresultStatus(const PGresult* res) { return KW_LIBPQ(PQresultStatus)(res); }
PGVerbosity PQsetErrorVerbosity(PGconn* conn, PGVerbosity verbosity) {
  return KW_LIBPQ(PQsetErrorVerbosity)(conn, verbosity);
}
PQnoticeProcessor PQsetNoticeProcessor(PGconn* conn, PQnoticeProcessor proc, void* arg) {
  return KW_LIBPQ(PQsetNoticeProcessor)(conn, proc, arg);
}
int PQsocket(const PGconn* conn) { return KW_LIBPQ(PQsocket)(conn); }
ConnStatusType PQstatus(const PGconn* conn) { return KW_LIBPQ(PQstatus)(conn); }
PGTransactionStatusType PQtransactionStatus(const PGconn* conn) {
  return KW_LIBPQ(PQtransactionStatus)(conn);
}

}  // extern "C"
