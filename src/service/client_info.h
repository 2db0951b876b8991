// Who presented a credential, and what a canary key's use reports (issue 17).
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"

namespace keyward {

// Who presented a credential: for the records a refused old secret leaves (key.reuse_detected)
// and a canary key's use (key.canary_used). Views into the request; copy what must outlive it.
struct ClientInfo {
  std::string_view address;
  std::string_view user_agent;
  // The request the credential came with (issue 17). For /auth, the forwarded request's
  // (X-Forwarded-Method/-Uri, X-Original-Method/-URI) when a trusted proxy says, else /auth's
  // own.
  std::string_view method = {};
  std::string_view path = {};
};

// A canary key (KeyRecord::canary): whose and which, as the negative cache entry keeps it.
struct CanaryKey {
  std::string user_id;
  std::string name;
  UnixSeconds expires_at = 0;
};

// Told of every presentation of a canary key (service/canary_alerts.h implements it). Called on
// network threads (a cached refusal) and blocking ones: must never block. Thread safe.
class CanaryListener {
 public:
  virtual ~CanaryListener() = default;
  virtual void CanaryUsed(const CanaryKey& key, const ClientInfo& client, UnixSeconds at) const = 0;
};

}  // namespace keyward
