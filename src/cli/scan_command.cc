// keyward scan [PATH…|-]: finds API keys in files, folders, standard input or git history
// (src/scan does the work), optionally asks the server which are live and revokes them.
// Exit 0 nothing found, 1 found, 2 error (a path that cannot be read, git failing, a bad flag,
// the server refusing --check).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/client_commands.h"
#include "cli/command.h"
#include "common/random.h"
#include "core/api_key.h"
#include "scan/check.h"
#include "scan/file_scanner.h"
#include "scan/git_history.h"
#include "scan/report.h"

namespace keyward {
namespace {

struct ScanFlags {
  ClientFlags client;
  std::vector<std::string> paths;
  std::vector<std::string> excludes;
  std::vector<std::string> prefixes = {"kw"};
  std::string git_repo;  // --git's value; "." when given bare
  bool git = false;
  std::string output = "text";
  bool check = false;
  bool revoke = false;
};

constexpr const char* kCheckPath = "/api/v1/apikeys/check";

// Asks the server about every distinct key of `findings` (by hash only) and marks them.
Status CheckFindings(const ScanFlags& f, std::vector<scan::Finding>& findings) {
  const std::vector<std::string> hashes = scan::DistinctHashes(findings);
  if (hashes.empty()) return Status::Ok();
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  for (std::size_t begin = 0; begin < hashes.size(); begin += scan::kMaxCheckHashes) {
    KW_ASSIGN_OR_RETURN(
        boost::json::value answer,
        s.http->Call("POST", kCheckPath, scan::CheckRequest(hashes, begin, f.revoke)));
    KW_RETURN_IF_ERROR(scan::ApplyCheckAnswer(answer, f.revoke, findings));
  }
  return Status::Ok();
}

// Errors name paths, which a hostile repository chooses: escaped as the text output is.
void PrintError(const std::string& message) {
  std::cerr << ErrorLine("scan: " + scan::EscapeForTerminal(message)) << std::endl;
}

int Scan(ScanFlags& f) {
  for (const std::string& prefix : f.prefixes) {
    if (Status st = ValidateKeyPrefix(prefix); !st.ok()) {
      PrintError("--prefix " + prefix + ": " + st.message());
      return 2;
    }
  }
  if (f.git && !f.paths.empty()) {
    PrintError("give either PATHs or --git [REPO], not both");
    return 2;
  }
  const scan::KeyFinder finder(f.prefixes);
  const scan::WalkOptions walk{f.excludes};
  scan::ScanResult result;
  if (f.git) {
    scan::ScanGitHistory(f.git_repo.empty() ? "." : f.git_repo, walk, finder, result);
  } else {
    if (f.paths.empty()) f.paths.emplace_back(".");
    for (const std::string& path : f.paths) scan::ScanPath(path, walk, finder, result);
  }
  bool failed = !result.errors.empty();
  for (const std::string& error : result.errors) PrintError(error);
  if (f.check || f.revoke) {
    if (Status st = CheckFindings(f, result.findings); !st.ok()) {
      std::string message = "--check: " + st.message();
      if (st.code() == StatusCode::kUnauthenticated) message += "; sign in with: keyward login";
      PrintError(message);
      failed = true;
    }
  }
  if (f.output == "json") {
    std::cout << scan::RenderJson(result.findings);
  } else if (f.output == "sarif") {
    std::cout << scan::RenderSarif(result.findings, KEYWARD_VERSION);
  } else {
    std::cout << scan::RenderText(result.findings);
  }
  std::cout << std::flush;
  for (scan::Finding& finding : result.findings) SecureWipe(finding.key);
  if (failed) return 2;
  return result.findings.empty() ? 0 : 1;
}

}  // namespace

void AddScanCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<ScanFlags>();
  CLI::App* cmd = app.add_subcommand(
      "scan",
      "Find Keyward API keys in files, folders, standard input (-) or git history; exit 0 "
      "nothing found, 1 found, 2 error");
  cmd->add_option("paths", f->paths, "files and folders to scan (default: .), - for stdin")
      ->type_name("PATH");
  cmd->add_option("--exclude", f->excludes,
                  "leave out files and folders matching this glob (on the path under the "
                  "folder argument, or in the repository with --git, or the base name; "
                  "repeatable)")
      ->type_name("GLOB")
      ->allow_extra_args(false);
  cmd->add_option("--prefix", f->prefixes, "key prefix to look for (repeatable)")
      ->type_name("PREFIX")
      ->allow_extra_args(false)
      ->capture_default_str();
  cmd->add_option("--git", f->git_repo,
                  "scan every blob in the history of this repository (default: .) instead of "
                  "files")
      ->type_name("REPO")
      ->expected(0, 1);
  cmd->add_option("-o,--output", f->output, "text, json or sarif (SARIF 2.1.0)")
      ->check(CLI::IsMember({"text", "json", "sarif"}))
      ->capture_default_str();
  cmd->add_flag("--check", f->check,
                "ask the signed-in server which keys found are live (sends only their SHA-256)");
  cmd->add_flag("--revoke", f->revoke,
                "with --check: revoke the live keys found that you may delete");
  AddClientFlags(cmd, f->client);
  AddKeyFileFlag(cmd, f->client);
  cmd->callback([f, cmd, exit_code] {
    f->git = cmd->count("--git") > 0;
    *exit_code = Scan(*f);
  });
}

}  // namespace keyward
