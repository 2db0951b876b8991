// Man pages, shell completion and the server's config file template, generated from the CLI11
// definitions `keyward` itself parses with (never a second list of commands): the hidden
// `keyward generate {man|bash-completion|zsh-completion|config} --out DIR`, which the CMake
// target keyward_generated runs. The functions below are pure: an App tree in, text out.
// Hidden subcommands and options (CLI11 group "") are left out of everything.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace keyward {

// --- The App tree, as every generator reads it ---

// The subcommands of `app` a user sees (named, not hidden), in the order they were added.
std::vector<const CLI::App*> VisibleSubcommands(const CLI::App& app);
// The options of `app` a user sees (not hidden), the positionals last.
std::vector<const CLI::Option*> VisibleOptions(const CLI::App& app);
// Whether the option reads a value (false for a flag such as --help or --reveal).
bool TakesValue(const CLI::Option& option);
// Whether the option may be given more than once, its values adding up.
bool IsRepeatable(const CLI::Option& option);
// The values a CLI::IsMember check allows ("debug", "info", "warn"), or none.
std::vector<std::string> Choices(const CLI::Option& option);
// The type name shown for the value, without the choices ("TEXT", "DURATION"); "" for a flag.
std::string ValueName(const CLI::Option& option);
// The option's default as a user would write it ("true", not CLI11's "1"); "" when it has none.
std::string DefaultValue(const CLI::Option& option);
// "keyward user apikey create": the names from the root down to `app`.
std::string CommandPath(const CLI::App& app);

// --- Man pages ---

// `text` as troff text on its own lines: backslashes as \e, hyphens as \-, a leading . or '
// guarded by \&, characters outside ASCII as \[uXXXX].
std::string TroffEscape(std::string_view text);

// keyward.1 (the root) and keyward-<sub>.1 for each top-level subcommand (covering its nested
// subcommands): file name -> troff text.
std::map<std::string, std::string> ManPages(const CLI::App& root, std::string_view version);

// --- Completion ---

// A bash script defining _keyward and `complete -F _keyward keyward`.
std::string BashCompletion(const CLI::App& root);
// A zsh completion function file (#compdef keyward) for the fpath, named _keyward.
std::string ZshCompletion(const CLI::App& root);

// --- The server's config file ---

// keyward.conf for `keyward serve --config`: every option of `serve` (but help and config) as
// its help text, then "# name = default"; a setting in `set` ({name, value}) is written
// uncommented with that value. InvalidArgument for a name that is no serve setting or a value
// that cannot be written on one line.
Result<std::string> ConfigTemplate(const CLI::App& serve,
                                   const std::vector<std::pair<std::string, std::string>>& set);

// --- The command ---

// Adds the hidden `generate` subcommand to `app`; add it after every other command. Exit code
// 2 for a usage error, 1 when a file cannot be written.
void AddGenerateCommand(CLI::App& app, int* exit_code);

}  // namespace keyward
