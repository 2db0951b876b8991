// What `keyward generate` writes, used for real: every man page rendered by man and groff
// without a warning, the bash completion sourced and called as bash calls it, the zsh one
// loaded by zsh, and keyward.conf holding every `keyward serve` setting once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace keyward::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

class GeneratedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir());
    for (const char* what : {"man", "bash-completion", "zsh-completion", "config"}) {
      std::vector<std::string> args = {"generate", what, "--out", *dir_ + "/" + what};
      if (std::string(what) == "config") args.push_back("--set=data-dir=/var/lib/keyward");
      const ProcessResult r = RunKeyward(args);
      ASSERT_EQ(r.exit_code, 0) << what << ": " << r.err;
    }
  }
  static void TearDownTestSuite() {
    RemoveTree(*dir_);
    delete dir_;
  }
  static std::string Path(const std::string& file) { return *dir_ + "/" + file; }

  // The words bash's completion offers for `words` (the last one being completed).
  static std::vector<std::string> BashComplete(const std::vector<std::string>& words) {
    std::string array;
    for (const std::string& w : words) array += " '" + w + "'";
    const std::string script = "source '" + Path("bash-completion/keyward.bash") +
                               "' && COMP_WORDS=(" + array +
                               ") && COMP_CWORD=" + std::to_string(words.size() - 1) +
                               " && _keyward && printf '%s\\n' \"${COMPREPLY[@]}\"";
    const ProcessResult r = RunProcess({"bash", "--norc", "--noprofile", "-c", script});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    std::vector<std::string> offered;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) offered.push_back(line);
    }
    return offered;
  }

  static std::string* dir_;
};
std::string* GeneratedTest::dir_ = nullptr;

TEST_F(GeneratedTest, ManPagesRenderWithoutWarnings) {
  std::set<std::string> pages;
  for (const auto& entry : std::filesystem::directory_iterator(Path("man"))) {
    pages.insert(entry.path().filename().string());
    const std::string page = entry.path().string();
    // man-db's own pipeline (preconv, tbl, groff) with groff's warnings on.
    const ProcessResult man = RunProcess({"man", "-l", "--warnings=w", page},
                                         {{"MANWIDTH", "80"}, {"MAN_DISABLE_SECCOMP", "1"}});
    EXPECT_EQ(man.exit_code, 0) << page << ": " << man.err;
    EXPECT_EQ(man.err, "") << page;
    EXPECT_THAT(man.out, HasSubstr("NAME")) << page;
    const ProcessResult groff = RunProcess({"groff", "-man", "-ww", "-z", page});
    EXPECT_EQ(groff.exit_code, 0) << page;
    EXPECT_EQ(groff.err, "") << page;
  }
  EXPECT_THAT(pages, IsSupersetOf({"keyward.1", "keyward-serve.1", "keyward-login.1",
                                   "keyward-user.1", "keyward-scan.1"}));
  EXPECT_EQ(pages.count("keyward-generate.1"), 0u);  // hidden
  const std::string user = ReadFile(Path("man/keyward-user.1"));
  EXPECT_THAT(user, HasSubstr(".SS \"keyward user apikey create\""));
  const std::string serve = ReadFile(Path("man/keyward-serve.1"));
  EXPECT_THAT(serve, HasSubstr(".SH ENVIRONMENT"));
  EXPECT_THAT(serve, HasSubstr("\\fBKEYWARD_LISTEN\\fR"));
}

TEST_F(GeneratedTest, BashCompletesCommandsOptionsAndChoices) {
  EXPECT_THAT(BashComplete({"keyward", "user", "apikey", "cr"}), ElementsAre("create"));
  EXPECT_THAT(BashComplete({"keyward", "serve", "--lis"}), ElementsAre("--listen"));
  EXPECT_THAT(BashComplete({"keyward", "serve", "--log-level", ""}),
              ElementsAre("debug", "info", "warn"));
  EXPECT_THAT(BashComplete({"keyward", "serve", "--log-level", "=", "w"}), ElementsAre("warn"));
  // An option's value is not taken for a command.
  EXPECT_THAT(BashComplete({"keyward", "serve", "--listen", "user", "--data-d"}),
              ElementsAre("--data-dir"));
  const std::vector<std::string> top = BashComplete({"keyward", ""});
  EXPECT_THAT(top, IsSupersetOf({"serve", "login", "user", "scan", "version"}));
  EXPECT_THAT(top, Not(::testing::Contains("generate")));
}

