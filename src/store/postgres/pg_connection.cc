#include "store/postgres/pg_connection.h"

#include <endian.h>
#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>
#include <utility>

#include "common/log.h"
#include "store/rows.h"

namespace keyward::pg {
namespace {

// Type OIDs from the server's catalog/pg_type.h, which client packages do not ship.
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

constexpr int kBinary = 1;
constexpr std::chrono::milliseconds kPollSlice{100};

std::string Trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.pop_back();
  }
  return text;
}

bool IsBusyState(std::string_view state) {
  return state == "40001" || state == "40P01" || state == "55P03" || state == "57014";
}

bool IsConnectionState(std::string_view state) {
  return state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03" ||
         state == "53300";
}

// libpq's notices (e.g. "relation already exists, skipping") go to the debug log, not stderr.
void LogNotice(void* /*arg*/, const char* message) {
  log::Debug("store: postgres: {}", Trimmed(message));
}

struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};

// The pointers libpq wants for the parameters of one call.
struct Bound {
  Bound(const std::vector<std::string>& values, const std::vector<bool>& nulls) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string& value = values[i];
      // Never null unless the value is NULL, so an empty value is not NULL.
      pointers.push_back(nulls[i] ? nullptr : value.data());
      lengths.push_back(static_cast<int>(value.size()));
      formats.push_back(kBinary);
    }
  }
  std::vector<const char*> pointers;
  std::vector<int> lengths;
  std::vector<int> formats;
};

// Waits until the connection attempt's socket is ready as PQconnectPoll asked.
Status WaitForSocket(PGconn* conn, PostgresPollingStatusType want,
                     std::chrono::steady_clock::time_point deadline,
                     const std::function<bool()>& cancelled) {
  pollfd fd{};
  fd.fd = PQsocket(conn);
  fd.events = want == PGRES_POLLING_READING ? POLLIN : POLLOUT;
  if (fd.fd < 0) return Status::Unavailable(kUnavailableMessage, "connect: no socket");
  while (true) {
    if (cancelled && cancelled()) return Status::Unavailable(kUnavailableMessage, "cancelled");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status::Unavailable(kUnavailableMessage, "connect: timed out");
    }
    int rc = ::poll(&fd, 1, static_cast<int>(std::min(left, kPollSlice).count()));
    if (rc > 0) return Status::Ok();
    if (rc < 0 && errno != EINTR) {
      return Status::Unavailable(
          kUnavailableMessage,
          fmt::format("connect: poll: {}", std::generic_category().message(errno)));
    }
  }
}

}  // namespace

Status ErrorStatus(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary != nullptr ? primary : "";
  if (message.empty() && result != nullptr) message = PQresultErrorMessage(result);
  if (message.empty() && conn != nullptr) message = PQerrorMessage(conn);
  message = Trimmed(std::move(message));
  const char* state_field = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : "";
  std::string_view state = state_field != nullptr ? state_field : "";
  std::string detail = fmt::format("{}: {} (SQLSTATE {})", what, message,
                                   state.empty() ? std::string_view("none") : state);
  if (state == "23505") return {StatusCode::kAlreadyExists, "already exists", std::move(detail)};
  if (state == "23503") return {StatusCode::kNotFound, "user not found", std::move(detail)};
  if (state == "22021" || state == "22P05") return InvalidText(std::move(detail));
  if (PQstatus(conn) != CONNECTION_OK || IsConnectionState(state) ||
      (result == nullptr && state.empty())) {
    return Status::Unavailable(kUnavailableMessage, std::move(detail));
  }
  if (IsBusyState(state)) return Status::Unavailable(kBusyMessage, std::move(detail));
  return Status::Internal(std::move(detail));
}

// --- Params ---

Params& Params::Text(std::string_view value) {
  values_.emplace_back(value);  // the binary format of TEXT is its bytes
  types_.push_back(kTextOid);
  nulls_.push_back(false);
  return *this;
}

Params& Params::NullText() {
  values_.emplace_back();
  types_.push_back(kTextOid);
  nulls_.push_back(true);
  return *this;
}

Params& Params::Bytes(std::string_view value) {
  values_.emplace_back(value);
  types_.push_back(kByteaOid);
  nulls_.push_back(false);
  return *this;
}

