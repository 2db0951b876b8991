// Slow and idle clients against the transport's limits, on the real binary.
//
// 500 connections send a request's headers a byte every 150 ms and 500 kept-alive connections
// go silent after one answered request, while another client goes on making valid requests:
// every valid request succeeds, the server closes the slow ones at the header timeout and the
// idle ones at the idle timeout, and its memory stays bounded. Then the connection limit: the
// connections over it are closed at once, and once the flood is gone requests work again.
//
// The sockets of the flood are non-blocking and driven by poll() from the test's main thread.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "harness.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kHeaderTimeout{2000};
constexpr milliseconds kIdleTimeout{4000};  // apart from the header timeout by more than kSlack
// A close is due within the timeout plus this: the 250 ms sweep, the coarse clock, and a busy
// two-core machine.
constexpr milliseconds kSlack{1500};
constexpr milliseconds kByteInterval{150};
constexpr int kSlow = 500;
constexpr int kIdle = 500;
constexpr std::size_t kFloodLimit = 1100;  // above the flood plus the valid client
constexpr std::size_t kLimit = 1000;       // the limit test's
constexpr int kOverLimit = 100;
// 1000 connections cost the server a few MiB (a session, its parser and a 4 KiB read buffer
// each). 64 MiB, 64 KiB a connection, still fails a server that keeps a full 64 KiB read buffer,
// or anything else that grows with the bytes a connection has sent, per connection.
constexpr long kMaxRssGrowthKiB = 64 * 1024;

// Long enough that at a byte every kByteInterval it never completes within the header timeout.
const std::string kSlowRequest =
    "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: keyward-slow-clients-test\r\n"
    "Accept: */*\r\n\r\n";
const std::string kIdleRequest = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The line of /proc/<pid>/<file> that starts with `prefix`, without the prefix.
std::string ProcLine(pid_t pid, const std::string& file, const std::string& prefix) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  return "";
}

long RssKiB(pid_t pid) { return std::atol(ProcLine(pid, "status", "VmRSS:").c_str()); }

long OpenFilesSoftLimit(pid_t pid) {
  std::istringstream fields(ProcLine(pid, "limits", "Max open files"));
  std::string soft;
  fields >> soft;
  return soft == "unlimited" ? -1 : std::atol(soft.c_str());
}

// The keyward process this test started (the harness does not say its pid): the one child of
// this process named keyward.
pid_t ServerPid() {
  pid_t found = -1;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos || stat.find("(keyward)") == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    pid_t parent = 0;
    rest >> state >> parent;
    if (parent == ::getpid()) found = static_cast<pid_t>(std::stol(name));
  }
  return found;
}

// Sets this process's soft limit on open files to `soft`, or to the hard limit when 0.
void SetFileLimit(rlim_t soft) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = soft == 0 ? limit.rlim_max : std::min(soft, limit.rlim_max);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  if (soft == 0) {
    ASSERT_GE(limit.rlim_cur, kFloodLimit + kOverLimit + 100) << "the hard open file limit is low";
  }
}

// A connected, non-blocking TCP socket, or -1.
int Connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Sends `request` on the non-blocking `fd` and reads the whole response (headers and a
// Content-Length body); false on any failure or after 5 s.
bool Exchange(int fd, const std::string& request, std::string& response) {
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return false;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  response.clear();
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    response.append(buf, static_cast<std::size_t>(n));
    const std::size_t end = response.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    const std::size_t length = response.find("Content-Length: ");
    const std::size_t body =
        length == std::string::npos ? 0 : std::stoul(response.substr(length + 16));
    if (response.size() >= end + 4 + body) return true;
  }
  return false;
}

// One connection of the flood.
struct Conn {
  int fd = -1;
  Clock::time_point since;   // the timeout that applies runs from here
  Clock::time_point closed;  // when the test saw the server close it
  bool open = true;
  bool answered = false;  // got bytes it should not have
  bool slow = false;      // sends kSlowRequest a byte at a time
  std::size_t sent = 0;
  Clock::time_point next_send;
};

