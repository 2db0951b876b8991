// keyward: the server (`keyward serve`) and the command line client, in one binary.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "app/commands.h"
#include "app/config_file.h"
#include "cli/output.h"

namespace {

// "keyward user apikey delete": the command line's deepest subcommand parsed so far.
std::string CommandPath(const CLI::App* app) {
  std::string path = app->get_name();
  for (const CLI::App* sub = app; !sub->get_subcommands().empty();) {
    sub = sub->get_subcommands().front();
    path += " " + sub->get_name();
  }
  return path;
}

int Run(int argc, char** argv) {
  CLI::App app{"Keyward: API keys and tokens, self-hosted", "keyward"};
  app.require_subcommand(1);
  int exit_code = 0;
  keyward::AddCommands(app, &exit_code, argc > 1 ? argv[1] : "");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const keyward::ConfigFileError& e) {
    // A bad config file: its line says where; --help would not help.
    std::cerr << keyward::ErrorLine(e.what()) << std::endl;
    return 2;
  } catch (const CLI::ParseError& e) {
    // Usage errors: one line and exit code 2, like every other error of the CLI.
    std::cerr << keyward::ErrorLine(std::string(e.what()) + "; see " + CommandPath(&app) +
                                    " --help")
              << std::endl;
    return 2;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // A library that throws past every command's own handling still ends in one error line and
  // exit code 1, never in std::terminate.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ERRO internal error: %s\n", e.what());
  } catch (...) {
    std::fputs("ERRO internal error\n", stderr);
  }
  return 1;
}
