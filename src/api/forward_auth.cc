#include "api/forward_auth.h"

#include <memory>

#include "api/credentials.h"
#include "common/log.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;

constexpr std::string_view kDeniedBody =
    R"({"error":{"code":"unauthenticated","message":"missing, invalid, expired or revoked key"}})"
    "\n";
constexpr std::string_view kFailedBody =
    R"({"error":{"code":"unavailable","message":"the key could not be verified; retry shortly"}})"
    "\n";

http::Response Allowed(unsigned version, bool keep_alive, std::string_view user,
                       std::string_view tags, std::string_view key_name) {
  http::Response res{bh::status::ok, version};
  res.set("X-Keyward-User", user);
  res.set("X-Keyward-Tags", tags);
  res.set("X-Keyward-Key-Name", key_name);
  res.content_length(0);
  res.keep_alive(keep_alive);
  return res;
}

http::Response Refused(unsigned version, bool keep_alive, bh::status status,
                       std::string_view body) {
  http::Response res{status, version};
  if (status == bh::status::unauthorized) res.set(bh::field::www_authenticate, "Bearer");
  res.set(bh::field::content_type, "application/json");
  res.body() = body;
  res.content_length(body.size());
  res.keep_alive(keep_alive);
  return res;
}

}  // namespace

bool IsForwardAuthPath(std::string_view target) {
  if (!target.starts_with("/auth")) return false;
  return target.size() == 5 || target[5] == '/' || target[5] == '?';
}

void ForwardAuth::Finish(http::Responder& respond, http::Response&& response, VerifyOutcome outcome,
                         std::chrono::steady_clock::time_point started) {
  metrics_.CountVerification(outcome);
  metrics_.CountRequest(RouteLabel::kAuth, static_cast<int>(response.result_int()),
                        std::chrono::steady_clock::now() - started);
  respond(std::move(response));
}

void ForwardAuth::Handle(http::Request&& request, http::Responder respond,
                         std::chrono::steady_clock::time_point started) {
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  std::string scratch;
  auto credential = FindCredential(request, allow_query_key_, scratch);
  if (!credential || credential->empty()) {
    Finish(respond, Refused(version, keep_alive, bh::status::unauthorized, kDeniedBody),
           VerifyOutcome::kInvalid, started);
    return;
  }
  http::Response allowed;
  auto outcome = authenticator_.TryCached(*credential, [&](const CacheEntry& e) {
    allowed =
        Allowed(version, keep_alive, e.principal.user.id, e.tags_header, e.principal.key_name);
  });
  if (outcome == KeyCache::Outcome::kValid) {
    Finish(respond, std::move(allowed), VerifyOutcome::kValid, started);
    return;
  }
  if (outcome == KeyCache::Outcome::kInvalid) {
    Finish(respond, Refused(version, keep_alive, bh::status::unauthorized, kDeniedBody),
           VerifyOutcome::kInvalid, started);
    return;
  }
  // A miss: the store decides, on a worker.
  auto job = std::make_shared<std::pair<std::string, http::Responder>>(std::string(*credential),
                                                                       std::move(respond));
  bool queued = workers_.TrySubmit([this, job, version, keep_alive, started] {
    auto& [token, responder] = *job;
    auto principal = authenticator_.Authenticate(token);
    if (principal.ok()) {
      std::string tags;
      for (const auto& tag : principal->user.tags) tags += (tags.empty() ? "" : ",") + tag;
      Finish(responder, Allowed(version, keep_alive, principal->user.id, tags, principal->key_name),
             VerifyOutcome::kValid, started);
    } else if (principal.status().code() == StatusCode::kUnauthenticated) {
      Finish(responder, Refused(version, keep_alive, bh::status::unauthorized, kDeniedBody),
             VerifyOutcome::kInvalid, started);
    } else {
      log::Error("/auth could not verify a key: {}", principal.status().ToString());
      Finish(responder, Refused(version, keep_alive, bh::status::forbidden, kFailedBody),
             VerifyOutcome::kError, started);
    }
  });
  if (!queued) {
    auto& [token, responder] = *job;
    Finish(responder, Refused(version, keep_alive, bh::status::forbidden, kFailedBody),
           VerifyOutcome::kError, started);
  }
}

}  // namespace keyward
