#include "common/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

namespace keyward {

Status NotifyServiceManager(std::string_view state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || *env == '\0') return Status::Ok();
  const std::string_view path(env);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // A path needs room for its terminating NUL; an abstract name ('@' becomes a NUL byte) does
  // not have one, and its length is the address's.
  if (path.size() >= sizeof(address.sun_path) || (path[0] != '/' && path[0] != '@'))
    return Status::Internal("NOTIFY_SOCKET is not an absolute path or an abstract name");
  std::memcpy(address.sun_path, path.data(), path.size());
  if (path[0] == '@') address.sun_path[0] = '\0';
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                             (path[0] == '@' ? 0 : 1));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Status::Internal("cannot notify systemd: " + std::system_category().message(errno));
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), length);
  const int error = errno;
  ::close(fd);
  if (sent != static_cast<ssize_t>(state.size()))
    return Status::Internal("cannot notify systemd at " + std::string(path) + ": " +
                            std::system_category().message(error));
  return Status::Ok();
}

}  // namespace keyward
