// Every /api/v1 route: thin handlers that turn JSON into service calls and back.
#pragma once

#include "api/router.h"
#include "api/services.h"

namespace keyward {

// Turns a handler taking `services` into a RouteFn: `bind(fn)` calls fn(services, call).
// `services` must outlive the routes.
inline auto RouteBinder(Services& services) {
  return [&services](Result<Reply> (*fn)(Services&, ApiCall&)) -> RouteFn {
    return [&services, fn](ApiCall& call) { return fn(services, call); };
  };
}

// Events were put in the outbox: the webhook dispatcher looks now rather than at its next poll.
inline void NudgeDispatcher(const Services& services) {
  if (services.dispatcher != nullptr) services.dispatcher->Nudge();
}

// Adds the /api/v1 routes to `router`, those below included. `services` must outlive it.
void AddApiRoutes(Router& router, Services& services);

// POST /api/v1/users/{id}/apikeys/{name}/rotate and PATCH /api/v1/users/{id}/apikeys/{name}
// (key_lifecycle_routes.cc).
void AddKeyLifecycleRoutes(Router& router, Services& services);
// /api/v1/webhooks and below (webhook_routes.cc).
void AddWebhookRoutes(Router& router, Services& services);
// GET /api/v1/users/{id}/apikeys/{name}/usage and GET /api/v1/usage/top (usage_routes.cc).
void AddUsageRoutes(Router& router, Services& services);
// POST /api/v1/apikeys/check and POST /api/v1/leaks (leak_routes.cc).
void AddLeakRoutes(Router& router, Services& services);

}  // namespace keyward
