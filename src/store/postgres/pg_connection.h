// Thin RAII layer over libpq, used by the PostgreSQL Store backend only.
//
// Connection owns one PGconn and the names of the statements it has prepared; Params holds the
// values of one query, each sent in binary format with its type, never spliced into SQL text;
// Rows owns one PGresult whose columns came back in binary format. Not thread safe: a Connection
// and everything it returns are used by one thread at a time (the pool lends it to one caller).
//
// Errors: every Unavailable status has the message kUnavailableMessage or kBusyMessage and
// libpq's text in detail(). No message or detail ever holds the connection URL or a password.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace keyward::pg {

inline constexpr char kUnavailableMessage[] = "the database is unavailable";
inline constexpr char kBusyMessage[] = "the database is busy, try again";

// Maps a failure to a Status. With the SQLSTATE of `result` (null: a failure without a result):
//   23505 unique violation      -> AlreadyExists
//   23503 foreign key violation -> NotFound (the row it names, a user or a key, is absent)
//   22021, 22P05 (text that is not UTF-8 or holds NUL) -> InvalidText() (store/rows.h)
//   a lost connection (PQstatus bad, no result), class 08, 57P01-57P03 (shutdown, cannot
//   connect now), 53300 (too many connections)                       -> Unavailable
//   40001, 40P01 (serialization, deadlock), 55P03 (lock timeout), 57014 (statement timeout)
//                                                                    -> Unavailable (busy)
//   anything else -> Internal. detail() holds `what`, libpq's message and the SQLSTATE.
Status ErrorStatus(PGconn* conn, const PGresult* result, std::string_view what);

// The parameters of one query, numbered $1, $2, ... in the order they are added.
class Params {
 public:
  Params& Text(std::string_view value);   // TEXT; must be valid UTF-8 without NUL
  Params& Bytes(std::string_view value);  // BYTEA; any bytes, empty is '' (never NULL)
  Params& Int(std::int64_t value);        // BIGINT
  Params& NullText();                     // a TEXT NULL

  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class Connection;
  std::vector<std::string> values_;  // each in PostgreSQL's binary format
  std::vector<Oid> types_;
  std::vector<bool> nulls_;  // true where the value is NULL
};

// The rows of one successful query. Movable, not copyable.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}

  int size() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  // TEXT and BYTEA columns: the raw bytes ("" for NULL).
  std::string Bytes(int row, int column) const;
  // BIGINT, INTEGER or SMALLINT columns (0 for NULL).
  std::int64_t Int(int row, int column) const;
  // Rows changed by an INSERT, UPDATE or DELETE (0 for other statements).
  std::int64_t Affected() const;

 private:
  struct Deleter {
    void operator()(PGresult* result) const { PQclear(result); }
  };
  std::unique_ptr<PGresult, Deleter> result_;
};

struct ConnectOptions {
  // Opening a connection that takes longer than this fails with Unavailable.
  std::chrono::milliseconds connect_timeout{5000};
  // The server cancels statements that run longer (SQLSTATE 57014: Unavailable); 0: no limit.
  std::chrono::milliseconds statement_timeout{30000};
  // Shown in pg_stat_activity.
  std::string application_name = "keyward";
};

// One connection to the server.
class Connection {
 public:
  // Connects without blocking longer than options.connect_timeout (host name lookup aside).
  // `url` is a postgresql:// URL or a key=value string; settings it gives win over `options`.
  // `cancelled`, if given, is asked every 100 ms and ends the attempt (Unavailable) when true.
  // Unavailable if the server cannot be reached or refuses the connection.
  static Result<std::unique_ptr<Connection>> Open(const std::string& url,
                                                  const ConnectOptions& options,
                                                  const std::function<bool()>& cancelled = {});
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs `sql` with `params` (unnamed statement, one round trip plus parsing).
  Result<Rows> Query(const char* sql, const Params& params = {});
  // Runs `sql`, prepared once per connection; `sql` must be a string literal (the cache is keyed
  // by its address) always given parameters of the same types.
  Result<Rows> Prepared(const char* sql, const Params& params = {});
  // Runs trusted, constant SQL (migration scripts, several statements); never pass values here.
  Status Script(const char* sql, std::string_view what);

  // False once the connection is known to be lost; it cannot be used again.
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  // True outside a transaction block.
  bool idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  PGconn* raw() { return conn_; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  Result<Rows> Check(PGresult* result, const char* what);

  PGconn* conn_;                                           // owned; PQfinish in the destructor
  std::unordered_map<const char*, std::string> prepared_;  // SQL literal -> statement name
};

}  // namespace keyward::pg
