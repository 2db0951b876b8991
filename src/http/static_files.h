// Serving files that live in memory (the embedded web UI): GET and HEAD only, exact paths, no
// file system, so no path traversal. Every answer carries a strict Content-Security-Policy
// (no inline script or style, same-origin connections only) and the usual hardening headers.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "http/server.h"

namespace keyward::http {

struct StaticFile {
  std::string_view path;          // "/index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view content;
};

// The response for `request` when its path names one of `files` ("/" and "/index.html" are
// the index; "/assets/x" is "/x"), or nullopt.
std::optional<Response> ServeStatic(const Request& request, const std::vector<StaticFile>& files);

// The headers every UI response carries.
void SetBrowserSecurityHeaders(Response& response);

}  // namespace keyward::http
