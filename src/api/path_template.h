// Route patterns like "/api/v1/users/{id}/apikeys/{name}", shared by the router and the OpenAPI
// document's path matching, so that both read a pattern the same way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace keyward {

// "/a/{b}/c" → {"a", "{b}", "c"}; "/" → {""}.
std::vector<std::string> SplitPathTemplate(std::string_view pattern);

// "{name}": a segment that matches any one non-empty path segment.
bool IsPathParameter(std::string_view segment);

}  // namespace keyward
