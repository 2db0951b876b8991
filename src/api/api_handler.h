// The transport's handler for the whole server.
//
// /auth (forward authentication) and /healthz are answered on the network thread when they
// can be; /metrics too (403 to a client --metrics-allow does not name: Services::metrics_allow).
// /api/v1 routes are found, their caller authenticated, a body that is not JSON refused (415), the
// route run on the blocking pool (handlers block on the store), and the Result turned into an HTTP
// response: errors become {"error": {"code", "message"}} with the status of api/http_status.h; an
// error's detail() goes to the log with the request id, never to the client. Every /api/v1 response
// is Cache-Control: no-store. Every response, /auth's too, carries X-Request-Id and, with the
// access log on, gets its access line (api/request_log.h). GET /readyz is a public route of the
// router (it reads the store, on the blocking pool).
//
// Thread safe: Handle() is called on network threads and never blocks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "api/forward_auth.h"
#include "api/request_log.h"
#include "api/router.h"
#include "api/services.h"
#include "common/blocking_pool.h"
#include "http/server.h"

namespace keyward {

class ApiHandler {
 public:
  // `services` and `blocking` must outlive this object.
  ApiHandler(Services& services, BlockingPool& blocking);

  void Handle(http::Request&& request, const http::Peer& peer, http::Responder respond);

  const Router& router() const { return router_; }

 private:
  void Run(const Route& route, std::vector<std::string> params, QueryParams query,
           http::Request& request, const http::Peer& peer, http::Responder& respond,
           const RequestTrace& trace);
  // Finds the caller's credential (a key, or the session cookie with the CSRF check),
  // authenticates it and runs the route.
  Result<Reply> Authenticated(const Route& route, ApiCall& call, const http::Request& request);
  // Counts the response on `label`, gives it its X-Request-Id and the access line (`route`: the
  // route's pattern; `who`: the caller, when known), and sends it.
  void Send(http::Responder& respond, http::Response&& response, RouteLabel label,
            const RequestTrace& trace, std::string_view route, const Principal* who = nullptr);

  Services& services_;
  BlockingPool& blocking_;
  ForwardAuth forward_auth_;
  Router router_;
};

}  // namespace keyward
