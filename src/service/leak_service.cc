#include "service/leak_service.h"

#include <fmt/format.h>

#include <boost/asio/ip/address.hpp>
#include <boost/json/object.hpp>
#include <utility>

#include "common/hex.h"
#include "core/api_key.h"
#include "core/policy.h"
#include "core/webhook.h"
#include "scan/key_finder.h"
#include "service/key_events.h"

namespace keyward {
namespace {

// A reported key is looked up again this often when it changes between the read and the change
// (a rotation, an edit); then it counts as not live.
constexpr int kLeakAttempts = 3;

// A canary key (issue 17 Part D) is treated as an unknown key: never live, never named.
bool IsCanary(const KeyRecord& key) { return key.canary; }

// May the caller see whose key `owner`'s is? Its owner; an operator (a key of one with
// users:read), as listing the owner's keys would need.
bool MayRead(const Caller& caller, const std::string& owner) {
  if (!CheckKeyAccess(caller.user, owner).ok()) return false;
  return owner == caller.user.id || RequireScope(caller.grant, scope::kUsersRead).ok();
}

// May the caller delete `owner`'s key (keys:write checked already)? As KeyService::Delete.
bool MayDelete(const Caller& caller, const std::string& owner) {
  if (!CheckKeyAccess(caller.user, owner).ok()) return false;
  return owner == caller.user.id || RequireScope(caller.grant, scope::kUsersWrite).ok();
}

bool HasControlCharacter(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

Status CheckReport(const std::vector<ReportedToken>& tokens) {
  if (tokens.empty() || tokens.size() > kMaxLeakTokens) {
    return Status::InvalidArgument(
        fmt::format("tokens must hold 1 to {} tokens, not {}", kMaxLeakTokens, tokens.size()));
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (!tokens[i].url) continue;
    if (tokens[i].url->size() > kMaxLeakUrlBytes) {
      return Status::InvalidArgument(
          fmt::format("tokens[{}].url is longer than {} bytes", i, kMaxLeakUrlBytes));
    }
    if (HasControlCharacter(*tokens[i].url)) {
      return Status::InvalidArgument(fmt::format("tokens[{}].url holds a control character", i));
    }
  }
  return Status::Ok();
}

// The key a reported token is: the token itself, or the key it spells with its '_'
// percent-encoded ("kw%5F…", as found in a URL); nullopt when it is neither.
std::optional<std::string> KeyIn(const std::string& token, const scan::KeyFinder& finder,
                                 std::string_view prefix) {
  if (IsWellFormedKey(token, prefix)) return token;
  std::optional<std::string> key;
  finder.Find(token, [&](const scan::KeyMatch& match) {
    if (match.offset == 0 && match.length == token.size()) key = match.key;
  });
  return key;
}

bool IsBase62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Could `window` (49 base62 characters) be a key's secret and checksum? Its checksum is valid.
bool HasValidChecksum(std::string_view window, std::string& candidate) {
  candidate.assign("x_").append(window);
  return IsWellFormedKey(candidate, "x");
}

// `url` with every key in it masked, leniently: first as the scanner finds keys (MaskKeysIn), then
// every 49-character window of a run of base62 characters whose checksum is valid (a key however
// encoded or preceded, "kw%255F…", "xkw_…") and every occurrence of a reported key's `bodies`
// become "AbCd…wXyZ" (first and last 4 characters), as MaskKey shows a key.
std::string MaskUrl(std::string_view url, const scan::KeyFinder& finder,
                    const std::vector<std::string>& bodies) {
  constexpr std::size_t kBody = kSecretChars + kChecksumChars;
  auto masked_body = [](std::string_view body) {
    return std::string(body.substr(0, 4)) + "…" + std::string(body.substr(body.size() - 4));
  };
  const std::string strict = scan::MaskKeysIn(url, finder);
  std::string out;
  out.reserve(strict.size());
  std::string candidate;
  std::size_t run = 0;  // base62 characters just before `i`
  for (std::size_t i = 0; i < strict.size(); ++i) {
    out.push_back(strict[i]);
    run = IsBase62(strict[i]) ? run + 1 : 0;
    if (run < kBody) continue;
    const std::string_view window = std::string_view(strict).substr(i + 1 - kBody, kBody);
    if (!HasValidChecksum(window, candidate)) continue;
    out.resize(out.size() - kBody);
    out.append(masked_body(window));
    run = 0;  // the next window starts after this one
  }
  for (const std::string& body : bodies) {
    for (std::size_t at = out.find(body); at != std::string::npos; at = out.find(body, at)) {
      out.replace(at, body.size(), masked_body(body));
    }
  }
  return out;
}

// The throttle's bucket for a reporter: an IPv4 address as such, an IPv6 address by its /64 (one
// host usually holds a whole /64); anything else as given.
std::string ReporterBucket(std::string_view address) {
  boost::system::error_code error;
  const boost::asio::ip::address parsed = boost::asio::ip::make_address(address, error);
  if (error) return std::string(address);
  if (parsed.is_v4()) return parsed.to_string();
  const boost::asio::ip::address_v6 v6 = parsed.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  }
  boost::asio::ip::address_v6::bytes_type bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace

bool LeakService::IsLive(const KeyRecord& found, UnixSeconds now) const {
  if (IsCanary(found) || found.disabled || found.expires_at <= now) return false;
  if (!found.by_old_secret) return true;
  if (found.old_secrets.empty()) return false;
  const OldSecret& old = found.old_secrets.front();
  return old.expires_at > now && now < old.AcceptedUntil(options_.last_used_lag_seconds);
}

Result<std::vector<HashCheck>> LeakService::Check(const Caller& caller,
                                                  const std::vector<std::string>& hashes,
                                                  bool revoke) const {
  KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope::kKeysRead));
  if (revoke) KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope::kKeysWrite));
  if (hashes.empty() || hashes.size() > kMaxCheckHashes) {
    return Status::InvalidArgument(
        fmt::format("hashes must hold 1 to {} hashes, not {}", kMaxCheckHashes, hashes.size()));
  }
  std::vector<std::string> raw;
  raw.reserve(hashes.size());
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    auto bytes = FromHex(hashes[i]);
    if (!bytes || bytes->size() != 32 || ToHex(*bytes) != hashes[i]) {  // upper case refused
      return Status::InvalidArgument(fmt::format(
          "hashes[{}] is not a SHA-256 in lower-case hex (64 characters of 0-9a-f)", i));
    }
    raw.push_back(std::move(*bytes));
  }
  const UnixSeconds now = clock_.Now();
  std::vector<HashCheck> results;
  results.reserve(hashes.size());
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    HashCheck& result = results.emplace_back(HashCheck{.hash = hashes[i]});
    auto found = store_.FindKeyByHash(raw[i]);
    if (!found.ok()) {
      if (found.status().code() == StatusCode::kNotFound) continue;
      return found.status();
    }
    if (IsCanary(*found)) continue;
    result.live = IsLive(*found, now);
    if (MayRead(caller, found->user_id)) {
      result.user = found->user_id;
      result.name = found->name;
    }
    if (!result.live || !revoke || !MayDelete(caller, found->user_id)) continue;
    // The name may hold another key by now (deleted and created again): delete only the key found.
    KW_ASSIGN_OR_RETURN(bool same, StillTheKeyFound(*found));
    if (!same) continue;
    Status deleted = keys_.Delete(caller, found->user_id, found->name, "leak scan");
    if (deleted.ok()) {
      result.revoked = true;
    } else if (deleted.code() != StatusCode::kNotFound) {  // NotFound: gone meanwhile
      return deleted;
    }
  }
  return results;
}

