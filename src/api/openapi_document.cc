#include "api/openapi_document.h"

#include <boost/json/parse.hpp>

namespace keyward::openapi {

const boost::json::value& Document() {
  static const boost::json::value parsed = [] {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(DocumentText(), ec);
    return ec ? boost::json::value() : v;
  }();
  return parsed;
}

}  // namespace keyward::openapi
