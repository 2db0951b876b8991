#include "common/status.h"

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
    case StatusCode::kInternal:
      return "internal";
  }
  return "internal";
}

StatusCode StatusCodeFromName(std::string_view name) {
  for (auto code :
       {StatusCode::kOk, StatusCode::kInvalidArgument, StatusCode::kNotFound,
        StatusCode::kAlreadyExists, StatusCode::kUnauthenticated, StatusCode::kPermissionDenied,
        StatusCode::kResourceExhausted, StatusCode::kUnavailable}) {
    if (StatusCodeName(code) == name) return code;
  }
  return StatusCode::kInternal;
}

std::string Status::ToString() const {
  std::string s(StatusCodeName(code_));
  if (!message_.empty()) s += ": " + message_;
  if (!detail_.empty()) s += " (" + detail_ + ")";
  return s;
}

}  // namespace keyward
