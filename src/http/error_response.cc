#include "http/error_response.h"

#include <boost/json/serialize.hpp>

namespace keyward::http {

boost::json::value ErrorBody(std::string_view code, std::string_view message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

Response MakeErrorResponse(beast_http::status status, StatusCode code, std::string_view message) {
  Response response(status, 11);
  response.set(beast_http::field::content_type, "application/json");
  response.keep_alive(false);
  response.body() = boost::json::serialize(ErrorBody(StatusCodeName(code), message));
  response.prepare_payload();
  return response;
}

}  // namespace keyward::http
