#include "cli/command.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>

#include "cli/exit_code.h"

namespace keyward {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// The key in `path`: its content without surrounding white space.
Result<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cannot read --key-file " + path + ": " +
                                   std::generic_category().message(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string key = text.str();
  const auto begin = key.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos)
    return Status::InvalidArgument("--key-file " + path + " is empty");
  key = key.substr(begin, key.find_last_not_of(" \t\r\n") - begin + 1);
  return key;
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
  if (!flags.key_file.empty()) {
    KW_ASSIGN_OR_RETURN(s.credential, ReadKeyFile(flags.key_file));
  } else {
    s.credential = Env("KEYWARD_APIKEY");
  }
  s.credential_kind = s.credential.empty() ? CredentialKind::kNone : CredentialKind::kApiKey;
  if (s.credential.empty() && !s.config.token.empty()) {
    s.credential = s.config.token;
    s.credential_kind = CredentialKind::kSession;
  }
  s.http = std::make_unique<HttpClient>(server, s.credential, flags.ca_file);
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

void AddKeyFileFlag(CLI::App* cmd, ClientFlags& flags) {
  cmd->add_option("--key-file", flags.key_file,
                  "file holding the API key to use (instead of KEYWARD_APIKEY or the session of "
                  "keyward login)");
}

OutputFormat ParseOutputFormat(const std::string& text) {
  if (text == "wide") return OutputFormat::kWide;
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  return OutputFormat::kTable;
}

}  // namespace keyward
