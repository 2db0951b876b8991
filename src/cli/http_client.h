// A small blocking HTTP client on libcurl for the CLI: JSON requests to one Keyward server.
//
// TLS certificates and host names are always checked (TLS 1.2 at least); `ca_file` adds the
// CAs of a PEM file to the system's trusted ones (it does not replace them). Errors:
// Unavailable when the server cannot be reached or its certificate is not trusted (naming the
// URL tried); InvalidArgument when `ca_file` cannot be read or holds no certificate; otherwise
// the server's {"error": {"code", "message"}} turned back into a Status. Not thread safe.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace keyward {

class HttpClient {
 public:
  // `server` like "http://127.0.0.1:8080"; `token` sent as a Bearer key when not empty.
  HttpClient(std::string server, std::string token, std::string ca_file);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `body` (when not null) as JSON to `path` and returns the JSON answer (null for 204).
  Result<boost::json::value> Call(std::string_view method, const std::string& path,
                                  const boost::json::value& body = nullptr);

  // `text` percent-encoded for use as one path segment.
  std::string Escape(std::string_view text);

  const std::string& server() const { return server_; }

 private:
  std::string server_;
  std::string token_;
  std::string ca_file_;
  void* curl_;  // CURL*, owned
};

}  // namespace keyward
