// Paced load on keep-alive connections, for the rate limit and usage tests (issue 16).
//
// The tests must hold under AddressSanitizer on a shared 2-core machine, so the load is paced
// (each request has its time on a schedule, and a connection that falls behind catches up
// without sleeping) rather than a flood, and every answer is kept with the time it arrived.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"

namespace keyward::testing {

using LoadClock = std::chrono::steady_clock;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One HTTP/1.1 keep-alive connection to 127.0.0.1:`port` (from `source`, an address of
// 127.0.0.0/8, when not empty). Reconnects once when the server closed the kept-alive
// connection. Reads wait at most 10 s. Not thread safe.
class KeepAliveClient {
 public:
  explicit KeepAliveClient(std::uint16_t port, std::string source = "");
  ~KeepAliveClient();
  KeepAliveClient(const KeepAliveClient&) = delete;
  KeepAliveClient& operator=(const KeepAliveClient&) = delete;

  // status 0 when no answer came (refused, reset, timed out).
  HttpResult Send(const std::string& method, const std::string& target,
                  const HeaderList& headers = {}, const std::string& body = "");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One request of a paced load.
struct LoadRequest {
  std::string method = "GET";
  std::string target = "/auth";
  HeaderList headers;
  std::string body;
};

struct LoadReply {
  HttpResult result;
  std::size_t port_index = 0;  // which of the ports it went to
  LoadClock::time_point sent, answered;
};

struct LoadResult {
  std::vector<LoadReply> replies;  // in no particular order
  LoadClock::time_point start;     // the first request's scheduled time
  LoadClock::time_point end;       // when the last answer arrived
  double seconds() const { return std::chrono::duration<double>(end - start).count(); }
  int CountStatus(int status) const;
};

// Sends `request` at `rate` requests per second in all, for `seconds`, over `connections`
// keep-alive connections (connection c to ports[c % ports.size()]): request k of connection c
// is due at start + (k × connections + c) / rate. Returns every answer.
LoadResult RunPacedLoad(const std::vector<std::uint16_t>& ports, const LoadRequest& request,
                        int connections, double rate, double seconds);

}  // namespace keyward::testing
