// Readiness (GET /readyz): whether this node can serve requests that need the store, for a load
// balancer or an orchestrator to route traffic by. Liveness (/healthz) needs nothing of this.
// Thread safe; blocks on the store.
#pragma once

#include "common/status.h"
#include "store/store.h"

namespace keyward {

class HealthService {
 public:
  // `store` must outlive this object.
  explicit HealthService(Store& store) : store_(store) {}

  // OK when the store answers and its schema is the current migration (Store::CheckReady);
  // otherwise Unavailable, saying which of the two, with the store's error as its detail (for
  // the log, never the client).
  Status Ready() const;

 private:
  Store& store_;
};

}  // namespace keyward
