#include "cli/exit_code.h"

namespace keyward {

int ExitCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInternal:
      return 1;
    case StatusCode::kInvalidArgument:
      return 2;
    case StatusCode::kUnauthenticated:
      return 3;
    case StatusCode::kPermissionDenied:
      return 4;
    case StatusCode::kNotFound:
      return 5;
    case StatusCode::kAlreadyExists:
      return 6;
    case StatusCode::kUnavailable:
      return 7;
    case StatusCode::kResourceExhausted:
      return 8;
    case StatusCode::kFailedPrecondition:
      return 9;
    case StatusCode::kInsufficientStorage:
      return 10;
  }
  return 1;
}

}  // namespace keyward
