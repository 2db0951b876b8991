// The reference part of docs/api.md, rendered from the OpenAPI document: one section per
// operation (method, path, auth, parameters, body fields, responses with status and meaning),
// grouped by the document's tags, then the schemas. Operations of one path that differ in
// nothing but their method share a section. `make api-docs` writes it between the markers;
// a unit test fails when docs/api.md holds anything else there.
//
// Pure functions; thread safe.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace keyward::openapi {

inline constexpr std::string_view kBeginGenerated =
    "<!-- BEGIN GENERATED from src/api/openapi.json by `make api-docs`: do not edit by hand -->";
inline constexpr std::string_view kEndGenerated = "<!-- END GENERATED -->";

// The Markdown reference of `doc`.
std::string RenderMarkdown(const boost::json::value& doc);

// `markdown` with everything between the kBeginGenerated line and the kEndGenerated line
// replaced by `generated`; nullopt when either marker is missing or they are out of order.
std::optional<std::string> ReplaceGenerated(std::string_view markdown, std::string_view generated);

}  // namespace keyward::openapi
