// A real HTTP/1.1 endpoint on 127.0.0.1 for the webhook tests: it records each request and
// answers as scripted (a status, a redirect, or no answer at all). One connection at a time,
// on its own thread. Test-only.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace keyward {

class TestReceiver {
 public:
  struct Reply {
    int status = 200;
    std::string location = {};  // sent as Location when set
    bool silent = false;        // read the request, never answer
  };
  struct Request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
  };

  TestReceiver() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    auto* raw = reinterpret_cast<sockaddr*>(&address);
    if (::bind(listener_, raw, length) != 0 || ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, raw, &length) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TestReceiver() {
    stopping_ = true;
    thread_.join();
    for (int fd : held_) ::close(fd);
    ::close(listener_);
  }
  TestReceiver(const TestReceiver&) = delete;
  TestReceiver& operator=(const TestReceiver&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& host = "127.0.0.1") const {
    return "http://" + host + ":" + std::to_string(port_) + "/hooks/keyward?tenant=t1";
  }
  // The answers to the next requests, in order; 200 once they are used up.
  void Script(std::vector<Reply> replies) {
    std::lock_guard lock(mu_);
    script_.assign(replies.begin(), replies.end());
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int connections() const { return connections_.load(); }
  // True once `n` requests have arrived, false after `timeout`.
  bool WaitForRequests(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  void Loop() {
    while (!stopping_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      Serve(fd);
    }
  }

  // Reads one request from `fd` (headers, then Content-Length bytes), records it and answers.
  void Serve(int fd) {
    std::string data;
    std::size_t header_end = std::string::npos;
    std::size_t need = std::string::npos;
    while (need == std::string::npos || data.size() < need) {
      pollfd p{fd, POLLIN, 0};
      char buffer[4096];
      if (::poll(&p, 1, 2000) <= 0) break;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      data.append(buffer, static_cast<std::size_t>(n));
      if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != data.npos) {
        need = header_end + 4 + ContentLength(data.substr(0, header_end));
      }
    }
    if (header_end == std::string::npos) {
      ::close(fd);
      return;
    }
    Request request = Parse(data.substr(0, header_end));
    request.body = data.substr(header_end + 4);
    Reply reply;
    {
      std::lock_guard lock(mu_);
      if (!script_.empty()) {
        reply = script_.front();
        script_.pop_front();
      }
      requests_.push_back(std::move(request));
    }
    arrived_.notify_all();
    if (reply.silent) {
      held_.push_back(fd);  // closed by the destructor: the client times out first
      return;
    }
    std::string answer = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\n";
    if (!reply.location.empty()) answer += "Location: " + reply.location + "\r\n";
    answer += "Content-Length: 2\r\nConnection: close\r\n\r\nok";
    (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
    ::close(fd);
  }

  static std::size_t ContentLength(const std::string& head) {
    Request r = Parse(head);
    auto it = r.headers.find("content-length");
    return it == r.headers.end() ? 0 : std::stoul(it->second);
  }

  static Request Parse(const std::string& head) {
    Request r;
    std::size_t start = 0;
    bool first = true;
    while (start <= head.size()) {
      std::size_t end = head.find("\r\n", start);
      if (end == std::string::npos) end = head.size();
      const std::string line = head.substr(start, end - start);
      start = end + 2;
      if (first) {
        first = false;
        const std::size_t space = line.find(' ');
        r.method = line.substr(0, space);
        r.target = line.substr(space + 1, line.rfind(' ') - space - 1);
        continue;
      }
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::size_t value = line.find_first_not_of(' ', colon + 1);
      r.headers[name] = value == std::string::npos ? "" : line.substr(value);
    }
    return r;
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::vector<int> held_;  // only the receiver's thread touches it until the join
  mutable std::mutex mu_;
  std::condition_variable arrived_;
  std::deque<Reply> script_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace keyward
