// keyward login / logout
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cli/client_commands.h"
#include "cli/command.h"
#include "common/random.h"

namespace keyward {
namespace {

struct LoginFlags {
  ClientFlags client;
  std::string server;
  std::string user;
  bool password_stdin = false;
};

// Reads a line from the terminal with echo off.
std::string PromptHidden(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios old_mode{};
  bool tty = ::tcgetattr(STDIN_FILENO, &old_mode) == 0;
  if (tty) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) ::tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
  std::cerr << "\n";
  return line;
}

Result<std::string> ReadPassword(const LoginFlags& flags) {
  std::string password;
  if (flags.password_stdin) {
    password.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
      password.pop_back();
    }
  } else if (::isatty(STDIN_FILENO)) {
    password = PromptHidden("Password: ");
  } else {
    return Status::InvalidArgument("no terminal to ask for the password; use --password-stdin");
  }
  if (password.empty()) return Status::InvalidArgument("the password is empty");
  return password;
}

Status Login(const LoginFlags& flags) {
  KW_ASSIGN_OR_RETURN(CliContext context, OpenContext(flags.client, flags.server));
  std::string user = flags.user;
  if (user.empty()) {
    if (!::isatty(STDIN_FILENO) || flags.password_stdin) {
      return Status::InvalidArgument("give the user name with -u");
    }
    std::cerr << "Username: " << std::flush;
    std::getline(std::cin, user);
  }
  KW_ASSIGN_OR_RETURN(std::string password, ReadPassword(flags));
  auto reply = context.http->Call("POST", "/api/v1/login",
                                  boost::json::value{{"username", user}, {"password", password}});
  SecureWipe(password);
  if (!reply.ok()) return reply.status();
  context.config.server = context.http->server();
  context.config.token = std::string(reply->at("token").as_string());
  KW_RETURN_IF_ERROR(SaveConfig(context.config_path, context.config));
  std::cerr << InfoLine("signed in to " + context.config.server + " as " + user + " until " +
                        std::string(reply->at("expiration").as_string()))
            << std::endl;
  return Status::Ok();
}

Status Logout(const ClientFlags& flags) {
  KW_ASSIGN_OR_RETURN(CliContext context, OpenContext(flags));
  if (context.config.token.empty()) return Status::Ok();
  HttpClient http(context.http->server(), context.config.token, flags.ca_file);
  auto reply = http.Call("POST", "/api/v1/logout");
  // An expired or revoked session is signed out already.
  if (!reply.ok() && reply.status().code() != StatusCode::kUnauthenticated) {
    return reply.status();
  }
  context.config.token.clear();
  return SaveConfig(context.config_path, context.config);
}

}  // namespace

void AddLoginCommands(CLI::App& app, int* exit_code) {
  auto login = std::make_shared<LoginFlags>();
  CLI::App* cmd = app.add_subcommand(
      "login", "Sign in and keep the session in the config file (~/.keyward/config)");
  cmd->add_option("--server", login->server, "server URL, e.g. https://keyward.example.com")
      ->envname("KEYWARD_SERVER");
  cmd->add_option("-u,--user", login->user, "user id to sign in as");
  cmd->add_flag("--password-stdin", login->password_stdin,
                "read the password from standard input instead of prompting");
  AddClientFlags(cmd, login->client);
  cmd->callback([login, exit_code] {
    *exit_code = RunCommand("login", false, [&] { return Login(*login); });
  });

  auto logout = std::make_shared<ClientFlags>();
  CLI::App* out = app.add_subcommand("logout", "Sign out: revoke the session and forget it");
  AddClientFlags(out, *logout);
  out->callback([logout, exit_code] {
    *exit_code = RunCommand("logout", false, [&] { return Logout(*logout); });
  });
}

}  // namespace keyward
