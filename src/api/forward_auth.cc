#include "api/forward_auth.h"

#include <boost/json/serialize.hpp>
#include <initializer_list>
#include <memory>

#include "api/admission.h"
#include "api/client_address.h"
#include "api/credentials.h"
#include "api/requirements.h"
#include "common/log.h"
#include "http/error_response.h"
#include "token/jwt.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;

// The bodies of a refusal, built once.
const std::string& RefusalBody(VerifyOutcome outcome) {
  static const std::string denied =
      boost::json::serialize(http::ErrorBody(StatusCodeName(StatusCode::kUnauthenticated),
                                             "missing, invalid, expired or revoked key")) +
      "\n";
  static const std::string failed =
      boost::json::serialize(http::ErrorBody(StatusCodeName(StatusCode::kUnavailable),
                                             "the key could not be verified; retry shortly")) +
      "\n";
  return outcome == VerifyOutcome::kInvalid ? denied : failed;
}

// X-Keyward-Rate-Limit-Status: 403 — the gateway (nginx) wants 403 in place of 429.
bool WantsLimitAs403(const http::Request& request) {
  auto it = request.find("X-Keyward-Rate-Limit-Status");
  return it != request.end() && it->value() == "403";
}

// The first of the headers `names` present, else `fallback`.
std::string_view HeaderOr(const http::Request& request, std::initializer_list<const char*> names,
                          std::string_view fallback) {
  for (const char* name : names) {
    if (auto it = request.find(name); it != request.end()) {
      return std::string_view(it->value().data(), it->value().size());
    }
  }
  return fallback;
}

// Who presented the key, for a canary's report (issue 17): ClientOf the client's address, with
// the forwarded request's method and URI as the gateway passes them (Traefik X-Forwarded-*,
// nginx X-Original-*) when the peer is a trusted proxy (whose forwarding headers name the client
// too: api/client_address.h), else /auth's own: anyone else may write anything in them.
ClientInfo PresenterOf(const http::Request& request, std::string_view peer,
                       const std::vector<Cidr>& trusted) {
  ClientInfo who = ClientOf(request, ClientAddress(request, peer, trusted));
  if (!IsTrustedPeer(peer, trusted)) return who;
  who.method = HeaderOr(request, {"X-Forwarded-Method", "X-Original-Method"}, who.method);
  who.path = HeaderOr(request, {"X-Forwarded-Uri", "X-Original-URI"}, who.path);
  return who;
}

// The one /auth decision, for the cache and the store alike. kValid allows (200 with the
// identity of `principal`, whose tags and scopes joined are `tags` and `scopes`); kInvalid
// refuses with 401 and WWW-Authenticate: Bearer; kError refuses with 403, never a status nginx
// would make a 500 of. `principal` is read only for kValid. Copies nothing but the header
// values and the body.
http::Response Answer(unsigned version, bool keep_alive, VerifyOutcome outcome,
                      const Principal* principal, std::string_view tags, std::string_view scopes) {
  if (outcome == VerifyOutcome::kValid) {
    http::Response res{bh::status::ok, version};
    // insert, not set: the fields are new, so there is nothing to look up and replace.
    res.insert("X-Keyward-User", principal->user.id);
    res.insert("X-Keyward-Tags", tags);
    res.insert("X-Keyward-Scopes", scopes);
    res.insert("X-Keyward-Key-Name", principal->key_name);
    res.content_length(0);
    res.keep_alive(keep_alive);
    return res;
  }
  const bool denied = outcome == VerifyOutcome::kInvalid;
  http::Response res{denied ? bh::status::unauthorized : bh::status::forbidden, version};
  if (denied) res.set(bh::field::www_authenticate, "Bearer");
  res.set(bh::field::content_type, "application/json");
  const std::string& body = RefusalBody(outcome);
  res.body() = body;
  res.content_length(body.size());
  res.keep_alive(keep_alive);
  return res;
}

// A valid key refused: 403 with X-Keyward-Reason and the error body; over its rate limit, 429
// (403 with `limit_as_403`) with the rate-limit headers.
http::Response Refuse(unsigned version, bool keep_alive, const Admission& admission,
                      bool limit_as_403) {
  const Denial& denial = *admission.denial;
  const bool limited = admission.rate_limited();
  http::Response res{
      limited && !limit_as_403 ? bh::status::too_many_requests : bh::status::forbidden, version};
  if (limited) {
    for (auto& [name, value] : RateLimitedHeaders(admission.rate)) res.set(name, value);
  } else {
    res.set("X-Keyward-Reason", DenialReasonName(denial.reason));
  }
  res.set(bh::field::content_type, "application/json");
  const StatusCode code = limited ? StatusCode::kResourceExhausted : StatusCode::kPermissionDenied;
  res.body() = boost::json::serialize(http::ErrorBody(StatusCodeName(code), denial.message)) + "\n";
  res.content_length(res.body().size());
  res.keep_alive(keep_alive);
  return res;
}

// How a full verification ended.
VerifyOutcome OutcomeOf(const Status& status) {
  if (status.ok()) return VerifyOutcome::kValid;
  return status.code() == StatusCode::kUnauthenticated ? VerifyOutcome::kInvalid
                                                       : VerifyOutcome::kError;
}

}  // namespace

bool IsForwardAuthPath(std::string_view target) {
  if (!target.starts_with("/auth")) return false;
  return target.size() == 5 || target[5] == '/' || target[5] == '?';
}

