// The service objects the API handlers call; owned by main, borrowed here.
#pragma once

#include <vector>

#include "api/metrics.h"
#include "http/static_files.h"
#include "service/authenticator.h"
#include "service/key_service.h"
#include "service/options.h"
#include "service/session_service.h"
#include "service/user_service.h"

namespace keyward {

struct Services {
  const ServiceOptions& options;
  Authenticator& authenticator;
  KeyService& keys;
  UserService& users;
  SessionService& sessions;
  Metrics& metrics;
  KeyCache* cache;               // may be null
  bool allow_query_key = false;  // accept ?apikey= (keys then reach URLs and access logs)
  const std::vector<http::StaticFile>* web_assets = nullptr;  // the UI, served at /
};

}  // namespace keyward
