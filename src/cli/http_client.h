// A small blocking HTTP client on libcurl for the CLI: JSON requests to one Keyward server, and
// the form-encoded POST of OAuth 2.0's token endpoint.
//
// TLS certificates and host names are always checked (TLS 1.2 at least); `ca_file` adds the
// CAs of a PEM file to the system's trusted ones (it does not replace them). Errors:
// Unavailable when the server cannot be reached or its certificate is not trusted (naming the
// URL tried); InvalidArgument when `ca_file` cannot be read or holds no certificate; otherwise
// the server's {"error": {"code", "message"}} (or, from PostForm, an RFC 6749 §5.2 error) turned
// back into a Status. Not thread safe.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "cli/oauth_form.h"
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

  // POSTs `fields` as application/x-www-form-urlencoded to `path` and returns the JSON answer.
  // Sends no Authorization header: an OAuth request carries its credentials in the form. An
  // error answer in RFC 6749 §5.2 form becomes the Status of OAuthErrorStatus().
  Result<boost::json::value> PostForm(const std::string& path, const FormFields& fields);

  // `text` percent-encoded for use as one path segment.
  std::string Escape(std::string_view text);

  const std::string& server() const { return server_; }

 private:
  struct Reply {
    long status = 0;
    std::string body;
  };
  // One request: `payload` sent with `content_type` when that is not empty; the Bearer token
  // when `with_token`. Errors only for a transfer that failed (no HTTP answer).
  Result<Reply> Perform(std::string_view method, const std::string& path,
                        const std::string& content_type, const std::string& payload,
                        bool with_token);
  // A 2xx answer's JSON (null for 204 or an empty body); Internal when it is not JSON.
  Result<boost::json::value> ParseAnswer(const Reply& reply) const;

  std::string server_;
  std::string token_;
  std::string ca_file_;
  void* curl_;  // CURL*, owned
};

}  // namespace keyward