Result<bool> LeakService::StillTheKeyFound(const KeyRecord& found) const {
  auto current = store_.GetKey(found.user_id, found.name);
  if (!current.ok()) {
    if (current.status().code() == StatusCode::kNotFound) return false;
    return current.status();
  }
  return current->hash == found.hash;  // the current secret's hash, also when found by an old one
}

std::int64_t LeakService::Admit(std::string_view address) const {
  const TokenBucket::Nanos now = RateLimiter::SteadyNow();
  TokenBucket::Nanos due = next_prune_.load(std::memory_order_relaxed);
  if (now >= due && next_prune_.compare_exchange_strong(due, now + 60'000'000'000)) {
    throttle_limiter_.Prune(now);  // memory stays bounded by the addresses of the last minute
  }
  const RateDecision decision =
      throttle_limiter_.BucketFor(ReporterBucket(address), throttle_)->Take(now);
  return decision.allowed ? 0 : std::max<std::int64_t>(1, decision.retry_after);
}

Result<LeakReportOutcome> LeakService::Report(const std::vector<ReportedToken>& tokens,
                                              std::string_view address) const {
  KW_RETURN_IF_ERROR(CheckReport(tokens));
  const scan::KeyFinder finder({options_.key_prefix});
  std::vector<std::optional<std::string>> keys;
  std::vector<std::string> bodies;  // every reported key's secret and checksum
  keys.reserve(tokens.size());
  for (const ReportedToken& reported : tokens) {
    keys.push_back(KeyIn(reported.token, finder, options_.key_prefix));
    if (keys.back()) bodies.push_back(keys.back()->substr(options_.key_prefix.size() + 1));
  }
  LeakReportOutcome outcome{.received = tokens.size(), .live = 0};
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::optional<std::string>& key = keys[i];
    if (!key) continue;
    const std::string hash = HashKey(*key);
    const std::optional<std::string> url =
        tokens[i].url ? std::optional(MaskUrl(*tokens[i].url, finder, bodies)) : std::nullopt;
    for (int attempt = 0; attempt < kLeakAttempts; ++attempt) {
      auto found = store_.FindKeyByHash(hash);
      if (!found.ok()) {
        if (found.status().code() == StatusCode::kNotFound) break;
        return found.status();
      }
      if (!IsLive(*found, clock_.Now())) break;
      KW_ASSIGN_OR_RETURN(LeakStep step, ActOnLeak(*found, url, address));
      if (step == LeakStep::kChanged) continue;
      if (step == LeakStep::kDone) ++outcome.live;
      break;
    }
  }
  return outcome;
}

