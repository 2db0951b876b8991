// The API's OpenAPI 3 document: src/api/openapi.json, embedded at build time
// (embed_openapi.cmake) and served at GET /api/v1/openapi.json. What the tests and the docs
// generator do with it (validation, rendering) is in tools/openapi.h, outside the server.
//
// Thread safe. Document() parses once, on first use.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

namespace keyward::openapi {

// The text of src/api/openapi.json as built into this binary.
std::string_view DocumentText();
// DocumentText() parsed; null if it is not valid JSON (a unit test makes sure it is).
const boost::json::value& Document();

}  // namespace keyward::openapi
