#include "service/login_throttle.h"

#include <algorithm>

namespace keyward {

std::int64_t LoginThrottle::Admit(std::string_view name, std::string_view address,
                                  UnixSeconds now) {
  MutexLock lock(mu_);
  UnixSeconds until = 0;
  if (auto it = by_name_.find(std::string(name)); it != by_name_.end()) {
    until = std::max(until, it->second.locked_until);
  }
  if (auto it = by_address_.find(std::string(address)); it != by_address_.end()) {
    until = std::max(until, it->second.locked_until);
  }
  if (until > now) return until - now;
  Fail(by_name_, name, free_per_name_, now);
  Fail(by_address_, address, free_per_address_, now);
  return 0;
}

void LoginThrottle::Fail(std::unordered_map<std::string, Entry>& map, std::string_view key,
                         int free_failures, UnixSeconds now) {
  if (map.size() >= kMaxEntries) Prune(map, now);
  Entry& e = map[std::string(key)];
  ++e.failures;
  // The failure that uses up the free ones locks for 1 s, the next for 2 s, then 4 s, ...
  int over = e.failures - free_failures;
  if (over >= 0) {
    std::int64_t backoff =
        over >= 30 ? max_backoff_ : std::min<std::int64_t>(max_backoff_, 1LL << over);
    // `now` is whole seconds: one more second makes sure a lock never ends sooner than its
    // backoff, however late in its second the failure came.
    e.locked_until = now + backoff + 1;
  }
}

void LoginThrottle::Prune(std::unordered_map<std::string, Entry>& map, UnixSeconds now) {
  std::erase_if(map, [now](const auto& kv) { return kv.second.locked_until <= now; });
  // Everything is still locked: start over rather than grow without bound.
  if (map.size() >= kMaxEntries) map.clear();
}

void LoginThrottle::TakeBack(std::unordered_map<std::string, Entry>& map, std::string_view key,
                             int free_failures) {
  auto it = map.find(std::string(key));
  if (it == map.end()) return;
  Entry& e = it->second;
  if (--e.failures < free_failures) e.locked_until = 0;
  if (e.failures <= 0) map.erase(it);
}

void LoginThrottle::RecordSuccess(std::string_view name, std::string_view address) {
  MutexLock lock(mu_);
  by_name_.erase(std::string(name));
  TakeBack(by_address_, address, free_per_address_);
}

void LoginThrottle::Release(std::string_view name, std::string_view address) {
  MutexLock lock(mu_);
  TakeBack(by_name_, name, free_per_name_);
  TakeBack(by_address_, address, free_per_address_);
}

}  // namespace keyward
