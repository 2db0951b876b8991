// What every client subcommand shares: where the server is, which credential to send, and how
// a command reports progress, output and errors.
//
// Server: --server (login only) > KEYWARD_SERVER > the config file > http://127.0.0.1:8080.
// Credential: --key-file (where a command has it) > KEYWARD_APIKEY > the session in the config
// file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "cli/config.h"
#include "cli/http_client.h"
#include "cli/output.h"
#include "common/status.h"

namespace keyward {

inline constexpr const char* kDefaultServer = "http://127.0.0.1:8080";

// Flags every client command accepts.
struct ClientFlags {
  std::string ca_file;   // --ca-file / KEYWARD_CA_FILE: a private CA for https servers
  std::string key_file;  // --key-file: a file holding the API key (commands that add it)
};

// Where the credential sent came from: an API key (--key-file, KEYWARD_APIKEY) or the session
// of `keyward login`.
enum class CredentialKind { kNone, kApiKey, kSession };

// The loaded config and a client for the server it names.
struct CliContext {
  std::string config_path;
  CliConfig config;
  std::unique_ptr<HttpClient> http;
  std::string credential;  // the key or session token the client sends; "" when none
  CredentialKind credential_kind = CredentialKind::kNone;
};

// Loads the config, reads --key-file when given, and opens a client. `server_override` wins
// when not empty. InvalidArgument when the key file cannot be read or is empty (naming the
// file, never its content).
Result<CliContext> OpenContext(const ClientFlags& flags, const std::string& server_override = "");

// Runs one command: prints "INFO[…] 🔑 <title>..." to stderr, runs `body`, then
// "INFO[…] 🔑 <title>...complete", or one "ERRO[…] <title>: <message>" line. `quiet` (machine
// output) prints no progress lines. Returns the exit code (cli/exit_code.h).
int RunCommand(const std::string& title, bool quiet, const std::function<Status()>& body);

// Adds --ca-file to `cmd`.
void AddClientFlags(CLI::App* cmd, ClientFlags& flags);
// Adds --key-file to `cmd`.
void AddKeyFileFlag(CLI::App* cmd, ClientFlags& flags);

// -o table|wide|json|yaml
OutputFormat ParseOutputFormat(const std::string& text);

}  // namespace keyward
