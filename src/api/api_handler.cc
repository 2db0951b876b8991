#include "api/api_handler.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <memory>

#include "api/client_address.h"
#include "api/credentials.h"
#include "api/http_status.h"
#include "api/json_io.h"
#include "api/oauth_routes.h"
#include "api/request_log.h"
#include "api/routes.h"
#include "common/log.h"
#include "http/error_response.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;

http::Response MakeResponse(const http::Request& request, int status,
                            const boost::json::value& body) {
  http::Response res{static_cast<bh::status>(status), request.version()};
  res.keep_alive(request.keep_alive());
  res.set(bh::field::cache_control, "no-store");
  if (!body.is_null()) {
    res.set(bh::field::content_type, "application/json");
    res.body() = boost::json::serialize(body);
    res.body() += '\n';
  }
  if (status == 401) res.set(bh::field::www_authenticate, "Bearer");
  res.prepare_payload();
  return res;
}

http::Response ErrorResponse(const http::Request& request, const Status& status) {
  return MakeResponse(request, HttpStatusFor(status.code()),
                      http::ErrorBody(StatusCodeName(status.code()), status.message()));
}

// The path's decoded segments and query, or nullopt when the target is not a valid origin-form.
struct Target {
  std::vector<std::string> segments;
  QueryParams query;
};

std::optional<Target> ParseTarget(std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  Target out;
  for (auto segment : url->segments()) out.segments.emplace_back(segment);
  for (auto param : url->params()) out.query.emplace_back(param.key, param.value);
  return out;
}

// The access line's route for what no route pattern names: a file of the web UI, and a path
// no route has (or a target that cannot be parsed).
constexpr std::string_view kWebRoute = "(web)";
constexpr std::string_view kNoRoute = "(none)";

// The metrics label of a route of the router.
RouteLabel LabelOf(const Route& route) {
  if (route.pattern == "/api/v1/authorize") return RouteLabel::kAuthorize;
  if (route.pattern == "/readyz") return RouteLabel::kReadyz;
  return RouteLabel::kApi;
}

// Runs a route whose caller may call it. The API speaks JSON: a body of another type (or of
// none named) gets 415 Unsupported Media Type before the route sees it, but for the routes that
// read a form themselves (the OAuth endpoints answer RFC 6749 errors). The token issuer's routes
// answer 404 while it is off.
Result<Reply> RunRoute(const Route& route, ApiCall& call, const Services& services) {
  // The token issuer's routes while it is off: after authentication, so that a signed-in route
  // still answers 401 to a caller without a credential.
  if (route.traits.issuer && services.tokens == nullptr) {
    return Status::NotFound("the token issuer is off: start keyward serve with --issuer URL");
  }
  const http::Request& request = call.request;
  if (!request.body().empty() && !route.traits.form_body) {
    auto type = request.find(bh::field::content_type);
    if (type == request.end() || !IsJsonMediaType(std::string_view(type->value()))) {
      return Reply{
          415, http::ErrorBody("invalid_argument", "Content-Type must be application/json"), {}};
    }
  }
  return route.fn(call);
}

// Whether the client (api/client_address.h) may read /metrics: --metrics-allow names it, or is
// empty.
bool MayReadMetrics(const http::Request& request, const http::Peer& peer,
                    const Services& services) {
  if (services.metrics_allow.empty()) return true;
  const std::string_view client = ClientAddress(request, peer.address, services.trusted_proxies);
  return std::ranges::any_of(services.metrics_allow,
                             [&](const Cidr& net) { return net.Contains(client); });
}

}  // namespace

ApiHandler::ApiHandler(Services& services, BlockingPool& blocking)
    : services_(services),
      blocking_(blocking),
      forward_auth_(services.authenticator, services.tokens, ClockOf(services), blocking,
                    services.metrics, services.allow_query_key, services.trusted_proxies,
                    services.refresher) {
  AddApiRoutes(router_, services_);
  AddOAuthRoutes(router_, services_);
}

void ApiHandler::Send(http::Responder& respond, http::Response&& response, RouteLabel label,
                      const RequestTrace& trace, std::string_view route, const Principal* who) {
  services_.metrics.CountRequest(label, static_cast<int>(response.result_int()),
                                 std::chrono::steady_clock::now() - trace.started);
  FinishResponse(response, trace, route, who != nullptr ? who->user.id : std::string_view(),
                 who != nullptr ? who->key_name : std::string_view());
  respond(std::move(response));
}

