// A child process whose standard output this process reads: for running `git`. Standard input
// comes from a byte string (through an unlinked temporary file, so that writing it can never
// block on a full pipe); standard error is this process's. Not thread safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace keyward::scan {

class ChildProcess {
 public:
  // Starts argv[0] (looked up in PATH) with `argv` and `input` on its standard input.
  // Unavailable when it cannot be started (naming argv[0]).
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                     std::string_view input);
  // Kills the child when it was not waited for.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line of its output without the '\n'; false at the end of the output.
  Result<bool> ReadLine(std::string& line);
  // Exactly `n` bytes of its output into `out`; Unavailable when the output ends first.
  Status ReadExactly(std::size_t n, std::string& out);
  // All the rest of its output.
  Result<std::string> ReadToEnd();
  // Waits for the exit; Unavailable unless it exited with 0 (naming argv[0] and the status).
  Status Wait();

 private:
  ChildProcess() = default;
  // Refills buf_ when it is used up; false at the end of the output.
  Result<bool> Fill();

  std::string name_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buf_;
  std::size_t pos_ = 0;  // first unread byte of buf_
};

}  // namespace keyward::scan
