// What the tests and the docs generator do with the API's OpenAPI document
// (api/openapi_document.h): resolve local $refs, find the documented operation of a request,
// and validate a JSON value against a schema, for the subset of JSON Schema the document uses.
// Not linked into the server (kw_openapi_tools: tests and keyward_api_docs only).
//
// Pure functions over a parsed document; thread safe.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/openapi_document.h"

namespace keyward::openapi {

// The value a local reference ("#/components/schemas/User") names, or nullptr. JSON Pointer
// escapes (~0, ~1) are decoded.
const boost::json::value* ResolveRef(const boost::json::value& doc, std::string_view ref);
// `value` itself, or what its "$ref" names, followed through chains; nullptr when a reference
// dangles (or a chain is longer than 32).
const boost::json::value* Follow(const boost::json::value& doc, const boost::json::value& value);
// Every "$ref" anywhere in `doc` that does not resolve, as written.
std::vector<std::string> DanglingRefs(const boost::json::value& doc);

// Schema keywords anywhere in the document that Validate does not check, as "<where>: <word>",
// so that a constraint cannot be documented and then go unchecked.
std::vector<std::string> UnsupportedKeywords(const boost::json::value& doc);

// The ways `instance` breaks `schema` (empty when it conforms), each "<json path>: <what>".
// Checks type, nullable, enum, properties, required, additionalProperties (a boolean or a
// schema), items, $ref, format "date-time" (RFC 3339), minimum, maximum, minLength and
// maxLength; description, default and example are annotations.
std::vector<std::string> Validate(const boost::json::value& doc, const boost::json::value& schema,
                                  const boost::json::value& instance);

struct Operation {
  std::string path;                             // the template: "/api/v1/users/{id}"
  std::string method;                           // lower case: "get"
  const boost::json::object* object = nullptr;  // null: the path is documented, the method not
  std::vector<std::string> methods;             // the documented methods of that path
};

// The documented operation for `method` (any case) on a request path, given as its decoded
// segments ({"api", "v1", "users", "me"}), matched the way the server's router does: a segment
// matches a "{placeholder}" (any non-empty text) or the same literal; among the templates that
// match, the first with the method wins, literal-richer templates first; HEAD finds GET when the
// path has no HEAD of its own. nullopt when no template matches.
std::optional<Operation> FindOperation(const boost::json::value& doc, std::string_view method,
                                       const std::vector<std::string>& segments);

// The lower-case HTTP methods an OpenAPI path item may hold, in the specification's order.
const std::vector<std::string>& Methods();

}  // namespace keyward::openapi