void ApiHandler::Handle(http::Request&& request, const http::Peer& peer, http::Responder respond) {
  const RequestTrace trace = RequestTrace::Of(request);
  const std::string_view raw_target(request.target());
  if (IsForwardAuthPath(raw_target)) {
    forward_auth_.Handle(std::move(request), peer, std::move(respond), trace);
    return;
  }
  // A probe may add a query ("/healthz?probe=1"); the path decides, as for every route.
  const std::string_view raw_path = raw_target.substr(0, raw_target.find('?'));
  if (raw_path == "/healthz" || raw_path == "/metrics") {
    const RouteLabel label = raw_path == "/healthz" ? RouteLabel::kHealthz : RouteLabel::kMetrics;
    const std::string_view route = raw_path == "/healthz" ? "/healthz" : "/metrics";
    if (request.method() != bh::verb::get && request.method() != bh::verb::head) {
      http::Response res = MakeResponse(
          request, 405, http::ErrorBody("invalid_argument", "method not allowed; use GET"));
      res.set(bh::field::allow, "GET, HEAD");
      Send(respond, std::move(res), label, trace, route);
      return;
    }
    if (label == RouteLabel::kHealthz) {
      Send(respond, MakeResponse(request, 200, {{"status", "ok"}}), label, trace, route);
      return;
    }
    if (!MayReadMetrics(request, peer, services_)) {
      Send(respond,
           MakeResponse(request, 403,
                        http::ErrorBody("permission_denied",
                                        "this address may not read /metrics (--metrics-allow)")),
           label, trace, route);
      return;
    }
    http::Response res{bh::status::ok, request.version()};
    res.keep_alive(request.keep_alive());
    res.set(bh::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = services_.metrics.Render(services_.cache, services_.usage);
    if (services_.dispatcher != nullptr) {
      RenderWebhookCounters(services_.dispatcher->Counters(), res.body());
    }
    if (services_.canary_alerts != nullptr) {
      RenderCanaryCounters(services_.canary_alerts->uses(), services_.canary_alerts->suppressed(),
                           res.body());
    }
    res.prepare_payload();
    Send(respond, std::move(res), RouteLabel::kMetrics, trace, route);
    return;
  }
  if (services_.web_assets != nullptr && !raw_target.starts_with("/api/")) {
    if (auto file = http::ServeStatic(request, *services_.web_assets)) {
      Send(respond, std::move(*file), RouteLabel::kWeb, trace, kWebRoute);
      return;
    }
  }
  auto target = ParseTarget(request.target());
  if (!target) {
    Send(respond, ErrorResponse(request, Status::InvalidArgument("malformed request target")),
         RouteLabel::kOther, trace, kNoRoute);
    return;
  }
  Router::Match match = router_.Find(request.method(), target->segments);
  if (match.route == nullptr) {
    if (match.path_known) {
      http::Response res = MakeResponse(
          request, 405,
          http::ErrorBody("invalid_argument", "method not allowed; use " + match.allow));
      res.set(bh::field::allow, match.allow);
      Send(respond, std::move(res), RouteLabel::kOther, trace, kNoRoute);
    } else {
      Send(respond, ErrorResponse(request, Status::NotFound("no such route")), RouteLabel::kOther,
           trace, kNoRoute);
    }
    return;
  }
  auto job = std::make_shared<std::tuple<http::Request, http::Peer, http::Responder, Target>>(
      std::move(request), peer, std::move(respond), std::move(*target));
  const Route* route = match.route;
  bool queued =
      blocking_.TrySubmit([this, route, job, params = std::move(match.params), trace]() mutable {
        auto& [req, who, responder, tgt] = *job;
        Run(*route, std::move(params), std::move(tgt.query), req, who, responder, trace);
      });
  if (!queued) {
    auto& [req, who, responder, tgt] = *job;
    (void)who, (void)tgt;
    Send(responder, ErrorResponse(req, Status::Unavailable("server is busy; retry shortly")),
         LabelOf(*route), trace, route->pattern);
  }
}

Result<Reply> ApiHandler::Authenticated(const Route& route, ApiCall& call,
                                        const http::Request& request) {
  std::string scratch;
  auto credential = FindCredential(request, services_.allow_query_key, scratch);
  const bool by_cookie = !credential;
  if (by_cookie) credential = FindSessionCookie(request);
  if (!credential) return InvalidCredential();
  // A browser sends the cookie with any request to this site, even one a hostile page
  // started; only our own UI sends the CSRF header.
  if (by_cookie && !PassesCsrfCheck(request)) {
    return Status::PermissionDenied("cross-site request refused: missing CSRF header");
  }
  KW_ASSIGN_OR_RETURN(call.principal, services_.authenticator.Authenticate(
                                          *credential, ClientOf(request, call.client_address)));
  call.principal->client_address = call.client_address;  // for the audit log
  const bool address_ok = AddressAllowed(call.principal->networks, call.client_address);
  // Issue 16: a key calling the API is counted (not rate-limited: the limit is for gateways).
  if (auto usage = services_.authenticator.MetersOf(*call.principal).usage) {
    const Clock& clock = ClockOf(services_);
    usage->Record(address_ok ? UsageOutcome::kAllowed : UsageOutcome::kAddress, clock.Now(),
                  call.client_address, UserAgentOf(request));
  }
  if (!address_ok) {
    return Status::PermissionDenied("this API key may not be used from " + call.client_address);
  }
  return RunRoute(route, call, services_);
}

void ApiHandler::Run(const Route& route, std::vector<std::string> params, QueryParams query,
                     http::Request& request, const http::Peer& peer, http::Responder& respond,
                     const RequestTrace& trace) {
  ApiCall call{request,
               peer,
               std::move(params),
               std::move(query),
               std::nullopt,
               std::string(ClientAddress(request, peer.address, services_.trusted_proxies))};
  Result<Reply> reply = Status::Internal("not run");
  if (route.access == Access::kSignedIn) {
    reply = Authenticated(route, call, request);
  } else if (!IsSameOriginOrUnknown(request)) {
    reply = Status::PermissionDenied("cross-site request refused");
  } else {
    reply = RunRoute(route, call, services_);
  }

  http::Response res;
  if (reply.ok()) {
    res = MakeResponse(request, reply->status, reply->body);
    for (const auto& [name, value] : reply->headers) {
      // A route's own Cache-Control or WWW-Authenticate replaces the default one.
      if (boost::beast::iequals(name, "Cache-Control") ||
          boost::beast::iequals(name, "WWW-Authenticate")) {
        res.set(name, value);
      } else {
        res.insert(name, value);
      }
    }
  } else {
    const Status& s = reply.status();
    res = ErrorResponse(request, s);
    if (s.code() == StatusCode::kInternal || s.code() == StatusCode::kUnavailable) {
      log::Error("request {}: {} {}: {}", trace.id.view(), std::string(request.method_string()),
                 route.pattern, s.ToString());
    }
  }
  Send(respond, std::move(res), LabelOf(route), trace, route.pattern,
       call.principal ? &*call.principal : nullptr);
}

}  // namespace keyward
