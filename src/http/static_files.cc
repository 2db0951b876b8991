#include "http/static_files.h"

namespace keyward::http {

void SetBrowserSecurityHeaders(Response& response) {
  response.set("Content-Security-Policy",
               "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "DENY");
  response.set("Referrer-Policy", "no-referrer");
}

std::optional<Response> ServeStatic(const Request& request, const std::vector<StaticFile>& files) {
  if (request.method() != beast_http::verb::get && request.method() != beast_http::verb::head) {
    return std::nullopt;
  }
  std::string_view path(request.target());
  path = path.substr(0, path.find('?'));
  if (path == "/") path = "/index.html";
  if (path.starts_with("/assets/")) path.remove_prefix(7);
  for (const StaticFile& file : files) {
    if (file.path != path) continue;
    Response res{beast_http::status::ok, request.version()};
    res.set(beast_http::field::content_type, file.content_type);
    res.set(beast_http::field::cache_control, "no-cache");
    SetBrowserSecurityHeaders(res);
    res.body() = std::string(file.content);
    res.keep_alive(request.keep_alive());
    res.prepare_payload();
    return res;
  }
  return std::nullopt;
}

}  // namespace keyward::http