Params& Params::Int(std::int64_t value) {
  std::uint64_t big_endian = htobe64(static_cast<std::uint64_t>(value));
  values_.emplace_back(reinterpret_cast<const char*>(&big_endian), sizeof big_endian);
  types_.push_back(kInt8Oid);
  nulls_.push_back(false);
  return *this;
}

// --- Rows ---

std::string Rows::Bytes(int row, int column) const {
  if (IsNull(row, column)) return {};
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t Rows::Int(int row, int column) const {
  if (IsNull(row, column)) return 0;
  const auto* bytes =
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column));
  int length = PQgetlength(result_.get(), row, column);
  std::uint64_t value = 0;
  for (int i = 0; i < length; ++i) value = (value << 8) | bytes[i];
  switch (length) {
    case 2:
      return static_cast<std::int16_t>(static_cast<std::uint16_t>(value));
    case 4:
      return static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
    default:
      return static_cast<std::int64_t>(value);
  }
}

std::int64_t Rows::Affected() const {
  const char* text = PQcmdTuples(result_.get());
  std::int64_t count = 0;
  std::from_chars(text, text + std::strlen(text), count);  // "" (not a change) leaves 0
  return count;
}

// --- Connection ---

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url,
                                                     const ConnectOptions& options,
                                                     const std::function<bool()>& cancelled) {
  std::string server_options;
  if (options.statement_timeout.count() > 0) {
    server_options = fmt::format("-c statement_timeout={}", options.statement_timeout.count());
  }
  // Our defaults come before the URL ("dbname", expanded): settings the URL gives win.
  const char* keys[] = {"application_name",    "options",          "keepalives", "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "dbname",     nullptr};
  const char* values[] = {options.application_name.c_str(),
                          server_options.c_str(),
                          "1",
                          "10",
                          "5",
                          "3",
                          url.c_str(),
                          nullptr};
  std::unique_ptr<PGconn, ConnDeleter> conn(PQconnectStartParams(keys, values, 1));
  if (conn == nullptr) return Status::Unavailable(kUnavailableMessage, "connect: out of memory");
  auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;  // what libpq asks first
  while (PQstatus(conn.get()) != CONNECTION_BAD && poll_status != PGRES_POLLING_OK &&
         poll_status != PGRES_POLLING_FAILED) {
    KW_RETURN_IF_ERROR(WaitForSocket(conn.get(), poll_status, deadline, cancelled));
    poll_status = PQconnectPoll(conn.get());
  }
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Unavailable(kUnavailableMessage,
                               "connect: " + Trimmed(PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(conn.get(), LogNotice, nullptr);
  PQsetErrorVerbosity(conn.get(), PQERRORS_TERSE);  // no DETAIL lines, which quote values
  return std::unique_ptr<Connection>(new Connection(conn.release()));
}

Connection::~Connection() { PQfinish(conn_); }

Result<Rows> Connection::Check(PGresult* result, const char* what) {
  ExecStatusType status = PQresultStatus(result);  // PGRES_FATAL_ERROR for a null result
  if (result != nullptr && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)) {
    return Rows(result);
  }
  Status error = ErrorStatus(conn_, result, what);
  PQclear(result);
  return error;
}

Result<Rows> Connection::Query(const char* sql, const Params& params) {
  Bound bound(params.values_, params.nulls_);
  return Check(PQexecParams(conn_, sql, params.size(), params.types_.data(), bound.pointers.data(),
                            bound.lengths.data(), bound.formats.data(), kBinary),
               sql);
}

Result<Rows> Connection::Prepared(const char* sql, const Params& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = fmt::format("kw_{}", prepared_.size() + 1);
    KW_RETURN_IF_ERROR(
        Check(PQprepare(conn_, name.c_str(), sql, params.size(), params.types_.data()), sql)
            .status());
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  Bound bound(params.values_, params.nulls_);
  return Check(PQexecPrepared(conn_, it->second.c_str(), params.size(), bound.pointers.data(),
                              bound.lengths.data(), bound.formats.data(), kBinary),
               sql);
}

Status Connection::Script(const char* sql, std::string_view what) {
  std::string label(what);
  return Check(PQexec(conn_, sql), label.c_str()).status();
}

}  // namespace keyward::pg
