#include "common/status.h"

#include <cstdio>
#include <cstdlib>

namespace keyward {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kInternal:
      return "internal";
    case StatusCode::kInsufficientStorage:
      return "insufficient_storage";
  }
  return "internal";
}

std::optional<StatusCode> StatusCodeFromName(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(kLastStatusCode); ++c) {
    const auto code = static_cast<StatusCode>(c);
    if (StatusCodeName(code) == name) return code;
  }
  return std::nullopt;
}

std::string Status::ToString() const {
  std::string s(StatusCodeName(code_));
  if (!message_.empty()) s += ": " + message_;
  if (!detail_.empty()) s += " (" + detail_ + ")";
  return s;
}

Status ExplainDiskFull(Status status, std::string_view not_done) {
  if (status.code() != StatusCode::kInsufficientStorage) return status;
  return Status::InsufficientStorage(
      "the server's disk is full: " + std::string(not_done) + "; retry later", status.detail());
}

namespace detail {

void ResultMisuse(const char* what, const Status& status) {
  std::fprintf(stderr, "keyward: %s: %s\n", what, status.ToString().c_str());
  std::abort();
}

}  // namespace detail

}  // namespace keyward
