// What a refusal for a key's rate limit looks like (issue 16): 429 with X-Keyward-Reason:
// rate_limited, Retry-After, the RateLimit headers (IETF draft-ietf-httpapi-ratelimit-headers)
// and the JSON error body with the code resource_exhausted.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "harness.h"

namespace keyward::testing {

// A whole number of seconds in a header, or -1.
inline long long HeaderSeconds(const HttpResult& r, const std::string& name) {
  const std::string v = r.Header(name);
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 12) {
    return -1;
  }
  return std::stoll(v);
}

// What is wrong with `r` as the refusal of a key limited to `requests` per `per` seconds (an
// empty list when nothing is). `status` is 429, or 403 where a gateway asked for it.
inline std::vector<std::string> RateLimitedProblems(const HttpResult& r, std::int64_t requests,
                                                    std::int64_t per, int status = 429) {
  std::vector<std::string> problems;
  auto expect = [&](bool ok, const std::string& what) {
    if (!ok) problems.push_back(what);
  };
  expect(r.status == status, "status " + std::to_string(r.status));
  expect(r.Header("x-keyward-reason") == "rate_limited",
         "X-Keyward-Reason '" + r.Header("x-keyward-reason") + "'");
  const long long retry = HeaderSeconds(r, "retry-after");
  expect(retry >= 1 && retry <= per, "Retry-After '" + r.Header("retry-after") + "'");
  expect(r.Header("ratelimit-limit") == std::to_string(requests),
         "RateLimit-Limit '" + r.Header("ratelimit-limit") + "'");
  expect(r.Header("ratelimit-remaining") == "0",
         "RateLimit-Remaining '" + r.Header("ratelimit-remaining") + "'");
  const long long reset = HeaderSeconds(r, "ratelimit-reset");
  expect(reset >= 0 && reset <= per, "RateLimit-Reset '" + r.Header("ratelimit-reset") + "'");
  expect(!r.headers.contains("x-keyward-user"), "an identity on a refusal");
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(r.body, ec);
  if (ec || !body.is_object() || !body.as_object().contains("error")) {
    problems.push_back("body is not the JSON error: " + r.body);
    return problems;
  }
  const auto& error = body.at("error").as_object();
  expect(error.contains("code") && error.at("code") == "resource_exhausted",
         "error code in " + r.body);
  const std::string prefix = "the key's rate limit (" + std::to_string(requests) + " per ";
  expect(error.contains("message") && error.at("message").is_string() &&
             std::string(error.at("message").as_string()).starts_with(prefix),
         "error message in " + r.body);
  return problems;
}

}  // namespace keyward::testing