// Reads whatever `conn` has; marks it closed on end of stream or a reset.
void Drain(Conn& conn, Clock::time_point now) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(conn.fd, buf, sizeof buf, 0);
    if (n > 0) {
      conn.answered = true;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    conn.open = false;  // 0: end of stream; ECONNRESET or another error: gone too
    conn.closed = now;
    ::close(conn.fd);
    conn.fd = -1;
    return;
  }
}

// Polls `conns` for `duration` (or until all are closed), sending the slow ones their next byte
// when due, and returns the peak RSS of `pid` seen meanwhile.
long Drive(const std::vector<Conn*>& conns, Clock::duration duration, pid_t pid) {
  long peak = RssKiB(pid);
  const auto end = Clock::now() + duration;
  auto next_sample = Clock::now();
  std::vector<pollfd> fds;
  std::vector<Conn*> polled;
  while (Clock::now() < end) {
    const auto now = Clock::now();
    fds.clear();
    polled.clear();
    for (Conn* conn : conns) {
      if (!conn->open) continue;
      if (conn->slow && conn->sent < kSlowRequest.size() && conn->next_send <= now) {
        if (::send(conn->fd, &kSlowRequest[conn->sent], 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
          ++conn->sent;
        }
        conn->next_send += kByteInterval;
      }
      fds.push_back({conn->fd, POLLIN, 0});
      polled.push_back(conn);
    }
    if (polled.empty()) break;
    if (now >= next_sample) {
      peak = std::max(peak, RssKiB(pid));
      next_sample = now + milliseconds(100);
    }
    if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
    const auto seen = Clock::now();
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents != 0) Drain(*polled[i], seen);
    }
  }
  return std::max(peak, RssKiB(pid));
}

struct Stats {
  int closed = 0;
  double min = 1e9, max = 0, sum = 0;
};

// Checks that every one of `conns` was closed, unanswered, between `timeout` (less a little
// for the coarse clock) and `timeout` + kSlack after its `since`. One failure per kind of
// problem, with the count and an example.
Stats CheckClosed(const std::vector<Conn>& conns, milliseconds timeout, const char* what) {
  Stats stats;
  int answered = 0, open = 0, early = 0, late = 0;
  std::string first_early, first_late;
  for (const Conn& conn : conns) {
    answered += conn.answered;
    if (conn.open) {
      ++open;
      continue;
    }
    const double after = Seconds(conn.closed - conn.since);
    ++stats.closed;
    stats.min = std::min(stats.min, after);
    stats.max = std::max(stats.max, after);
    stats.sum += after;
    if (after < Seconds(timeout) - 0.1 && early++ == 0) first_early = std::to_string(after);
    if (after > Seconds(timeout + kSlack) && late++ == 0) first_late = std::to_string(after);
  }
  EXPECT_EQ(answered, 0) << what << " connections got an answer";
  EXPECT_EQ(open, 0) << what << " connections are still open";
  EXPECT_EQ(early, 0) << what << " connections closed before the timeout, one after " << first_early
                      << " s";
  EXPECT_EQ(late, 0) << what << " connections closed after the timeout and slack, one after "
                     << first_late << " s";
  return stats;
}

void CloseAll(std::vector<Conn>& conns) {
  for (Conn& conn : conns) {
    if (conn.fd >= 0) ::close(conn.fd);
    conn.fd = -1;
  }
}

