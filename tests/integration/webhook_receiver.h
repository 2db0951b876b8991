// A webhook endpoint for the integration tests: an HTTP server on 127.0.0.1 (a port the OS
// picks) in a thread of its own, that records every request it gets and answers each with what
// its responder says (204 unless told). One request per connection ("Connection: close"), one
// connection at a time: enough for the deliveries of a test, and a slow answer delays the next.
//
// Thread safe: the test reads what was received while the server thread records.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace keyward::testing {

// One request the receiver got.
struct ReceivedHook {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  int answered = 0;  // the status it was answered with
  std::chrono::steady_clock::time_point at;

  std::string Header(const std::string& lower_name) const;
  // "webhook-id" (Standard Webhooks), e.g. "msg_42".
  std::string MessageId() const { return Header("webhook-id"); }
  // The payload {"type", "timestamp", "data"}; null when the body is not JSON.
  boost::json::value Json() const;
  // The payload's "type", and a string member of its "data" ("" when absent).
  std::string Type() const;
  std::string Data(const char* member) const;
  // Any member of its "data"; null when absent.
  boost::json::value DataValue(const char* member) const;
};

// What to answer: a status and extra headers (e.g. Location for a redirect).
struct HookAnswer {
  int status = 204;
  std::vector<std::pair<std::string, std::string>> headers;
};

class WebhookReceiver {
 public:
  // `responder` is called (on the receiver's thread) with the request and how many requests
  // came before it; null answers 204 to everything.
  using Responder = std::function<HookAnswer(const ReceivedHook&, int index)>;
  explicit WebhookReceiver(Responder responder = nullptr);
  ~WebhookReceiver();  // stops the server thread
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>" + `path`.
  std::string Url(const std::string& path = "/hook") const;

  // A copy of every request so far, in arrival order.
  std::vector<ReceivedHook> Received() const;
  std::size_t Count() const;
  // Polls (every 20 ms) until `done(Received())` holds or `timeout` passed; returns whether it
  // held.
  bool WaitFor(const std::function<bool(const std::vector<ReceivedHook>&)>& done,
               std::chrono::milliseconds timeout) const;

 private:
  void Serve();
  void Record(ReceivedHook hook);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  Responder responder_;
  std::uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::vector<ReceivedHook> received_;
  std::thread thread_;
};

}  // namespace keyward::testing
