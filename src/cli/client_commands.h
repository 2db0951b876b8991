// The client subcommands of `keyward`: they talk HTTP to a Keyward server.
#pragma once

#include <CLI/CLI.hpp>

namespace keyward {

// login, logout
void AddLoginCommands(CLI::App& app, int* exit_code);
// user get|create|delete, user tag add|delete,
// user apikey get|create|delete|rotate|disable|enable|update|usage
void AddUserCommands(CLI::App& app, int* exit_code);
// user apikey usage, under `apikey` (AddUserCommands adds it)
void AddApikeyUsageCommand(CLI::App* apikey, int* exit_code);
// audit get
void AddAuditCommands(CLI::App& app, int* exit_code);
// token issue
void AddTokenCommands(CLI::App& app, int* exit_code);
// signing-key list|rotate|export
void AddSigningKeyCommands(CLI::App& app, int* exit_code);
// webhook add|get|delete|test
void AddWebhookCommands(CLI::App& app, int* exit_code);
// scan [PATH…|-] (finds keys in files and git history; --check asks the server)
void AddScanCommand(CLI::App& app, int* exit_code);

}  // namespace keyward
