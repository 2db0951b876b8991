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
  // Later versions of the file still hold the key: it was added once.
  Write("repo/conf/my app.env", "# settings, edited\n# twice\nAPI_KEY=" + key + "\n");
  Commit("edit settings");
  std::filesystem::remove(repo_ + "/conf/my app.env");
  Commit("remove the key");
  // The same content again later: the blob is scanned once, at the commit that added it.
  Write("repo/copy.env", env_text);
  Commit("copy");
  const std::string copied = Head();
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
  // --exclude applies to the paths in history, a folder's to everything under it; the blob
  // excluded under conf/ is then found where it first appears at a path kept: copy.env.
  ProcessResult excluded = RunKeyward({"scan", "--git", repo_, "--exclude", "conf", "-o", "json"});
  EXPECT_EQ(excluded.exit_code, 1) << excluded.err;
  expected = {{"copy.env", 2, 9, MaskKey(key), copied}, {"side.js", 1, 4, MaskKey(side_key), side}};
  EXPECT_EQ(Rows(excluded.out), expected) << excluded.out;
  EXPECT_EQ(RunKeyward({"scan", "--git", repo_, "--exclude", "conf", "--exclude", "*.js",
                        "--exclude", "copy.env"})
                .exit_code,
            0);
  // The working tree holds the untracked key: scanning files finds it, history does not.
  EXPECT_EQ(RunKeyward({"scan", repo_}).exit_code, 1);
}

TEST_F(ScanGitTest, ABlobMovedFromAnExcludedPathIsFoundAtItsNewPath) {
  const std::string key = GenerateKey("kw");
  Write("repo/vendor/settings.env", "API_KEY=" + key + "\n");
  Commit("vendored");
  Git(repo_, {"mv", "vendor/settings.env", "settings.env"});
  Commit("moved");
  const std::string moved = Head();
  ProcessResult r = RunKeyward({"scan", "--git", repo_, "--exclude", "vendor", "-o", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(Rows(r.out), (std::vector<FindingRow>{{"settings.env", 1, 9, MaskKey(key), moved}}))
      << r.out;
}

TEST_F(ScanGitTest, AKeyFirstSeenInAMergeCommitIsFoundWithTheMerge) {
  Write("repo/a.txt", "a\n");
  Commit("base");
  Git(repo_, {"checkout", "-q", "-b", "side"});
  Write("repo/b.txt", "b\n");
  Commit("side");
  Git(repo_, {"checkout", "-q", "main"});
  Write("repo/c.txt", "c\n");
  Commit("main");
  // The key appears only in the merge's own tree, in neither parent.
  Git(repo_, {"merge", "-q", "--no-ff", "--no-commit", "side"});
  const std::string key = GenerateKey("kw");
  Write("repo/merged.txt", "token " + key + "\n");
  Commit("merge side");
  const std::string merge = Head();
  ProcessResult r = RunKeyward({"scan", "--git", repo_, "-o", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(Rows(r.out), (std::vector<FindingRow>{{"merged.txt", 1, 7, MaskKey(key), merge}}))
      << r.out;
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

  // A binary file (NUL bytes, not UTF-8) holding a key: git diff prints only "Binary files
  // differ" unless asked for text.
  const std::string binary_key = GenerateKey("kw");
  Write("repo/logo.bin", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff", 17) + binary_key +
                             std::string("\0\xfe\n\0", 4));
  ProcessResult binary = commit("with a binary key");
  EXPECT_NE(binary.exit_code, 0);
  EXPECT_NE(binary.err.find(MaskKey(binary_key)), std::string::npos) << binary.err;
  EXPECT_EQ(Git(repo_, {"log", "--format=%s"}), "clean\n");
  std::filesystem::remove(repo_ + "/logo.bin");

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
  const std::string leak = Head();
  std::filesystem::remove(repo_ + "/b.txt");
  Commit("unleak");
  auto [leaked, leaked_results] = run_in_clone("leaked");
  EXPECT_EQ(leaked.exit_code, 1) << leaked.err;
  ASSERT_EQ(leaked_results, 1u);
  // The result names the commit that added the key, not the one that removed it.
  const boost::json::value sarif = boost::json::parse(ReadFile(dir_ + "/leaked/keyward.sarif"));
  const auto& result = sarif.at("runs").at(0).at("results").at(0);
  EXPECT_EQ(result.at("properties").at("commit").as_string(), leak);
  EXPECT_EQ(result.at("locations").at(0).at("physicalLocation").at("artifactLocation").at("uri"),
            "b.txt");
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
