// keyward: the server (`keyward serve`) and the command line client, in one binary.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/serve_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Keyward: API keys and tokens, self-hosted", "keyward"};
  app.require_subcommand(1);
  int exit_code = 0;
  keyward::AddServeCommand(app, &exit_code);
  app.add_subcommand("version", "Print the version")->callback([] {
    std::cout << "keyward " << KEYWARD_VERSION << "\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
