// keyward token issue: a short-lived JWT of the token issuer for the caller's credential (an
// RFC 8693 token exchange at POST /oauth/token), for a Pulsar client's accessToken or
// authParams, or a Trino driver's accessToken.
#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/client_commands.h"
#include "cli/command.h"
#include "cli/oauth_form.h"

namespace keyward {
namespace {

namespace json = boost::json;

struct TokenFlags {
  ClientFlags client;
  std::string audience;             // --audience: "" for the server's default
  std::vector<std::string> scopes;  // --scope, repeatable
  std::string output = "text";
};

// Exchanges the credential for a token; prints the JWT alone (text) or the token endpoint's
// answer (json) on stdout.
Status TokenIssue(const TokenFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  if (s.credential_kind == CredentialKind::kNone) {
    return Status::Unauthenticated("no credential to exchange for a token");
  }
  const FormFields form = TokenExchangeForm(
      s.credential, s.credential_kind == CredentialKind::kApiKey, f.audience, f.scopes);
  KW_ASSIGN_OR_RETURN(json::value answer, s.http->PostForm("/oauth/token", form));
  const std::string token = StringMember(answer, "access_token");
  if (token.empty()) return Status::Internal("the token endpoint's answer has no access_token");
  if (f.output == "json") {
    std::cout << RenderJson(answer);
  } else {
    std::cout << token << "\n";
  }
  std::cout.flush();
  return Status::Ok();
}

}  // namespace

void AddTokenCommands(CLI::App& app, int* exit_code) {
  CLI::App* token = app.add_subcommand("token", "Tokens of the token issuer (OAuth 2.0 JWTs)");
  token->require_subcommand(1);

  auto flags = std::make_shared<TokenFlags>();
  CLI::App* issue = token->add_subcommand(
      "issue",
      "Exchange your API key (--key-file, KEYWARD_APIKEY) or session (keyward login) for a "
      "short-lived JWT, e.g. a Pulsar client's accessToken; the key needs the scope "
      "tokens:issue");
  AddClientFlags(issue, flags->client);
  AddKeyFileFlag(issue, flags->client);
  issue->add_option("--audience", flags->audience,
                    "the token's aud, one of the server's --token-audience (default: its first)");
  issue->add_option("-s,--scope", flags->scopes,
                    "a service scope the token carries (repeatable or comma-separated; default: "
                    "all of the key's service scopes)");
  issue
      ->add_option("-o,--output", flags->output,
                   "text (the JWT alone) or json (the token endpoint's answer: access_token, "
                   "token_type, expires_in, issued_token_type, scope)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  issue->callback([flags, exit_code] {
    // Machine output either way: no progress lines.
    *exit_code = RunCommand("token issue", /*quiet=*/true, [&] { return TokenIssue(*flags); });
  });
}

}  // namespace keyward