Result<LeakService::LeakStep> LeakService::ActOnLeak(const KeyRecord& found,
                                                     const std::optional<std::string>& url,
                                                     std::string_view address) const {
  auto current = store_.GetKey(found.user_id, found.name);
  if (!current.ok()) {
    if (current.status().code() == StatusCode::kNotFound) return LeakStep::kGone;
    return current.status();
  }
  if (current->hash != found.hash) return LeakStep::kChanged;  // rotated or replaced meanwhile
  const UnixSeconds now = clock_.Now();
  const bool disable = options_.leak_action == LeakAction::kDisable;
  const std::string action = disable ? "disabled" : "revoked";
  boost::json::object extra;
  extra["name"] = found.name;
  extra["action"] = action;
  if (url) extra["url"] = *url;
  extra["reporter_address"] = address;
  EventList events{KeyEvent(event::kKeyLeaked, *current, now, std::move(extra))};
  Status changed;
  if (disable) {
    events.push_back(KeyEvent(event::kKeyDisabled, *current, now));
    KeyUpdate update;
    update.disabled = true;
    changed = store_.UpdateKey(found.user_id, found.name, current->revision, update, events);
  } else {
    events.push_back(KeyEvent(event::kKeyDeleted, *current, now));
    changed = store_.DeleteKey(found.user_id, found.name, events);
  }
  // Whatever the store says, no secret of the key may stay valid in this node's cache.
  EraseSecrets(*current);
  EraseSecrets(found);
  if (changed.code() == StatusCode::kNotFound) return LeakStep::kGone;
  if (changed.code() == StatusCode::kFailedPrecondition) return LeakStep::kChanged;
  KW_RETURN_IF_ERROR(changed);
  if (audit_ != nullptr) {
    const std::string detail = url ? action + " url=" + *url : action;
    audit_->RecordAfter({.action = AuditAction::kKeyLeaked,
                         .actor = "system",
                         .user = found.user_id,
                         .target = found.name,
                         .address = address,
                         .detail = detail},
                        Status::Ok());
  }
  return LeakStep::kDone;
}

void LeakService::EraseSecrets(const KeyRecord& key) const {
  if (cache_ == nullptr) return;
  cache_->Erase(key.hash);
  for (const OldSecret& old : key.old_secrets) cache_->Erase(old.hash);
}

}  // namespace keyward