// Types `line` and a Tab into an interactive zsh (in a pseudo-terminal, zsh/zpty) whose fpath
// holds the generated _keyward; true once the line on the screen reads `completed` (10 s at
// most: the first completion loads compinit and the file). compinit -D: no dump file (given
// `-d /dev/null`, compinit wrote its dump beside it and moved it over /dev/null, which then
// became a plain file and broke every later test that writes to it).
constexpr const char* kZshComplete = R"(
zmodload zsh/zpty
buf=
read_until() {
  local chunk i
  for i in {1..200}; do
    while zpty -r -t z chunk; do buf+=$chunk; done
    [[ $buf == *$1* ]] && return 0
    sleep 0.05
  done
  return 1
}
zpty z zsh -f -i
zpty -w z "PS1='RE''ADY> '; fpath=('$1' \$fpath); autoload -Uz compinit; compinit -u -D"
# The prompt, then line editing on (bracketed paste): typed ahead of that, a Tab may be lost.
read_until "READY> "$'\e[K\e[?2004h' || { print -r -- "no prompt: $buf"; exit 1; }
buf=
zpty -n -w z "$2"$'\t'
read_until "$3" || { print -r -- "not completed: $buf"; exit 1; }
zpty -d z
)";

TEST_F(GeneratedTest, ZshCompletesCommandsOptionsAndChoices) {
  const std::string file = Path("zsh-completion/_keyward");
  const ProcessResult syntax = RunProcess({"zsh", "-n", file});
  EXPECT_EQ(syntax.exit_code, 0) << syntax.err;
  EXPECT_EQ(ReadFile(file).rfind("#compdef keyward\n", 0), 0u);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"keyward user apikey cr", "keyward user apikey create"},
      {"keyward serve --lis", "keyward serve --listen"},
      {"keyward serve --log-level=w", "keyward serve --log-level=warn"},
  };
  for (const auto& [line, completed] : cases) {
    const ProcessResult r = RunProcess(
        {"zsh", "-f", "-c", kZshComplete, "zsh", Path("zsh-completion"), line, completed});
    EXPECT_EQ(r.exit_code, 0) << line << ": " << r.out << r.err;
  }
}

// The long name of every `keyward serve` option, read from its --help.
std::set<std::string> ServeOptions() {
  const ProcessResult help = RunKeyward({"serve", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  std::set<std::string> names;
  const std::regex option_line(R"(^\s+(?:-\w,)?--([a-z0-9-]+))");
  std::istringstream lines(help.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, option_line)) names.insert(m[1]);
  }
  return names;
}

TEST_F(GeneratedTest, ConfigHoldsEveryServeSettingOnce) {
  const std::string conf = ReadFile(Path("config/keyward.conf"));
  std::set<std::string> names = ServeOptions();
  ASSERT_THAT(names, IsSupersetOf({"listen", "data-dir", "log-level", "network-threads"}));
  names.erase("help");
  names.erase("config");
  for (const std::string& name : names) {
    const std::regex line("(^|\n)(# )?" + name + " =");
    const auto n =
        std::distance(std::sregex_iterator(conf.begin(), conf.end(), line), std::sregex_iterator());
    EXPECT_EQ(n, 1) << name;
  }
  EXPECT_THAT(conf, HasSubstr("\ndata-dir = /var/lib/keyward\n"));
  EXPECT_THAT(conf, HasSubstr("\n# listen = 127.0.0.1:8080\n"));
  EXPECT_THAT(conf, Not(HasSubstr("config =")));
}

TEST_F(GeneratedTest, HiddenAndStrict) {
  EXPECT_THAT(RunKeyward({"--help"}).out, Not(HasSubstr("generate")));
  EXPECT_EQ(RunKeyward({"generate", "nonsense", "--out", Path("x")}).exit_code, 2);
  const ProcessResult unknown =
      RunKeyward({"generate", "config", "--out", Path("x"), "--set", "no-such=1"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("no-such"));
  EXPECT_EQ(RunKeyward({"generate", "man", "--out", Path("x"), "--set", "listen=1"}).exit_code, 2);
}

// The build's copy (CMake target keyward_generated), which the Debian package installs, is
// what the binary writes now.
TEST_F(GeneratedTest, BuildCopyIsCurrent) {
  const std::string built = KEYWARD_GENERATED_DIR;
  EXPECT_EQ(ReadFile(built + "/conf/keyward.conf"), ReadFile(Path("config/keyward.conf")));
  EXPECT_EQ(ReadFile(built + "/completion/keyward.bash"),
            ReadFile(Path("bash-completion/keyward.bash")));
  EXPECT_EQ(ReadFile(built + "/completion/_keyward"), ReadFile(Path("zsh-completion/_keyward")));
  for (const auto& entry : std::filesystem::directory_iterator(Path("man"))) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(ReadFile(built + "/man/" + name), ReadFile(entry.path().string())) << name;
  }
}

}  // namespace
}  // namespace keyward::testing
