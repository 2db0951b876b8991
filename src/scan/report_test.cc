#include "scan/report.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/random.h"
#include "core/api_key.h"
#include "scan/check.h"

namespace keyward::scan {
namespace {

namespace json = boost::json;

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    key_ = GenerateKey("kw");
    Finding plain = Make("src/a b.js", 3, 7, 5);
    Finding in_git = Make("x.env", 1, 1, 1);
    in_git.commit = "abc123";
    findings_ = {plain, in_git};
  }
  Finding Make(const std::string& path, std::size_t line, std::size_t column,
               std::size_t utf16_column) const {
    Finding f;
    f.path = path;
    f.line = line;
    f.column = column;
    f.utf16_column = utf16_column;
    f.length = key_.size();
    f.key = key_;
    return f;
  }

  std::string key_;
  std::vector<Finding> findings_;
};

TEST_F(ReportTest, TextHasOneMaskedLinePerFinding) {
  EXPECT_EQ(RenderText(findings_),
            "src/a b.js:3:7: " + MaskKey(key_) + "\nabc123:x.env:1:1: " + MaskKey(key_) + "\n");
  findings_[0].live = true;
  findings_[0].revoked = true;
  findings_[1].live = false;
  EXPECT_EQ(RenderText(findings_), "src/a b.js:3:7: " + MaskKey(key_) +
                                       " (live, revoked)\nabc123:x.env:1:1: " + MaskKey(key_) +
                                       " (not live)\n");
}

TEST_F(ReportTest, TextEscapesControlBytesAndInvalidUtf8InPaths) {
  std::vector<Finding> hostile = {Make("evil\x1b]0;pwned\a\nname\\x.js", 1, 2, 2),
                                  Make("caf\xc3\xa9/\xc2\x9b"
                                       "2J/\xff\xc3.txt",
                                       3, 4, 4)};
  hostile[1].commit = "abc123";
  const std::string text = RenderText(hostile);
  EXPECT_EQ(text, "evil\\x1b]0;pwned\\x07\\x0aname\\\\x.js:1:2: " + MaskKey(key_) +
                      "\nabc123:caf\xc3\xa9/\\xc2\\x9b"
                      "2J/\\xff\\xc3.txt:3:4: " +
                      MaskKey(key_) + "\n");
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    EXPECT_TRUE(b == '\n' || (b >= 0x20 && b != 0x7f)) << static_cast<int>(b);
  }
  EXPECT_EQ(EscapeForTerminal("plain/path \xe2\x80\xa6.js"), "plain/path \xe2\x80\xa6.js");
  // Overlong, surrogate and cut-short sequences are invalid: every byte escaped.
  EXPECT_EQ(EscapeForTerminal("\xc0\xaf|\xed\xa0\x80|\xe2\x80"),
            "\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x80");
}

TEST_F(ReportTest, JsonAndSarifStayValidWithPathsThatAreNotUtf8) {
  std::vector<Finding> hostile = {Make("bad\xff\xfe name\xc3.js", 1, 1, 1),
                                  Make("ok\xc3\xa9\x1b.js", 2, 1, 1)};
  const json::value parsed = json::parse(RenderJson(hostile));
  const auto& list = parsed.at("findings").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("path"), "bad\xef\xbf\xbd\xef\xbf\xbd name\xef\xbf\xbd.js");
  EXPECT_EQ(list[1].at("path"), "ok\xc3\xa9\x1b.js");  // valid UTF-8: JSON escapes the ESC
  const json::value sarif = json::parse(RenderSarif(hostile, "1.0"));
  const auto& uri = sarif.at("runs")
                        .at(0)
                        .at("results")
                        .at(0)
                        .at("locations")
                        .at(0)
                        .at("physicalLocation")
                        .at("artifactLocation")
                        .at("uri");
  EXPECT_EQ(uri, "bad%FF%FE%20name%C3.js");
  EXPECT_EQ(ValidUtf8("\xf4\x90\x80\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(ReportTest, JsonHasTheContractFieldsAndNoKey) {
  findings_[1].live = true;
  const std::string out = RenderJson(findings_);
  EXPECT_EQ(out.find(key_), std::string::npos);
  EXPECT_EQ(json::parse(out),
            json::parse(R"({"findings": [
      {"path": "src/a b.js", "line": 3, "column": 7, "masked": ")" +
                        MaskKey(key_) + R"("},
      {"path": "x.env", "line": 1, "column": 1, "masked": ")" +
                        MaskKey(key_) + R"(", "commit": "abc123", "live": true}]})"));
}

