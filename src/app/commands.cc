#include "app/commands.h"

#include <algorithm>
#include <array>
#include <iostream>

#include "app/backup_command.h"
#include "app/serve_command.h"
#include "cli/client_commands.h"
#include "cli/generate.h"

namespace keyward {
namespace {

void AddVersionCommand(CLI::App& app, int* /*exit_code*/) {
  app.add_subcommand("version", "Print the version")->callback([] {
    std::cout << "keyward " << KEYWARD_VERSION << "\n";
  });
}

// A function that adds some top-level commands, and their names (commands_test.cc checks the
// names against what the function adds).
struct CommandGroup {
  std::array<std::string_view, 2> names;  // the second may be empty
  void (*add)(CLI::App&, int*);
};

// In the order of `keyward --help`. `generate` is last and not here: it reads every command
// above, so it is only ever added with all of them.
constexpr CommandGroup kGroups[] = {
    {{"serve"}, AddServeCommand},
    {{"login", "logout"}, AddLoginCommands},
    {{"user"}, AddUserCommands},
    {{"audit"}, AddAuditCommands},
    {{"token"}, AddTokenCommands},
    {{"signing-key"}, AddSigningKeyCommands},
    {{"webhook"}, AddWebhookCommands},
    {{"scan"}, AddScanCommand},
    {{"backup", "restore"}, AddBackupCommands},
    {{"version"}, AddVersionCommand},
};

}  // namespace

void AddCommands(CLI::App& app, int* exit_code, std::string_view first_argument) {
  for (const CommandGroup& group : kGroups) {
    if (!first_argument.empty() &&
        std::ranges::find(group.names, first_argument) != group.names.end()) {
      group.add(app, exit_code);
      return;
    }
  }
  for (const CommandGroup& group : kGroups) group.add(app, exit_code);
  AddGenerateCommand(app, exit_code);
}

}  // namespace keyward
