#include "cli/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace keyward {

std::string ConfigPath() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/keyward/config";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.keyward/config";
}

Result<CliConfig> LoadConfig(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return CliConfig{};
    return Status::InvalidArgument("cannot read config file " + path + ": " +
                                   std::generic_category().message(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::InvalidArgument("config file " + path +
                                   " can be read by others; run: chmod 600 " + path);
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text.str(), ec);
  if (ec || !v.is_object()) {
    return Status::InvalidArgument("config file " + path + " is not valid; delete it and log in");
  }
  CliConfig config;
  const auto& obj = v.as_object();
  if (auto* s = obj.if_contains("server"); s != nullptr && s->is_string()) {
    config.server = std::string(s->as_string());
  }
  if (auto* t = obj.if_contains("token"); t != nullptr && t->is_string()) {
    config.token = std::string(t->as_string());
  }
  return config;
}

Status SaveConfig(const std::string& path, const CliConfig& config) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  std::string text = boost::json::serialize(
                         boost::json::value{{"server", config.server}, {"token", config.token}}) +
                     "\n";
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::Internal("cannot write " + tmp + ": " + std::generic_category().message(errno));
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write config file " + path);
  }
  return Status::Ok();
}

}  // namespace keyward
