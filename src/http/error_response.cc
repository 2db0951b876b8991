#include "http/error_response.h"

#include <fmt/format.h>

#include <string>

namespace keyward::http {
namespace {

// Enough JSON escaping for the transport's fixed messages (and anything else given here).
std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

Response MakeErrorResponse(beast_http::status status, StatusCode code, std::string_view message) {
  Response response(status, 11);
  response.set(beast_http::field::content_type, "application/json");
  response.keep_alive(false);
  response.body() = fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})",
                                StatusCodeName(code), JsonEscape(message));
  response.prepare_payload();
  return response;
}

}  // namespace keyward::http
