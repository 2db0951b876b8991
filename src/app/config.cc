#include "app/config.h"

#include <algorithm>

#include "core/api_key.h"

namespace keyward {

Status Validate(const Config& config) {
  KW_RETURN_IF_ERROR(ValidateKeyPrefix(config.service.key_prefix));
  if (config.service.default_validity > config.service.max_validity) {
    return Status::InvalidArgument("--default-validity is longer than --max-validity");
  }
  if (config.limits.max_connections == 0) {
    return Status::InvalidArgument("--max-connections must be at least 1");
  }
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return Status::InvalidArgument(
        "--tls-cert and --tls-key go together: give both (HTTPS) or neither (plain HTTP)");
  }
  if (config.service.reveal && !config.db.empty() && config.master_key_file.empty()) {
    return Status::InvalidArgument(
        "with --db every node must use the same master key: give it with --master-key-file "
        "(created if missing), or run with --reveal=false");
  }
  return Status::Ok();
}

ThreadCounts ResolveThreads(const Config& config, const UsableCpus& cpus) {
  ThreadCounts counts;
  counts.network = config.network_threads > 0 ? config.network_threads : cpus.count;
  if (config.network_threads <= 0) counts.network_reason = "one per usable CPU: " + cpus.reason;
  counts.blocking =
      config.blocking_threads > 0 ? config.blocking_threads : std::max(4, 2 * cpus.count);
  return counts;
}

}  // namespace keyward
