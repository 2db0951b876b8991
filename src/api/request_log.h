// Request ids and the access log (common/log.h, Access).
//
// Every response carries X-Request-Id: the request's own when it is 1-128 characters of
// [A-Za-z0-9._:-] (a gateway's or a client's, so one id follows a request through every hop),
// else one made here: a random 12-hex-digit prefix chosen once per process, '-', and a counter
// in hex ("3f9a1c2e7b4d-1a"), unique within the process and, by the prefix, across restarts and
// nodes. Making one costs an atomic increment: no system call, no allocation.
//
// With the access log on (--access-log on), each answered request writes one access line: its
// id, method, route pattern, status, latency, and the user and key name when known. Off (the
// default), FinishResponse only sets the header. Thread safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "http/server.h"

namespace keyward {

class RequestId {
 public:
  static constexpr std::size_t kMaxSize = 128;

  // Whether `text` may be taken as a request id: 1-128 characters of [A-Za-z0-9._:-].
  static bool Valid(std::string_view text);
  // The request's X-Request-Id when it is Valid, else Make().
  static RequestId Of(const http::Request& request);
  // A new id, as the header comment says.
  static RequestId Make();

  std::string_view view() const { return {data_, size_}; }

 private:
  char data_[kMaxSize];
  std::uint8_t size_ = 0;
};

// What the access line needs of a request besides its answer, taken when it arrives.
struct RequestTrace {
  std::chrono::steady_clock::time_point started;
  http::beast_http::verb method;
  RequestId id;

  static RequestTrace Of(const http::Request& request) {
    return {std::chrono::steady_clock::now(), request.method(), RequestId::Of(request)};
  }
};

// Sets X-Request-Id on `response` and, when the access log is on, writes the access line:
// `route` is the route's pattern (never the raw target, which may hold a key in its query);
// `user` and `key_name` are left out when empty.
void FinishResponse(http::Response& response, const RequestTrace& trace, std::string_view route,
                    std::string_view user = {}, std::string_view key_name = {});

}  // namespace keyward
