// `keyward serve`: flags (each also read from KEYWARD_<FLAG>), start-up and shutdown.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace keyward {

// Adds the `serve` subcommand to `app`; `*exit_code` is set when it has run.
void AddServeCommand(CLI::App& app, int* exit_code);

}  // namespace keyward
