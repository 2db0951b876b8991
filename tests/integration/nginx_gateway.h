// Debian's real nginx in front of a real Keyward, configured with the ```nginx blocks of
// docs/gateways.md (read from the page itself, so the examples there are what is tested).
//
// NginxGateway starts a Keyward with the flags a test gives, then one nginx whose http context
// holds every documented block with its ports replaced by free ones: the plain gateway (`listen
// 80`), the gateway that requires the scope minerva:query (`listen 81`), the gateway that turns
// a rate-limited key's 403 back into 429 (`listen 82`, issue 16), and the stand-in service
// (127.0.0.1:9000) that echoes the X-Keyward-* headers it received. An access log of
// the stand-in's port proves which requests reached it. Everything listens on loopback only.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"

namespace keyward::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A TCP port of 127.0.0.1 that was free a moment ago.
std::uint16_t FreePort();

// Whether something accepts connections on 127.0.0.1:port.
bool PortAnswers(std::uint16_t port);

// SIGTERM to `pid`, SIGKILL after 5 s; waits for it and sets `pid` to -1. Nothing when <= 0.
void StopGently(pid_t& pid);

// Replaces every `from` in `text` with `to`; returns how many there were.
int ReplaceAll(std::string& text, const std::string& from, const std::string& to);

// docs/gateways.md, and its ```<language> blocks in page order.
std::string GatewaysPage();
std::vector<std::string> DocumentedBlocks(const std::string& language);

// One nginx, in the foreground and in a single process, with everything it writes in a
// temporary folder.
class Nginx {
 public:
  // Starts nginx with `http_config` in the http context and waits until `ports` answer on
  // 127.0.0.1. Fails the test (and returns one that is not running) when it cannot.
  static std::unique_ptr<Nginx> Start(const std::string& http_config,
                                      const std::vector<std::uint16_t>& ports);
  ~Nginx();

  bool running() const { return pid_ > 0; }
  std::string Logs() const;
  std::vector<std::string> LogFiles() const;
  // How many requests came in on `port`, from the access log.
  int Hits(std::uint16_t port) const;
  // SIGTERM (nginx's fast shutdown), then SIGKILL after 5 s.
  void Stop();

 private:
  Nginx() = default;
  pid_t pid_ = -1;
  std::string dir_;
};

class NginxGateway : public ::testing::Test {
 protected:
  // Starts Keyward with `keyward_args` and nginx with the documented blocks. With `ipv6`, the
  // two gateways also listen on [::1].
  void StartGateway(const std::vector<std::string>& keyward_args, bool ipv6 = false);
  // Stops both and checks that no key or session reached a log of either.
  void TearDown() override;

  // A request to the plain gateway (`port` 0) or another port of nginx, as a client at
  // `source` (an address of 127.0.0.0/8, or ::1) sends it.
  HttpResult Get(const Headers& headers = {}, std::uint16_t port = 0,
                 const std::string& source = "");
  // The same to the gateway that requires minerva:query.
  HttpResult GetScoped(const Headers& headers = {}, const std::string& source = "") {
    return Get(headers, scoped_port_, source);
  }

  // The same to the gateway of "Rate limits behind nginx".
  HttpResult GetLimited(const Headers& headers = {}, const std::string& source = "") {
    return Get(headers, limited_port_, source);
  }

  int UpstreamHits() const { return nginx_->Hits(upstream_port_); }

  // Creates a key for `user` (as admin) with the defaults and returns it.
  std::string CreateKey(const std::string& user, const std::string& name,
                        const std::string& duration = "24h");
  // Creates a key of admin's through the API with these scopes and address limits.
  std::string CreateGrantedKey(const std::string& name, const std::vector<std::string>& scopes,
                               const std::vector<std::string>& allowed_addresses = {});

  // What the stand-in service answers for a request that reached it.
  static std::string Echo(const std::string& user, const std::string& tags,
                          const std::string& key_name, const std::string& scopes = "");

  // A refusal by nginx for want of a valid key (401) that the stand-in service never saw.
  static void ExpectRefused(const HttpResult& r, const std::string& what);
  // A refusal (403) for want of `reason` (scope, tag or address) that the service never saw.
  static void ExpectForbidden(const HttpResult& r, const std::string& reason,
                              const std::string& what);

  std::unique_ptr<ServerProcess> keyward_;
  std::unique_ptr<Nginx> nginx_;
  std::string admin_;
  std::uint16_t listen_port_ = 0;
  std::uint16_t scoped_port_ = 0;
  std::uint16_t limited_port_ = 0;
  std::uint16_t upstream_port_ = 0;
  std::string last_expiration_;
};

}  // namespace keyward::testing
