// The hidden `keyward generate {man|bash-completion|zsh-completion|config} --out DIR`.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "cli/generate.h"
#include "cli/output.h"

namespace keyward {
namespace {

struct GenerateFlags {
  std::string what;
  std::string out;
  std::vector<std::string> set;  // name=value
};

// Writes each file into `dir` (created when missing); the error names the file.
Status WriteFiles(const std::string& dir, const std::map<std::string, std::string>& files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create " + dir + ": " + ec.message());
  for (const auto& [name, text] : files) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Status::Internal("cannot write " + path);
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> Generate(const CLI::App& root, const GenerateFlags& f) {
  if (!f.set.empty() && f.what != "config") {
    return Status::InvalidArgument("--set is for `generate config` only");
  }
  if (f.what == "man") return ManPages(root, KEYWARD_VERSION);
  if (f.what == "bash-completion") {
    return std::map<std::string, std::string>{{"keyward.bash", BashCompletion(root)}};
  }
  if (f.what == "zsh-completion") {
    return std::map<std::string, std::string>{{"_keyward", ZshCompletion(root)}};
  }
  std::vector<std::pair<std::string, std::string>> set;
  for (const std::string& item : f.set) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--set " + item + ": expected name=value");
    }
    set.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  const CLI::App* serve = root.get_subcommand("serve");
  KW_ASSIGN_OR_RETURN(std::string conf, ConfigTemplate(*serve, set));
  return std::map<std::string, std::string>{{"keyward.conf", std::move(conf)}};
}

}  // namespace

void AddGenerateCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<GenerateFlags>();
  // Group "": hidden from --help; the build runs it (CMake target keyward_generated).
  CLI::App* cmd =
      app.add_subcommand("generate", "Write man pages, shell completion or keyward.conf")
          ->group("");
  cmd->add_option("what", f->what, "what to write")
      ->required()
      ->check(CLI::IsMember({"man", "bash-completion", "zsh-completion", "config"}));
  cmd->add_option("--out", f->out, "the folder to write into (created when missing)")->required();
  cmd->add_option("--set", f->set, "config: write name = value uncommented (repeatable)");
  const CLI::App* root = &app;
  cmd->callback([f, root, exit_code] {
    auto files = Generate(*root, *f);
    Status status = files.ok() ? WriteFiles(f->out, *files) : files.status();
    if (!status.ok()) {
      const bool usage = status.code() == StatusCode::kInvalidArgument;
      std::cerr << ErrorLine(usage ? status.message() : status.detail()) << std::endl;
      *exit_code = usage ? 2 : 1;
    }
  });
}

}  // namespace keyward
