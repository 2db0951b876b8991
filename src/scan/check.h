// `keyward scan --check` and `--revoke` without the transport: the request bodies of
// POST /api/v1/apikeys/check, which carry only the hex SHA-256 of each key, and the marking of
// findings from the answers. Pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "scan/finding.h"

namespace keyward::scan {

// Hashes per request: the server takes at most 900, which stay under its 64 KiB body limit
// (~60 KB in JSON).
inline constexpr std::size_t kMaxCheckHashes = 900;

// Lower-case hex of the key's SHA-256 (what the store keeps, hex-encoded).
std::string KeyHashHex(const std::string& key);

// The distinct hashes of the findings' keys, in order of first finding.
std::vector<std::string> DistinctHashes(const std::vector<Finding>& findings);

// {"hashes": [...], "revoke": revoke} for hashes[begin, begin + kMaxCheckHashes).
boost::json::value CheckRequest(const std::vector<std::string>& hashes, std::size_t begin,
                                bool revoke);

// Marks every finding whose key hash the answer {"results": [{"hash", "live", "revoked"}]}
// names: live, and revoked when `revoke` was asked. Internal when the answer lacks that shape.
Status ApplyCheckAnswer(const boost::json::value& answer, bool revoke,
                        std::vector<Finding>& findings);

}  // namespace keyward::scan
