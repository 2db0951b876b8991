// Status and Result<T>: how every fallible call at a module boundary reports an error.
//
// The codes are the small canonical set of abseil's Status. Each maps one-to-one onto an HTTP
// status (api/http_status.h) and a CLI exit code (cli/exit_code.h). A Status carries two texts:
// `message()` is safe to show to any client; `detail()` is for the server log only and may name
// internal causes (an SQLite error string, a path). Neither ever holds a secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace keyward {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller sent something malformed or out of range
  kNotFound,            // the thing does not exist, or the caller may not know it exists
  kAlreadyExists,       // a unique name or id is taken
  kUnauthenticated,     // no credential, or one that is not valid
  kPermissionDenied,    // a valid caller that may not do this
  kResourceExhausted,   // rate limited, or a server limit reached
  kUnavailable,         // a dependency (the store) cannot be reached; retrying may help
  kFailedPrecondition,  // the thing changed meanwhile, or the server is not set up for this
  kInternal,            // a bug or an unexpected failure
  // A write the store could not keep because its disk is full (or over quota); nothing was
  // changed, reads still work, and retrying after space is freed succeeds. Its own code, not
  // kUnavailable, so that clients, alerts and logs can tell a full disk from a store that
  // cannot be reached (HTTP 507, not 503).
  kInsufficientStorage,
};
// The last code: a loop over every code ends here (a new code goes before it and moves it).
inline constexpr StatusCode kLastStatusCode = StatusCode::kInsufficientStorage;

// Stable lower-case name of a code, used in JSON errors: "invalid_argument", ...
std::string_view StatusCodeName(StatusCode code);
// The code of a name StatusCodeName gives; nullopt for any other text.
std::optional<StatusCode> StatusCodeFromName(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::string detail = {})
      : code_(code), message_(std::move(message)), detail_(std::move(detail)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  // `detail` is logged, never sent: callers put the underlying cause there.
  static Status Unavailable(std::string m, std::string detail = {}) {
    return {StatusCode::kUnavailable, std::move(m), std::move(detail)};
  }
  // `detail` is logged, never sent: the store's error and the OS's (ENOSPC, EDQUOT).
  static Status InsufficientStorage(std::string m, std::string detail = {}) {
    return {StatusCode::kInsufficientStorage, std::move(m), std::move(detail)};
  }
  static Status Internal(std::string detail) {
    return {StatusCode::kInternal, "internal error", std::move(detail)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& detail() const { return detail_; }
  // "not_found: no such key (detail)" — for logs and test failure output.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string detail_;
};

// `status` with a message that says what a full disk stopped, when it is InsufficientStorage:
// "the server's disk is full: <not_done>; retry later" (its detail kept). Any other status is
// returned as it is.
Status ExplainDiskFull(Status status, std::string_view not_done);

namespace detail {
// Prints "<what>: <status>" to stderr and aborts: a Result used against its contract is a bug,
// and a clear message beats std::bad_variant_access.
[[noreturn]] void ResultMisuse(const char* what, const Status& status);
}  // namespace detail

// Either a value or a non-OK Status. Made from an OK Status it holds Internal instead (there is
// no value to give), so that `ok()` never lies; value() on an error aborts, saying which error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor): by design
  Result(Status status)                      // NOLINT(google-explicit-constructor): by design
      : v_(status.ok() ? Status::Internal("a Result was made from an OK Status")
                       : std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }
  T& value() & {
    Check();
    return std::get<T>(v_);
  }
  const T& value() const& {
    Check();
    return std::get<T>(v_);
  }
  // By value, so that `for (auto& x : F().value())` does not dangle.
  T value() && {
    Check();
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void Check() const {
    if (!ok())
      detail::ResultMisuse("value() of a Result that holds an error", std::get<Status>(v_));
  }

  std::variant<T, Status> v_;
};

}  // namespace keyward

#define KW_CONCAT_INNER(a, b) a##b
#define KW_CONCAT(a, b) KW_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define KW_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::keyward::Status kw_status_ = (expr);   \
    if (!kw_status_.ok()) return kw_status_; \
  } while (0)

// `KW_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result or returns its Status.
#define KW_ASSIGN_OR_RETURN(lhs, expr) \
  KW_ASSIGN_OR_RETURN_IMPL(KW_CONCAT(kw_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` is a declaration and `tmp` a name, neither
// can be parenthesised.
#define KW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
