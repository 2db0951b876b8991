#include "service/health_service.h"

namespace keyward {

Status HealthService::Ready() const {
  Status status = store_.CheckReady();
  if (status.ok()) return status;
  if (status.code() == StatusCode::kFailedPrecondition) {
    return Status::Unavailable("not ready: the database schema is not this build's",
                               status.message());
  }
  return Status::Unavailable("not ready: the store does not answer", status.ToString());
}

}  // namespace keyward
