// Every command of the `keyward` binary, server and client, on one CLI::App.
#pragma once

#include <CLI/CLI.hpp>
#include <string_view>

namespace keyward {

// Adds the commands to `app`; `*exit_code` is set by the one that runs. `first_argument` is the
// command line's first argument (argv[1], empty when there is none): when it names a command,
// only that command's group is added — `keyward scan FILE` does not build the option tree of
// every other command before it starts, which was a third of its start-up. Anything else
// (`--help`, an unknown or mistyped command, `generate`, which reads every command) adds all
// of them, so help, errors and the generated man pages see the whole tree.
void AddCommands(CLI::App& app, int* exit_code, std::string_view first_argument);

}  // namespace keyward
