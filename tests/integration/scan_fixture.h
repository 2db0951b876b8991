// What the tests of `keyward scan` share (scan_test.cc, scan_git_test.cc, scan_check_test.cc):
// a private folder under /tmp removed afterwards (not the artifacts folder: a corpus of 50 MB
// has no business staying there), files written whole, git run in a folder, and the findings
// of `-o json` as comparable rows.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/random.h"
#include "core/api_key.h"
#include "harness.h"

namespace keyward::testing {

// path, line, column, masked key, commit ("" when none)
using FindingRow = std::tuple<std::string, std::int64_t, std::int64_t, std::string, std::string>;

class ScanTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    std::string templ = (std::filesystem::temp_directory_path() / "keyward-scan-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `content` to dir_/`relative` (folders made as needed); returns the full path.
  std::string Write(const std::string& relative, const std::string& content) const {
    const std::filesystem::path path = std::filesystem::path(dir_) / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  // Runs git with `args` in `repo`, failing the test unless it exits 0; returns its output.
  static std::string Git(const std::string& repo, std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "-C", repo});
    ProcessResult r = RunProcess(args, {{"GIT_CONFIG_GLOBAL", "/dev/null"}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  // A new repository in `repo` with a local identity.
  static void GitInit(const std::string& repo) {
    std::filesystem::create_directories(repo);
    Git(repo, {"init", "-q", "-b", "main"});
    Git(repo, {"config", "user.name", "Scan Test"});
    Git(repo, {"config", "user.email", "scan-test@example.com"});
    Git(repo, {"config", "commit.gpgsign", "false"});
  }

  // The findings of a `-o json` output, sorted.
  static std::vector<FindingRow> Rows(const std::string& json_text) {
    std::vector<FindingRow> rows;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(json_text, ec);
    EXPECT_FALSE(ec) << json_text;
    if (ec) return rows;
    for (const boost::json::value& f : v.at("findings").as_array()) {
      const boost::json::object& o = f.as_object();
      rows.emplace_back(std::string(o.at("path").as_string()), o.at("line").as_int64(),
                        o.at("column").as_int64(), std::string(o.at("masked").as_string()),
                        o.contains("commit") ? std::string(o.at("commit").as_string()) : "");
    }
    std::sort(rows.begin(), rows.end());
    return rows;
  }

 public:
  // The row of a key planted at byte `offset` of `content`, shown as `path`.
  static FindingRow RowAt(const std::string& path, const std::string& content, std::size_t offset,
                          const std::string& key, const std::string& commit = "") {
    const std::size_t line_start = offset == 0 ? 0 : content.rfind('\n', offset - 1) + 1;
    const auto line = 1 + std::count(content.begin(),
                                     content.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
    return {path, line, static_cast<std::int64_t>(offset - line_start + 1), MaskKey(key), commit};
  }

  // The rows of keys at increasing byte offsets of one large `content`: lines counted once,
  // from one key to the next.
  static std::vector<FindingRow> RowsAt(
      const std::string& path, const std::string& content,
      const std::vector<std::pair<std::size_t, std::string>>& planted) {
    std::vector<FindingRow> rows;
    std::size_t pos = 0;
    std::size_t line = 1;
    std::size_t line_start = 0;
    for (const auto& [offset, key] : planted) {
      while (const void* nl = std::memchr(content.data() + pos, '\n', offset - pos)) {
        pos = static_cast<const char*>(nl) - content.data() + 1;
        line_start = pos;
        ++line;
      }
      pos = offset;
      rows.emplace_back(path, static_cast<std::int64_t>(line),
                        static_cast<std::int64_t>(offset - line_start + 1), MaskKey(key), "");
    }
    return rows;
  }

 protected:
  // The code block of docs/leaks.md that follows the comment "<!-- checked: `name`", without
  // its fences; fails the test when there is none.
  static std::string DocBlock(const std::string& name) {
    const std::string doc = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/leaks.md");
    const std::size_t mark = doc.find("<!-- checked: " + name + " ");
    const std::size_t open = doc.find("```", mark);
    const std::size_t body = doc.find('\n', open);
    const std::size_t close = doc.find("\n```", body);
    EXPECT_NE(mark, std::string::npos) << "docs/leaks.md lost its block " << name;
    if (mark == std::string::npos || close == std::string::npos) return "";
    return doc.substr(body + 1, close - body);
  }

  // Runs `script` with sh in folder `cwd`, with keyward on PATH and `env` added.
  static ProcessResult Shell(const std::string& cwd, const std::string& script,
                             std::map<std::string, std::string> env = {}) {
    env["PATH"] =
        std::filesystem::path(KeywardBinary()).parent_path().string() + ":" + std::getenv("PATH");
    env.try_emplace("GIT_CONFIG_GLOBAL", "/dev/null");
    env["SCAN_CWD"] = cwd;
    return RunProcess({"/bin/sh", "-c", "cd \"$SCAN_CWD\" && " + script}, env);
  }

  std::string dir_;
};

}  // namespace keyward::testing
