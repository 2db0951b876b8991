// `keyward serve`: flags (app/serve_flags.h) onto a Config, the composition root
// (app/server_app.h), the first user's password, the start-up line, and shutdown on SIGINT or
// SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

namespace keyward {

// Adds the `serve` subcommand to `app`; `*exit_code` is set when it has run.
void AddServeCommand(CLI::App& app, int* exit_code);

}  // namespace keyward
