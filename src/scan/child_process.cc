#include "scan/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace keyward::scan {
namespace {

constexpr std::size_t kReadSize = 1 << 20;

std::string SystemError(int err) { return std::generic_category().message(err); }

// An unlinked temporary file holding `input`, positioned at its start; -1 on failure.
int InputFile(std::string_view input) {
  std::FILE* f = std::tmpfile();
  if (f == nullptr) return -1;
  const int fd = ::dup(::fileno(f));
  const bool ok = fd >= 0 && std::fwrite(input.data(), 1, input.size(), f) == input.size() &&
                  std::fflush(f) == 0 && ::lseek(fd, 0, SEEK_SET) == 0;
  std::fclose(f);
  if (!ok && fd >= 0) ::close(fd);
  return ok ? fd : -1;
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::vector<std::string>& argv,
                                                          std::string_view input) {
  const int in_fd = InputFile(input);
  if (in_fd < 0) return Status::Unavailable("cannot make a temporary file: " + SystemError(errno));
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::close(in_fd);
    return Status::Unavailable("cannot make a pipe: " + SystemError(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int err = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_fd);
  ::close(pipe_fds[1]);
  if (err != 0) {
    ::close(pipe_fds[0]);
    return Status::Unavailable("cannot run " + argv[0] + ": " + SystemError(err));
  }
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->name_ = argv[0];
  child->pid_ = pid;
  child->out_fd_ = pipe_fds[0];
  return child;
}

ChildProcess::~ChildProcess() {
  if (out_fd_ >= 0) ::close(out_fd_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

Result<bool> ChildProcess::Fill() {
  if (pos_ < buf_.size()) return true;
  buf_.resize(kReadSize);
  pos_ = 0;
  while (true) {
    const ssize_t n = ::read(out_fd_, buf_.data(), buf_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Unavailable("reading from " + name_ + ": " + SystemError(errno));
    buf_.resize(static_cast<std::size_t>(n));
    return n > 0;
  }
}

Result<bool> ChildProcess::ReadLine(std::string& line) {
  line.clear();
  while (true) {
    KW_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return !line.empty();
    const std::size_t nl = buf_.find('\n', pos_);
    const std::size_t end = nl == std::string::npos ? buf_.size() : nl;
    line.append(buf_, pos_, end - pos_);
    pos_ = nl == std::string::npos ? end : nl + 1;
    if (nl != std::string::npos) return true;
  }
}

Status ChildProcess::ReadExactly(std::size_t n, std::string& out) {
  out.clear();
  out.reserve(n);
  while (out.size() < n) {
    KW_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return Status::Unavailable("the output of " + name_ + " ended early");
    const std::size_t take = std::min(n - out.size(), buf_.size() - pos_);
    out.append(buf_, pos_, take);
    pos_ += take;
  }
  return Status::Ok();
}

Result<std::string> ChildProcess::ReadToEnd() {
  std::string out;
  while (true) {
    KW_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return out;
    out.append(buf_, pos_, std::string::npos);
    pos_ = buf_.size();
  }
}

Status ChildProcess::Wait() {
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &status, 0);
  } while (got < 0 && errno == EINTR);
  pid_ = -1;
  if (got < 0) return Status::Unavailable("waiting for " + name_ + ": " + SystemError(errno));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  if (WIFEXITED(status)) {
    return Status::Unavailable(name_ + " failed with exit status " +
                               std::to_string(WEXITSTATUS(status)));
  }
  return Status::Unavailable(name_ + " was killed by signal " + std::to_string(WTERMSIG(status)));
}

}  // namespace keyward::scan
