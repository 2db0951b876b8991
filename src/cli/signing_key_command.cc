// keyward signing-key list|rotate|export: the token issuer's signing keys
// (GET /api/v1/signing-keys, POST /api/v1/signing-keys/rotate).
#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "cli/client_commands.h"
#include "cli/command.h"
#include "cli/signing_key_output.h"

namespace keyward {
namespace {

namespace json = boost::json;

struct SigningKeyFlags {
  ClientFlags client;
  bool now = false;    // rotate --now
  std::string format;  // export --format
  std::string output = "table";
};

Result<json::value> ListKeys(CliContext& s) {
  KW_ASSIGN_OR_RETURN(json::value body, s.http->Call("GET", "/api/v1/signing-keys"));
  const json::value* keys = body.is_object() ? body.as_object().if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return Status::Internal("the server's answer has no keys");
  }
  return *keys;
}

Status List(const SigningKeyFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value keys, ListKeys(s));
  // Machine output is the list itself, like `audit get -o json`.
  std::cout << RenderSigningKeys(keys, ParseOutputFormat(f.output)) << std::flush;
  return Status::Ok();
}

Status Rotate(const SigningKeyFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value key, s.http->Call("POST", "/api/v1/signing-keys/rotate",
                                                    json::value{{"now", f.now}}));
  std::cout << RenderSigningKeys(key, ParseOutputFormat(f.output)) << std::flush;
  return Status::Ok();
}

Status Export(const SigningKeyFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value keys, ListKeys(s));
  KW_ASSIGN_OR_RETURN(std::string lines, PulsarStaticKey(keys));
  std::cout << lines << std::flush;
  std::cerr << PulsarRotationCaveat(keys) << std::flush;
  return Status::Ok();
}

void AddOutput(CLI::App* cmd, SigningKeyFlags& f) {
  cmd->add_option("-o,--output", f.output,
                  "table, wide (adds GENERATION, CREATED, SIGNS UNTIL) or json (every field)")
      ->check(CLI::IsMember({"table", "wide", "json"}))
      ->capture_default_str();
}

// Adds one leaf command that runs `body` under `title`; json output prints no progress lines.
CLI::App* Leaf(CLI::App* parent, const std::string& name, const std::string& help, int* exit_code,
               std::shared_ptr<SigningKeyFlags> flags, Status (*body)(const SigningKeyFlags&),
               bool always_quiet = false) {
  CLI::App* cmd = parent->add_subcommand(name, help);
  AddClientFlags(cmd, flags->client);
  const std::string title = "signing-key " + name;
  cmd->callback([=] {
    const bool quiet = always_quiet || flags->output == "json";
    *exit_code = RunCommand(title, quiet, [&] { return body(*flags); });
  });
  return cmd;
}

}  // namespace

void AddSigningKeyCommands(CLI::App& app, int* exit_code) {
  CLI::App* keys = app.add_subcommand("signing-key", "The token issuer's signing keys");
  keys->require_subcommand(1);

  auto list = std::make_shared<SigningKeyFlags>();
  CLI::App* l = Leaf(keys, "list",
                     "List the signing keys, newest first: next (published, not yet signing), "
                     "current, retired (still published)",
                     exit_code, list, List);
  AddOutput(l, *list);

  auto rotate = std::make_shared<SigningKeyFlags>();
  CLI::App* r =
      Leaf(keys, "rotate", "Make a next key now (it signs after the prepublish period); operators",
           exit_code, rotate, Rotate);
  r->add_flag("--now", rotate->now,
              "an emergency: the new key signs at once and the current one retires");
  AddOutput(r, *rotate);

  auto exp = std::make_shared<SigningKeyFlags>();
  CLI::App* e = Leaf(keys, "export",
                     "Print the current public key for a broker's configuration "
                     "(--format pulsar: broker.conf's tokenPublicKey and tokenPublicAlg)",
                     exit_code, exp, Export, /*always_quiet=*/true);
  e->add_option("--format", exp->format, "pulsar")->required()->check(CLI::IsMember({"pulsar"}));
}

}  // namespace keyward
