// `keyward serve --config FILE` (KEYWARD_CONFIG): the settings of `keyward serve` in a file.
//
// UTF-8 text, one setting a line, `name = value`, where `name` is a `keyward serve` long flag
// without its `--` (`listen = 127.0.0.1:8080`). Blank lines and lines whose first non-blank
// character is '#' are ignored. The value is the rest of the line after the first '=', trimmed
// (a '#' in it is part of it); it may be wrapped in double quotes, then `\"` and `\\` are its
// only escapes. A flag that may repeat (`token-audience`) may be on several lines, its values
// adding up; any other name may be set once. Boolean flags take `true` or `false`. `config`
// itself cannot be set in the file.
//
// Precedence: a flag on the command line > its KEYWARD_* variable > the file > the default. The
// file is read after the command line and the environment, and each setting neither of them
// gave is passed through the flag's own CLI11 option, so that its validator and callback run
// as for the flag. Every error names the file and the line: `<file>:<line>: <what is wrong>`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace keyward {

// One `name = value` line of a config file.
struct ConfigSetting {
  std::string name;
  std::string value;  // unquoted
  int line = 0;       // 1-based
};

// The settings of `text`, in file order; `path` is only for the messages. InvalidArgument
// "<path>:<line>: <what>" for a line without '=', without a name, or with a badly quoted
// value. Never repeats a value in a message (a value may hold a secret, as a --db URL does).
Result<std::vector<ConfigSetting>> ParseConfigText(std::string_view text, std::string_view path);

// The settings of file `path` (at most 1 MB). An unreadable file is InvalidArgument
// "cannot read config file <path>: <the system's reason>".
Result<std::vector<ConfigSetting>> ReadConfigFile(const std::string& path);

// A config file that cannot be applied: a usage error (exit code 2) whose message is the whole
// error line, without a pointer to --help.
class ConfigFileError : public CLI::ParseError {
 public:
  explicit ConfigFileError(std::string message)
      : CLI::ParseError("ConfigFileError", std::move(message), 2) {}
};

// Passes `settings` (of file `path`) to the options of `cmd` that neither the command line nor
// the environment set, each through its option's validator and callback at once (a value
// that a flag or variable overrides is not used, so not checked; its name and line are). Throws
// ConfigFileError "<path>:<line>: <what>" for an unknown name, `config`, a name set twice that
// may not repeat, a boolean flag given other than true or false, or a value its option refuses.
// A setting counts as set by the environment when the KEYWARD_ variable of any of its long
// names is set and not empty (KEYWARD_THREADS for --network-threads, old name --threads).
void ApplyConfigSettings(CLI::App* cmd, const std::vector<ConfigSetting>& settings,
                         std::string_view path);

// Adds --config FILE (KEYWARD_CONFIG) to `cmd`: once `cmd` is parsed, the file's settings are
// applied as ApplyConfigSettings says (not when help was asked for). Add it before any other
// option of `cmd`: CLI11 runs option callbacks in the order the options were added, after it
// has read the command line and the environment, and the file must be applied before the
// other options' callbacks run.
CLI::Option* AddConfigFileOption(CLI::App* cmd);

}  // namespace keyward
