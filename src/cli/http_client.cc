#include "cli/http_client.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "common/libcurl_loader.h"

namespace keyward {
namespace {

std::size_t Append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// The server's error body as a Status, or one made from the HTTP status.
Status ErrorFromReply(long http_status, const std::string& body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto* err = v.as_object().if_contains("error");
    if (err != nullptr && err->is_object()) {
      const auto* code = err->as_object().if_contains("code");
      const auto* message = err->as_object().if_contains("message");
      if (code != nullptr && code->is_string() && message != nullptr && message->is_string()) {
        return Status(StatusCodeFromName(code->as_string()).value_or(StatusCode::kInternal),
                      std::string(message->as_string()));
      }
    }
  }
  switch (http_status) {
    case 400:
      return Status::InvalidArgument("the server refused the request (400)");
    case 401:
      return Status::Unauthenticated("not signed in, or the key is not valid");
    case 403:
      return Status::PermissionDenied("permission denied");
    case 404:
      return Status::NotFound("not found");
    case 409:
      return Status::AlreadyExists("already exists");
    case 429:
      return Status::ResourceExhausted("rate limited; try again later");
    case 502:
    case 503:
    case 504:
      return Status::Unavailable("the server is unavailable (" + std::to_string(http_status) + ")");
    case 507:
      return Status::InsufficientStorage("the server's disk is full; retry later");
    default:
      return Status::Internal("unexpected answer " + std::to_string(http_status));
  }
}

// libcurl's hook into each TLS connection's OpenSSL context, after it has loaded the system's
// CA certificates: adds those of the --ca-file (`path`) to them.
CURLcode AddCaFile(CURL*, void* ssl_ctx, void* path) {
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  if (X509_STORE_load_file(store, static_cast<const std::string*>(path)->c_str()) != 1) {
    return CURLE_SSL_CACERT_BADFILE;
  }
  return CURLE_OK;
}

// A failed transfer as a Status: a certificate the CLI does not trust gets a hint.
Status TransferError(const std::string& server, CURLcode rc, const char* error,
                     const std::string& ca_file) {
  const std::string why = error[0] != '\0' ? error : curl_easy_strerror(rc);
  if (rc == CURLE_PEER_FAILED_VERIFICATION) {
    return Status::Unavailable(
        "cannot reach " + server + ": its TLS certificate is not trusted (" + why + "); " +
        (ca_file.empty() ? "if a private CA signed it, give that CA with --ca-file"
                         : "it must be valid for the host name of the URL and signed by a CA "
                           "of the system or of --ca-file " +
                               ca_file));
  }
  if (rc == CURLE_SSL_CACERT_BADFILE && !ca_file.empty()) {
    return Status::InvalidArgument("--ca-file " + ca_file + " holds no PEM certificate");
  }
  return Status::Unavailable("cannot reach " + server + ": " + why);
}

}  // namespace

HttpClient::HttpClient(std::string server, std::string token, std::string ca_file)
    : server_(std::move(server)), token_(std::move(token)), ca_file_(std::move(ca_file)) {
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
  if (!LoadLibcurl().ok()) return;  // Perform says why
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

std::string HttpClient::Escape(std::string_view text) {
  if (curl_ == nullptr) return {};  // Perform will say why
  char* escaped =
      curl_easy_escape(static_cast<CURL*>(curl_), text.data(), static_cast<int>(text.size()));
  std::string out(escaped != nullptr ? escaped : "");
  curl_free(escaped);
  return out;
}

Result<boost::json::value> HttpClient::Call(std::string_view method, const std::string& path,
                                            const boost::json::value& body) {
  const std::string payload = body.is_null() ? "" : boost::json::serialize(body);
  KW_ASSIGN_OR_RETURN(Reply reply, Perform(method, path, body.is_null() ? "" : "application/json",
                                           payload, /*with_token=*/true));
  if (reply.status < 200 || reply.status >= 300) return ErrorFromReply(reply.status, reply.body);
  return ParseAnswer(reply);
}

Result<boost::json::value> HttpClient::PostForm(const std::string& path, const FormFields& fields) {
  KW_ASSIGN_OR_RETURN(Reply reply, Perform("POST", path, "application/x-www-form-urlencoded",
                                           FormEncode(fields), /*with_token=*/false));
  if (reply.status < 200 || reply.status >= 300) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(reply.body, ec);
    if (!ec) {
      if (std::optional<Status> oauth = OAuthErrorStatus(v)) return *oauth;
    }
    return ErrorFromReply(reply.status, reply.body);
  }
  return ParseAnswer(reply);
}

Result<boost::json::value> HttpClient::ParseAnswer(const Reply& reply) const {
  if (reply.status == 204 || reply.body.empty()) return boost::json::value(nullptr);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(reply.body, ec);
  if (ec) return Status::Internal("the server at " + server_ + " did not answer with JSON");
  return v;
}

Result<HttpClient::Reply> HttpClient::Perform(std::string_view method, const std::string& path,
                                              const std::string& content_type,
                                              const std::string& payload, bool with_token) {
  auto* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    if (Status loaded = LoadLibcurl(); !loaded.ok()) return loaded;
    return Status::Internal("libcurl failed to initialise");
  }
  if (!server_.starts_with("http://") && !server_.starts_with("https://")) {
    return Status::InvalidArgument("server URL \"" + server_ +
                                   "\" must start with http:// or https://");
  }
  if (!ca_file_.empty()) {
    std::FILE* file = std::fopen(ca_file_.c_str(), "r");
    if (file == nullptr) {
      return Status::InvalidArgument("cannot read --ca-file " + ca_file_ + ": " +
                                     std::generic_category().message(errno));
    }
    std::fclose(file);
  }
  curl_easy_reset(curl);
  const std::string url = server_ + path;
  const std::string method_text(method);
  Reply reply;
  char error[CURL_ERROR_SIZE] = {};

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  std::string auth = "Authorization: Bearer " + token_;
  if (with_token && !token_.empty()) headers = curl_slist_append(headers, auth.c_str());
  const std::string type_header = "Content-Type: " + content_type;
  if (!content_type.empty()) headers = curl_slist_append(headers, type_header.c_str());

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method_text.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!content_type.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // Certificates and host names are always checked (libcurl's defaults, made explicit).
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!ca_file_.empty()) {
    // Added to the system's CAs, not in their place (CURLOPT_CAINFO would replace the bundle).
    // The store is this connection's own, not one cached for other connections.
    curl_easy_setopt(curl, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, AddCaFile);
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, &ca_file_);
  }
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) return TransferError(server_, rc, error, ca_file_);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

}  // namespace keyward
