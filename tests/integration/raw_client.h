// Raw-socket HTTP/1.1 for tests that must send what a well-behaved client cannot: NUL, CR or
// LF inside header values, 1 MiB headers, ambiguous framing, several requests in one write.
//
// A RawConnection sends bytes exactly as given and reads responses one at a time with Beast's
// response parser, so pipelined responses are told apart. Every read waits at most `timeout`,
// so a server that never answers fails the test instead of hanging it. Not thread safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace keyward::testing {

struct RawResponse {
  int status = 0;  // 0: no response came (closed, reset, timed out or unparsable)
  std::string reason;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased; the last of repeated ones
  std::string Header(const std::string& lower_name) const;
};

class RawConnection {
 public:
  // Connects to 127.0.0.1:`port`; connected() says whether that worked.
  explicit RawConnection(std::uint16_t port,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  // Sends all of `bytes`; false when the peer closed or reset the connection first.
  bool Send(std::string_view bytes);
  // Closes the sending side (the server then reads end of stream).
  void ShutdownWrite();
  // Reads the next response (a 100 Continue counts as one). nullopt when the connection ends,
  // is reset or stays silent for the timeout before a whole response arrived. `head`: the
  // response is to a HEAD request and has no body.
  std::optional<RawResponse> Read(bool head = false);
  // True when the server has closed its side cleanly: nothing is left unread and the next read
  // returns end of stream (not a reset, not a timeout, not more bytes).
  bool ReadsEndOfStream();

 private:
  // Appends what arrives within the timeout to buffer_; 0 at end of stream, -1 on error or
  // timeout.
  long Receive();

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;  // received, not yet parsed
};

// Sends `request` on a fresh connection and reads one response (status 0 when none came).
RawResponse RawExchange(std::uint16_t port, std::string_view request, bool head = false);

}  // namespace keyward::testing
