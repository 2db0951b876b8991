#include "common/sd_notify.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>

#include "common/status_matchers.h"

namespace keyward {
namespace {

// A datagram socket standing in for systemd's: bound to `name` (a path, or '@' and an abstract
// name), as $NOTIFY_SOCKET names it.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& name) : name_(name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    const bool abstract = name[0] == '@';
    if (abstract) address.sun_path[0] = '\0';
    const auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
    bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) == 0;
    const timeval timeout{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() {
    ::close(fd_);
    if (name_[0] == '/') ::unlink(name_.c_str());
  }
  bool bound() const { return bound_; }
  // The next datagram, or nullopt after 5 s.
  std::optional<std::string> Receive() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

// A name no other run uses at the same time.
std::string Unique() { return std::to_string(::getpid()) + "-" + std::to_string(::random()); }

class SdNotifyTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("NOTIFY_SOCKET"); }
};

TEST_F(SdNotifyTest, SendsEachStateAsOneDatagramToAPath) {
  const std::string path = "/tmp/kw-notify-" + Unique();
  NotifySocket socket(path);
  ASSERT_TRUE(socket.bound());
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  EXPECT_THAT(NotifyServiceManager("READY=1"), IsOk());
  EXPECT_THAT(NotifyServiceManager("STOPPING=1"), IsOk());
  EXPECT_EQ(socket.Receive(), "READY=1");
  EXPECT_EQ(socket.Receive(), "STOPPING=1");
}

TEST_F(SdNotifyTest, AnAtNamesAnAbstractSocket) {
  const std::string name = "@kw-notify-" + Unique();
  NotifySocket socket(name);
  ASSERT_TRUE(socket.bound());
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  EXPECT_THAT(NotifyServiceManager("READY=1"), IsOk());
  EXPECT_EQ(socket.Receive(), "READY=1");
}

TEST_F(SdNotifyTest, SendsNothingWithoutTheVariable) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_THAT(NotifyServiceManager("READY=1"), IsOk());
  ::setenv("NOTIFY_SOCKET", "", 1);
  EXPECT_THAT(NotifyServiceManager("READY=1"), IsOk());
}

TEST_F(SdNotifyTest, AnUnusableSocketIsAnError) {
  ::setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_FALSE(NotifyServiceManager("READY=1").ok());
  ::setenv("NOTIFY_SOCKET", ("/tmp/kw-no-such-socket-" + Unique()).c_str(), 1);
  EXPECT_FALSE(NotifyServiceManager("READY=1").ok());
  ::setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);
  EXPECT_FALSE(NotifyServiceManager("READY=1").ok());
}

}  // namespace
}  // namespace keyward