// Valid requests on fresh connections, one after another every 10 ms, from its own thread:
// /auth with a key, and /api/v1/authorize asking about that key.
class ValidClient {
 public:
  ValidClient(std::uint16_t port, std::string key) : port_(port), key_(std::move(key)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~ValidClient() { Finish(); }
  void Finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int made() const { return made_; }
  int succeeded() const { return succeeded_; }
  double slowest() const { return slowest_; }
  const std::string& first_failure() const { return first_failure_; }

 private:
  void Loop() {
    const std::vector<std::pair<std::string, std::string>> auth = {
        {"Authorization", "Bearer " + key_}};
    const std::string body = json::serialize(json::value{{"token", key_}});
    for (int i = 0; !stop_; ++i) {
      const auto start = Clock::now();
      std::string failure;
      try {
        HttpResult r = i % 2 == 0 ? Call(port_, "GET", "/auth", "", auth)
                                  : Call(port_, "POST", "/api/v1/authorize", body, auth);
        const bool ok =
            r.status == 200 && (i % 2 == 0 || r.body.find("\"valid\":true") != std::string::npos);
        if (!ok) failure = "status " + std::to_string(r.status) + " " + r.body;
      } catch (const std::exception& e) {
        failure = e.what();
      }
      ++made_;
      slowest_ = std::max(slowest_, Seconds(Clock::now() - start));
      if (failure.empty()) {
        ++succeeded_;
      } else if (first_failure_.empty()) {
        first_failure_ = failure;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
  }

  std::uint16_t port_;
  std::string key_;
  std::atomic<bool> stop_{false};
  int made_ = 0;
  int succeeded_ = 0;
  double slowest_ = 0;
  std::string first_failure_;
  std::thread thread_;
};

class SlowClientsTest : public ::testing::Test {
 protected:
  void StartServer(std::size_t max_connections) {
    // The server starts with the usual soft limit of 1024 open files, and must raise it itself;
    // the flood needs more descriptors on this side too.
    ASSERT_NO_FATAL_FAILURE(SetFileLimit(1024));
    server_ = ServerProcess::Start({"--header-timeout", "2s", "--idle-timeout", "4s",
                                    "--max-connections", std::to_string(max_connections)});
    ASSERT_NO_FATAL_FAILURE(SetFileLimit(0));
    ASSERT_GT(server_->port(), 0);
    pid_ = ServerPid();
    ASSERT_GT(pid_, 0);
    const long server_limit = OpenFilesSoftLimit(pid_);
    ASSERT_TRUE(server_limit < 0 || server_limit >= static_cast<long>(max_connections + kOverLimit))
        << "the server's open file limit is " << server_limit;
    const std::string admin = server_->Login("admin", kAdminPassword);
    key_ = server_->NewScopedKey(admin, "me", "valid-client", {"authorize"});
    ASSERT_FALSE(key_.empty());
    // Warm up: the key in the cache, the allocator's arenas in use.
    for (int i = 0; i < 200; ++i) {
      ASSERT_EQ(
          Call(server_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + key_}}).status,
          200);
    }
    rss_before_ = RssKiB(pid_);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }

  // Whether a valid request on a new connection is answered.
  bool ValidRequestWorks() {
    try {
      return Call(server_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + key_}})
                 .status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }

  void CheckMemory(long peak, long after) {
    std::cout << "server RSS: before " << rss_before_ / 1024 << " MiB, peak " << peak / 1024
              << " MiB (+" << (peak - rss_before_) << " KiB), after " << after / 1024 << " MiB"
              << std::endl;
    EXPECT_LT(peak - rss_before_, kMaxRssGrowthKiB);
    EXPECT_LT(after - rss_before_, kMaxRssGrowthKiB);
  }

  std::unique_ptr<ServerProcess> server_;
  pid_t pid_ = -1;
  std::string key_;
  long rss_before_ = 0;
};