TEST_F(ReportTest, SarifCountsColumnsInUtf16UnitsAndSaysSo) {
  const std::string out = RenderSarif(findings_, "1.2.3");
  EXPECT_EQ(out.find(key_), std::string::npos);
  const json::value sarif = json::parse(out);
  EXPECT_EQ(sarif.at("version"), "2.1.0");
  const json::value& run = sarif.at("runs").at(0);
  EXPECT_EQ(run.at("columnKind"), "utf16CodeUnits");
  EXPECT_EQ(run.at("tool").at("driver").at("version"), "1.2.3");
  EXPECT_EQ(run.at("tool").at("driver").at("rules").at(0).at("id"), "keyward-api-key");
  const json::value& first = run.at("results").at(0);
  EXPECT_EQ(first.at("ruleId"), "keyward-api-key");
  const json::value& location = first.at("locations").at(0).at("physicalLocation");
  EXPECT_EQ(location.at("artifactLocation").at("uri"), "src/a%20b.js");
  EXPECT_EQ(location.at("region"), json::parse(R"({"startLine": 3, "startColumn": 5,
                                                   "endColumn": )" +
                                               std::to_string(5 + key_.size()) + "}"));
  EXPECT_EQ(run.at("results").at(1).at("properties").at("commit"), "abc123");
}

TEST(PathUriTest, EncodesAndMarksAbsolutePaths) {
  EXPECT_EQ(PathUri("./src/a.js"), "src/a.js");
  EXPECT_EQ(PathUri("/tmp/x y/%.txt"), "file:///tmp/x%20y/%25.txt");
  EXPECT_EQ(PathUri("-"), "-");
  EXPECT_EQ(PathUri("é"), "%C3%A9");
}

TEST_F(ReportTest, CheckSendsDistinctHashesAndMarksFindingsFromTheAnswer) {
  const std::string other = GenerateKey("kw");
  Finding f = Make("y", 1, 1, 1);
  f.key = other;
  findings_.push_back(f);
  const std::vector<std::string> hashes = DistinctHashes(findings_);
  ASSERT_EQ(hashes.size(), 2u);
  EXPECT_EQ(hashes[0].size(), 64u);
  EXPECT_EQ(hashes[0].find_first_not_of("0123456789abcdef"), std::string::npos);
  const json::value request = CheckRequest(hashes, 0, true);
  EXPECT_EQ(request, (json::object{{"hashes", {hashes[0], hashes[1]}}, {"revoke", true}}));
  EXPECT_EQ(json::serialize(request).find(key_), std::string::npos);
  const json::value answer =
      json::object{{"results",
                    {{{"hash", hashes[0]}, {"live", true}, {"revoked", true}, {"user", "u"}},
                     {{"hash", hashes[1]}, {"live", false}, {"revoked", false}}}}};
  ASSERT_TRUE(ApplyCheckAnswer(answer, true, findings_).ok());
  EXPECT_EQ(findings_[0].live, true);
  EXPECT_EQ(findings_[1].revoked, true);
  EXPECT_EQ(findings_[2].live, false);
  EXPECT_FALSE(
      ApplyCheckAnswer(json::parse(R"({"results": [{"hash": 1}]})"), true, findings_).ok());
  EXPECT_FALSE(ApplyCheckAnswer(json::parse("[]"), false, findings_).ok());
}

TEST(CheckRequestTest, SplitsIntoRequestsOfAtMostTheServersLimit) {
  std::vector<std::string> hashes(kMaxCheckHashes + 5, std::string(64, 'a'));
  EXPECT_EQ(CheckRequest(hashes, 0, false).at("hashes").as_array().size(), kMaxCheckHashes);
  EXPECT_EQ(CheckRequest(hashes, kMaxCheckHashes, false).at("hashes").as_array().size(), 5u);
}

}  // namespace
}  // namespace keyward::scan
