#include "scan/check.h"

#include <boost/json.hpp>
#include <map>
#include <unordered_set>

#include "common/hex.h"
#include "core/api_key.h"

namespace keyward::scan {
namespace {

namespace json = boost::json;

}  // namespace

std::string KeyHashHex(const std::string& key) { return ToHex(HashKey(key)); }

std::vector<std::string> DistinctHashes(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const Finding& f : findings) {
    std::string hash = KeyHashHex(f.key);
    if (seen.insert(hash).second) out.push_back(std::move(hash));
  }
  return out;
}

json::value CheckRequest(const std::vector<std::string>& hashes, std::size_t begin, bool revoke) {
  json::array list;
  for (std::size_t i = begin; i < hashes.size() && i < begin + kMaxCheckHashes; ++i) {
    list.emplace_back(hashes[i]);
  }
  return json::object{{"hashes", std::move(list)}, {"revoke", revoke}};
}

Status ApplyCheckAnswer(const json::value& answer, bool revoke, std::vector<Finding>& findings) {
  const json::object* o = answer.if_object();
  const json::value* results = o != nullptr ? o->if_contains("results") : nullptr;
  if (results == nullptr || !results->is_array()) {
    return Status::Internal("the check answer has no results list");
  }
  struct Verdict {
    bool live = false;
    bool revoked = false;
  };
  std::map<std::string, Verdict, std::less<>> verdicts;
  for (const json::value& r : results->as_array()) {
    const json::object* item = r.if_object();
    const json::value* hash = item != nullptr ? item->if_contains("hash") : nullptr;
    const json::value* live = item != nullptr ? item->if_contains("live") : nullptr;
    if (hash == nullptr || !hash->is_string() || live == nullptr || !live->is_bool()) {
      return Status::Internal("a check result lacks hash or live");
    }
    const json::value* revoked = item->if_contains("revoked");
    verdicts[std::string(hash->as_string())] = {
        live->as_bool(), revoked != nullptr && revoked->is_bool() && revoked->as_bool()};
  }
  for (Finding& f : findings) {
    auto it = verdicts.find(KeyHashHex(f.key));
    if (it == verdicts.end()) continue;
    f.live = it->second.live;
    if (revoke) f.revoked = it->second.revoked;
  }
  return Status::Ok();
}

}  // namespace keyward::scan
