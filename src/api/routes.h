// Every /api/v1 route: thin handlers that turn JSON into service calls and back.
#pragma once

#include "api/router.h"
#include "api/services.h"

namespace keyward {

// Adds the /api/v1 routes to `router`. `services` must outlive it.
void AddApiRoutes(Router& router, Services& services);

}  // namespace keyward