TEST_F(SlowClientsTest, SlowAndIdleConnectionsAreClosedWhileValidRequestsSucceed) {
  ASSERT_NO_FATAL_FAILURE(StartServer(kFloodLimit));
  const auto start = Clock::now();
  ValidClient valid(server_->port(), key_);

  std::vector<Conn> idle(kIdle);
  for (Conn& conn : idle) {
    conn.fd = Connect(server_->port());
    ASSERT_GE(conn.fd, 0) << std::generic_category().message(errno);
    std::string response;
    ASSERT_TRUE(Exchange(conn.fd, kIdleRequest, response)) << response;
    ASSERT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
    conn.since = Clock::now();  // the idle timeout runs from the answer
  }
  std::vector<Conn> slow(kSlow);
  for (Conn& conn : slow) {
    conn.fd = Connect(server_->port());
    ASSERT_GE(conn.fd, 0) << std::generic_category().message(errno);
    conn.slow = true;
    ASSERT_EQ(::send(conn.fd, kSlowRequest.data(), 1, MSG_NOSIGNAL), 1);
    conn.sent = 1;
    conn.since = Clock::now();  // the header timeout runs from the first byte
    conn.next_send = conn.since + kByteInterval;
  }
  const double opened = Seconds(Clock::now() - start);

  std::vector<Conn*> all;
  all.reserve(slow.size() + idle.size());
  for (Conn& conn : slow) all.push_back(&conn);
  for (Conn& conn : idle) all.push_back(&conn);
  const long peak = Drive(all, kIdleTimeout + kSlack + std::chrono::seconds(5), pid_);
  const double flood_over = Seconds(Clock::now() - start);
  // Valid requests once the flood is gone, too.
  std::this_thread::sleep_for(milliseconds(500));
  valid.Finish();
  const long after = RssKiB(pid_);
  CloseAll(slow);
  CloseAll(idle);

  const Stats slow_stats = CheckClosed(slow, kHeaderTimeout, "slow");
  const Stats idle_stats = CheckClosed(idle, kIdleTimeout, "idle");
  std::cout << "opened " << kIdle << " idle and " << kSlow << " slow connections in " << opened
            << " s; all closed by " << flood_over << " s\n"
            << "slow: " << slow_stats.closed << " closed by the header timeout (2 s) after "
            << slow_stats.min << " to " << slow_stats.max << " s, mean "
            << slow_stats.sum / std::max(slow_stats.closed, 1) << " s\n"
            << "idle: " << idle_stats.closed << " closed by the idle timeout (4 s) after "
            << idle_stats.min << " to " << idle_stats.max << " s, mean "
            << idle_stats.sum / std::max(idle_stats.closed, 1) << " s\n"
            << "valid requests: " << valid.made() << " made, " << valid.succeeded()
            << " succeeded, slowest " << valid.slowest() * 1000 << " ms" << std::endl;
  EXPECT_EQ(valid.succeeded(), valid.made()) << "first failure: " << valid.first_failure();
  EXPECT_GT(valid.made(), 100);
  CheckMemory(peak, after);
}

TEST_F(SlowClientsTest, ConnectionsOverTheLimitAreClosedAtOnce) {
  ASSERT_NO_FATAL_FAILURE(StartServer(kLimit));
  for (int cycle = 1; cycle <= 2; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    // kLimit + kOverLimit silent connections: the first kLimit are held (until the header
    // timeout), the others closed at once.
    std::vector<Conn> conns(kLimit + kOverLimit);
    const auto start = Clock::now();
    for (Conn& conn : conns) {
      conn.fd = Connect(server_->port());
      ASSERT_GE(conn.fd, 0) << std::generic_category().message(errno);
      conn.since = Clock::now();
    }
    std::vector<Conn*> all;
    all.reserve(conns.size());
    for (Conn& conn : conns) all.push_back(&conn);
    long peak = Drive(all, milliseconds(500), pid_);
    int refused = 0;
    double slowest_refusal = 0;
    for (const Conn& conn : conns) {
      if (conn.open) continue;
      ++refused;
      slowest_refusal = std::max(slowest_refusal, Seconds(conn.closed - conn.since));
    }
    ASSERT_LT(Seconds(Clock::now() - start), Seconds(kHeaderTimeout))
        << "too slow to open the connections: the held ones may have timed out";
    EXPECT_EQ(refused, kOverLimit);
    EXPECT_LT(slowest_refusal, 0.5);
    // At the limit, a valid client is refused like any other.
    EXPECT_FALSE(ValidRequestWorks()) << "a connection over the limit was served";

    // The held ones go at the header timeout; their slots come back.
    peak = std::max(peak, Drive(all, kHeaderTimeout + kSlack, pid_));
    const auto held_end = std::remove_if(conns.begin(), conns.end(), [](const Conn& conn) {
      return !conn.open && conn.closed - conn.since < milliseconds(500);  // refused
    });
    conns.erase(held_end, conns.end());
    ASSERT_EQ(conns.size(), kLimit);
    const Stats held = CheckClosed(conns, kHeaderTimeout, "held");
    EXPECT_TRUE(ValidRequestWorks()) << "the slots of closed connections were not given back";
    std::cout << "cycle " << cycle << ": " << kLimit + kOverLimit << " connections to a limit of "
              << kLimit << ": " << refused << " closed at once (within " << slowest_refusal * 1000
              << " ms), " << held.closed << " held and closed by the header timeout after "
              << held.min << " to " << held.max << " s; valid request afterwards ok" << std::endl;
    CloseAll(conns);
    CheckMemory(peak, RssKiB(pid_));
  }
}

}  // namespace
}  // namespace keyward::testing
