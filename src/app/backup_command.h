// `keyward backup` and `keyward restore`: the SQLite store copied out while a server runs, and
// copied back into a data folder no server uses (store/sqlite/backup.h does the work). Errors
// are one line and the CLI's exit codes (cli/exit_code.h).
#pragma once

#include <CLI/CLI.hpp>

namespace keyward {

// Adds the `backup` and `restore` subcommands to `app`; `*exit_code` is set when one has run.
void AddBackupCommands(CLI::App& app, int* exit_code);

}  // namespace keyward