void ForwardAuth::Finish(http::Responder& respond, http::Response&& response, VerifyOutcome outcome,
                         const RequestTrace& trace, std::string_view user,
                         std::string_view key_name) {
  metrics_.CountVerification(outcome);
  metrics_.CountRequest(RouteLabel::kAuth, static_cast<int>(response.result_int()),
                        std::chrono::steady_clock::now() - trace.started);
  if (log::AccessEnabled() && user.empty()) {
    // A key allowed: its answer names it.
    if (auto it = response.find("X-Keyward-User"); it != response.end()) {
      user = std::string_view(it->value().data(), it->value().size());
    }
    if (auto it = response.find("X-Keyward-Key-Name"); it != response.end()) {
      key_name = std::string_view(it->value().data(), it->value().size());
    }
  }
  FinishResponse(response, trace, "/auth", user, key_name);
  respond(std::move(response));
}

void ForwardAuth::Handle(http::Request&& request, const http::Peer& peer, http::Responder respond,
                         const RequestTrace& trace) {
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  std::string scratch;
  auto credential = FindCredential(request, allow_query_key_, scratch);
  if (!credential || credential->empty()) {
    Finish(respond, Answer(version, keep_alive, VerifyOutcome::kInvalid, nullptr, {}, {}),
           VerifyOutcome::kInvalid, trace);
    return;
  }
  Requirements required = RequirementsOf(request);
  http::Response allowed;
  Admission admission;
  std::string refused_user;  // for the access line: who was refused (only while it is on)
  std::string refused_key;
  std::string refresh;  // the entry's hash, when it is due to be read again (ClaimRefresh)
  auto on_valid = [&](const CacheEntry& e) {
    const UnixSeconds now = clock_.Now();
    if (refresher_ != nullptr && authenticator_.ClaimRefresh(e, now)) {
      refresh = e.principal.token_hash;
    }
    admission = Admit(e.principal, e.meters, ClientAddress(request, peer.address, trusted_proxies_),
                      UserAgentOf(request), required, now);
    if (!admission.admitted()) {
      if (log::AccessEnabled()) {
        refused_user = e.principal.user.id;
        refused_key = e.principal.key_name;
      }
      return;
    }
    allowed = Answer(version, keep_alive, VerifyOutcome::kValid, &e.principal, e.tags_header,
                     e.scopes_header);
  };
  // An issued JWT has its own cache entry (its grant), under its own hash.
  const bool jwt = tokens_ != nullptr && token::LooksLikeJwt(*credential);
  auto cached = jwt ? tokens_->TryCached(*credential, on_valid)
                    : authenticator_.TryCached(*credential, on_valid, [&] {
                        return PresenterOf(request, peer.address, trusted_proxies_);
                      });
  if (cached == KeyCache::Outcome::kValid) {
    if (!admission.admitted()) {
      metrics_.CountDenial(admission.denial->reason);
      allowed = Refuse(version, keep_alive, admission, WantsLimitAs403(request));
    }
    Finish(respond, std::move(allowed), VerifyOutcome::kValid, trace, refused_user, refused_key);
    // Dropped when the queue is full: the entry then ages out and a request reads the store.
    if (!refresh.empty()) static_cast<void>(refresher_->Submit(std::move(refresh)));
    return;
  }
  if (cached == KeyCache::Outcome::kInvalid) {
    Finish(respond, Answer(version, keep_alive, VerifyOutcome::kInvalid, nullptr, {}, {}),
           VerifyOutcome::kInvalid, trace);
    return;
  }
  // A miss: the store decides, on a blocking thread.
  const ClientInfo who = PresenterOf(request, peer.address, trusted_proxies_);
  Decide(std::string(*credential), jwt,
         Presenter{std::string(who.address), std::string(who.user_agent), std::string(who.method),
                   std::string(who.path)},
         std::move(required), version, keep_alive, WantsLimitAs403(request), std::move(respond),
         trace);
}

void ForwardAuth::Decide(std::string token, bool jwt, Presenter who, Requirements required,
                         unsigned version, bool keep_alive, bool limit_as_403,
                         http::Responder respond, const RequestTrace& trace) {
  // NOLINTNEXTLINE(bugprone-exception-escape): as Requirements (requirements.h)
  struct Job {
    std::string token;
    Presenter who;
    Requirements required;
    http::Responder responder;
    RequestTrace trace;
  };
  auto job = std::make_shared<Job>(
      Job{std::move(token), std::move(who), std::move(required), std::move(respond), trace});
  bool queued = blocking_.TrySubmit([this, job, jwt, version, keep_alive, limit_as_403] {
    const Presenter& by = job->who;
    auto principal =
        jwt ? tokens_->Verify(job->token, AudienceSet::kGateway)
            : authenticator_.Authenticate(
                  job->token, ClientInfo{by.address, by.user_agent, by.method, by.path});
    const VerifyOutcome outcome = OutcomeOf(principal.status());
    if (outcome == VerifyOutcome::kError) {
      log::Error("/auth could not verify a key: {}", principal.status().ToString());
    }
    if (principal.ok()) {
      const KeyMeters meters = authenticator_.MetersOf(*principal);
      const Admission admission = Admit(*principal, meters, job->who.address, job->who.user_agent,
                                        job->required, clock_.Now());
      if (!admission.admitted()) {
        metrics_.CountDenial(admission.denial->reason);
        Finish(job->responder, Refuse(version, keep_alive, admission, limit_as_403), outcome,
               job->trace, principal->user.id, principal->key_name);
        return;
      }
    }
    const std::string tags = principal.ok() ? JoinTags(principal->user.tags) : std::string();
    const std::string scopes = principal.ok() ? ScopesHeader(principal->grant) : std::string();
    Finish(
        job->responder,
        Answer(version, keep_alive, outcome, principal.ok() ? &*principal : nullptr, tags, scopes),
        outcome, job->trace);
  });
  if (!queued) {
    Finish(job->responder, Answer(version, keep_alive, VerifyOutcome::kError, nullptr, {}, {}),
           VerifyOutcome::kError, job->trace);
  }
}

}  // namespace keyward
