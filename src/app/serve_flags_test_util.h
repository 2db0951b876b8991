// For tests of `keyward serve`'s flags: a Config parsed from a command line.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/serve_flags.h"

namespace keyward {

// Parses `args` (after "serve") into a Config the way `keyward serve` does; CLI11's exceptions
// pass through.
inline Config ParseServeArgs(std::vector<std::string> args) {
  CLI::App app;
  Config config;
  CLI::App* cmd = app.add_subcommand("serve");
  AddServeFlags(cmd, config);
  args.insert(args.begin(), "serve");
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
  app.parse(args);
  return config;
}

}  // namespace keyward
