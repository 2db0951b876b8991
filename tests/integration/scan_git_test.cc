// Acceptance 2 of issue 17 and the examples of docs/leaks.md's "Scanning files and git
// history": `keyward scan --git` finds a key added in one commit and deleted in the next with
// that commit's id, on any branch, and not a key that was never committed; the pre-commit hook
// refuses a commit adding a key and lets others through; the CI job's run: steps fail on a
// history with a key and write SARIF; the text output looks as the doc shows.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <regex>

#include "scan_fixture.h"

namespace keyward::testing {
namespace {

class ScanGitTest : public ScanTestBase {
 protected:
  void SetUp() override {
    ScanTestBase::SetUp();
    repo_ = dir_ + "/repo";
    GitInit(repo_);
  }
  std::string Head() const {
    std::string id = Git(repo_, {"rev-parse", "HEAD"});
    return id.substr(0, id.find('\n'));
  }
  void Commit(const std::string& message) {
    Git(repo_, {"add", "-A"});
    Git(repo_, {"commit", "-q", "-m", message});
  }
  std::string repo_;
};

TEST_F(ScanGitTest, FindsAKeyDeletedFromHistoryWithTheCommitThatAddedIt) {
  Write("repo/README.md", "hello\n");
  Commit("first");
  const std::string key = GenerateKey("kw");
  const std::string env_text = "# settings\nAPI_KEY=" + key + "\n";
  Write("repo/conf/my app.env", env_text);
  Commit("add settings");
  const std::string added = Head();
  std::filesystem::remove(repo_ + "/conf/my app.env");
  Commit("remove the key");
  // The same content again later: the blob is scanned once, at the commit that added it.
  Write("repo/copy.env", env_text);
  Commit("copy");
  Git(repo_, {"rm", "-q", "copy.env"});
  Commit("remove the copy");
  // A branch that is not checked out, and a key only in the working tree.
  Git(repo_, {"checkout", "-q", "-b", "side"});
  const std::string side_key = GenerateKey("kw");
  Write("repo/side.js", "x='" + side_key + "'");
  Commit("side");
  const std::string side = Head();
  Git(repo_, {"checkout", "-q", "main"});
  Write("repo/untracked.txt", GenerateKey("kw"));

  ProcessResult r = RunKeyward({"scan", "--git", repo_, "-o", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::vector<FindingRow> expected = {{"conf/my app.env", 2, 9, MaskKey(key), added},
                                      {"side.js", 1, 4, MaskKey(side_key), side}};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Rows(r.out), expected) << r.out;

  ProcessResult text = RunKeyward({"scan", "--git", repo_});
  EXPECT_EQ(text.exit_code, 1) << text.err;
  EXPECT_NE(text.out.find(added + ":conf/my app.env:2:9: " + MaskKey(key) + "\n"),
            std::string::npos)
      << text.out;
  // --exclude applies to the paths in history, a folder's to everything under it.
  ProcessResult excluded = RunKeyward({"scan", "--git", repo_, "--exclude", "conf", "-o", "json"});
  EXPECT_EQ(excluded.exit_code, 1) << excluded.err;
  EXPECT_EQ(Rows(excluded.out),
            (std::vector<FindingRow>{{"side.js", 1, 4, MaskKey(side_key), side}}));
  EXPECT_EQ(
      RunKeyward({"scan", "--git", repo_, "--exclude", "conf", "--exclude", "*.js"}).exit_code, 0);
  // The working tree holds the untracked key: scanning files finds it, history does not.
  EXPECT_EQ(RunKeyward({"scan", repo_}).exit_code, 1);
}

TEST_F(ScanGitTest, ACleanHistoryExitsZeroAndNoRepositoryExitsTwo) {
  Write("repo/a.txt", "no keys, only kw_ and " + WithTypo(GenerateKey("kw")) + "\n");
  Commit("clean");
  ProcessResult r = RunKeyward({"scan", "--git", repo_, "-o", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Rows(r.out).empty()) << r.out;
  EXPECT_EQ(RunKeyward({"scan", "--git", dir_ + "/not-a-repo"}).exit_code, 2);
  EXPECT_EQ(RunKeyward({"scan", "--git", repo_, repo_ + "/a.txt"}).exit_code, 2);
}

TEST_F(ScanGitTest, ThePreCommitHookOfTheDocsRefusesACommitAddingAKey) {
  const std::string hook = DocBlock("scan-hook");
  ASSERT_NE(hook.find("keyward scan"), std::string::npos) << hook;
  Write("repo/.git/hooks/pre-commit", hook);
  std::filesystem::permissions(repo_ + "/.git/hooks/pre-commit", std::filesystem::perms::owner_all);
  auto commit = [&](const std::string& message) {
    return Shell(repo_, "git add -A && git commit -q -m '" + message + "'");
  };
  Write("repo/app.py", "print('hello')\n");
  ProcessResult clean = commit("clean");
  EXPECT_EQ(clean.exit_code, 0) << clean.err;

  const std::string key = GenerateKey("kw");
  Write("repo/app.py", "print('hello')\nKEY = '" + key + "'\n");
  ProcessResult refused = commit("with a key");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("adds an API key"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(MaskKey(key)), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find(key), std::string::npos);
  EXPECT_EQ(Git(repo_, {"log", "--format=%s"}), "clean\n");

  // Staged without the key, the key still in the working tree: the commit holds no key.
  Write("repo/app.py", "print('hello, world')\n");
  Git(repo_, {"add", "app.py"});
  Write("repo/app.py", "print('hello, world')\nKEY = '" + key + "'\n");
  ProcessResult staged_clean = Shell(repo_, "git commit -q -m 'staged is clean'");
  EXPECT_EQ(staged_clean.exit_code, 0) << staged_clean.err;

  // Committed with --no-verify, then removed: removing a key passes.
  Git(repo_, {"add", "-A"});
  Git(repo_, {"commit", "-q", "--no-verify", "-m", "key slipped in"});
  Write("repo/app.py", "print('hello, world')\n");
  ProcessResult removal = commit("remove the key");
  EXPECT_EQ(removal.exit_code, 0) << removal.err;
}

TEST_F(ScanGitTest, TheCiJobOfTheDocsFailsOnAKeyInHistoryAndWritesSarif) {
  const YAML::Node workflow = YAML::Load(DocBlock("scan-ci"));
  std::vector<std::string> runs;
  for (const auto& job : workflow["jobs"]) {
    for (const auto& step : job.second["steps"]) {
      if (step["run"]) runs.push_back(step["run"].as<std::string>());
    }
  }
  ASSERT_EQ(runs.size(), 1u);
  // What actions/checkout with fetch-depth 0 gives: a clone with the whole history.
  auto run_in_clone = [&](const std::string& name) {
    const std::string clone = dir_ + "/" + name;
    EXPECT_EQ(RunProcess({"git", "clone", "-q", repo_, clone}).exit_code, 0);
    ProcessResult r = Shell(clone, runs[0]);
    boost::system::error_code ec;
    const boost::json::value sarif = boost::json::parse(ReadFile(clone + "/keyward.sarif"), ec);
    EXPECT_FALSE(ec);
    return std::make_pair(r, ec ? 0 : sarif.at("runs").at(0).at("results").as_array().size());
  };
  Write("repo/a.txt", "nothing\n");
  Commit("clean");
  auto [clean, clean_results] = run_in_clone("clean");
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_EQ(clean_results, 0u);

  Write("repo/b.txt", GenerateKey("kw"));
  Commit("leak");
  std::filesystem::remove(repo_ + "/b.txt");
  Commit("unleak");
  auto [leaked, leaked_results] = run_in_clone("leaked");
  EXPECT_EQ(leaked.exit_code, 1) << leaked.err;
  EXPECT_EQ(leaked_results, 1u);
}

TEST_F(ScanGitTest, TheTextOutputLooksAsTheDocsShow) {
  const std::string shown = DocBlock("scan-text");
  const std::regex line_re(R"(([^:\n]+):(\d+):(\d+): kw_\w{4}…\w{4}\n)");
  const std::regex masked_re(R"(kw_\w{4}…\w{4})");
  int lines = 0;
  for (std::sregex_iterator it(shown.begin(), shown.end(), line_re), end; it != end; ++it) {
    const int line = std::stoi((*it)[2]);
    const int column = std::stoi((*it)[3]);
    std::string content;
    for (int i = 1; i < line; ++i) content += "x = 1\n";
    content += std::string(column - 1, ' ') + GenerateKey("kw") + "\n";
    Write("docs-example/" + (*it)[1].str(), content);
    ++lines;
  }
  ASSERT_EQ(lines, 2) << shown;
  ProcessResult r = Shell(dir_ + "/docs-example", "keyward scan");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(std::regex_replace(r.out, masked_re, "kw_…"),
            std::regex_replace(shown, masked_re, "kw_…"));
}

}  // namespace
}  // namespace keyward::testing
