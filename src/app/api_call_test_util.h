// Test helper for the ApiHandler tests (api_test_world.h): one request through ApiWorld, with
// its status and parsed JSON body. Header-only; tests only.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "app/api_test_world.h"

namespace keyward::api_call {

// What a request got back: the status and the body parsed as JSON (null when empty).
struct Sent {
  int status = 0;
  boost::json::value body;
  // The error's code; "" when the body is not an error.
  std::string Code() const { return ErrorMember("code"); }
  // The error's message; "" when the body is not an error.
  std::string Message() const { return ErrorMember("message"); }
  // The string member `name` of the body; throws when there is none.
  std::string Str(std::string_view name) const { return std::string(body.at(name).as_string()); }

 private:
  std::string ErrorMember(std::string_view name) const {
    if (!body.is_object()) return "";
    const boost::json::value* error = body.as_object().if_contains("error");
    if (error == nullptr || !error->is_object()) return "";
    const boost::json::value* member = error->as_object().if_contains(name);
    return member != nullptr && member->is_string() ? std::string(member->as_string()) : "";
  }
};

// Sends `method target` with `body` as bearer `token` through `world`; a missing response is a
// test failure (and an empty Sent).
inline Sent Call(ApiWorld& world, http::beast_http::verb method, const std::string& target,
                 const std::string& token, std::string body = "") {
  auto answer = world.Send(MakeRequest(method, target, std::move(body), token));
  EXPECT_TRUE(answer.has_value()) << target << ": no response";
  if (!answer) return {};
  const std::string& text = answer->response.body();
  return Sent{answer->status(), text.empty() ? boost::json::value() : boost::json::parse(text)};
}

}  // namespace keyward::api_call
