// The flags of `keyward serve`, each also read from an environment variable KEYWARD_<FLAG>,
// mapped onto a Config. Defaults come from Config (and the structs it holds) and show in
// --help; durations ("24h", "90s") are checked and made typed while the flags are parsed, so a
// bad one is a usage error.
//
// Renamed flags keep working: --threads (KEYWARD_THREADS) is --network-threads
// (KEYWARD_NETWORK_THREADS), --workers (KEYWARD_WORKERS) is --blocking-threads
// (KEYWARD_BLOCKING_THREADS); the new name, on the command line or in the environment, wins.
//
// The first flag is --config FILE (KEYWARD_CONFIG, app/config_file.h): settings from a file,
// under the flags and the variables.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "app/config.h"

namespace keyward {

// Adds the flags to `cmd`; parsing them writes into `config`, which must outlive `cmd`'s
// parse.
void AddServeFlags(CLI::App* cmd, Config& config);

}  // namespace keyward
