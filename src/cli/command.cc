#include "cli/command.h"

#include <cstdlib>
#include <iostream>

#include "cli/exit_code.h"

namespace keyward {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

}  // namespace

Result<CliContext> OpenContext(const ClientFlags& flags, const std::string& server_override) {
  CliContext s;
  s.config_path = ConfigPath();
  KW_ASSIGN_OR_RETURN(s.config, LoadConfig(s.config_path));
  std::string server = server_override;
  if (server.empty()) server = Env("KEYWARD_SERVER");
  if (server.empty()) server = s.config.server;
  if (server.empty()) server = kDefaultServer;
  std::string token = Env("KEYWARD_APIKEY");
  if (token.empty()) token = s.config.token;
  s.http = std::make_unique<HttpClient>(server, token, flags.ca_file);
  return s;
}

int RunCommand(const std::string& title, bool quiet, const std::function<Status()>& body) {
  if (!quiet) std::cerr << InfoLine("🔑 " + title + "...") << std::endl;
  Status status = body();
  if (!status.ok()) {
    std::string message = status.message();
    if (status.code() == StatusCode::kUnauthenticated) {
      message += "; sign in with: keyward login (or set KEYWARD_APIKEY)";
    }
    std::cerr << ErrorLine(title + ": " + message) << std::endl;
    return ExitCodeFor(status.code());
  }
  if (!quiet) std::cerr << InfoLine("🔑 " + title + "...complete") << std::endl;
  return 0;
}

void AddClientFlags(CLI::App* cmd, ClientFlags& flags) {
  cmd->add_option("--ca-file", flags.ca_file, "CA certificate file to trust for https servers")
      ->envname("KEYWARD_CA_FILE");
}

OutputFormat ParseOutputFormat(const std::string& text) {
  if (text == "wide") return OutputFormat::kWide;
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  return OutputFormat::kTable;
}

}  // namespace keyward
