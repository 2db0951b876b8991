#include "scan/file_scanner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/random.h"
#include "core/api_key.h"
#include "scan/text_scanner.h"

namespace keyward::scan {
namespace {

namespace fs = std::filesystem;

// A file larger than one read block (so ScanPath maps it) in a fresh folder, removed after.
class FileScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    dir_ = fs::temp_directory_path() /
           ("kw-file-scanner-" + RandomString(8, "abcdefghijklmnopqrstuvwxyz"));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // 3 MB of text lines with a key at the start, one across the first 1 MB boundary and one at
  // the end; written to `path`, returned.
  std::string Write(const fs::path& path) {
    std::string text;
    keys_ = {GenerateKey("kw"), GenerateKey("kw"), GenerateKey("kw")};
    text += "token=" + keys_[0] + "\n";
    while (text.size() + 28 < kScanBlockBytes - 30) text += "lorem ipsum dolor sit amet\n";
    text += std::string(kScanBlockBytes - 30 - text.size() - 1, 'z') + "\n";
    text += "x=" + keys_[1] + "\n";  // from 28 bytes before the boundary to 24 after
    while (text.size() < 3 * kScanBlockBytes) text += "consectetur adipiscing elit\n";
    text += "y=" + keys_[2];
    std::ofstream(path, std::ios::binary) << text;
    return text;
  }

  fs::path dir_;
  std::vector<std::string> keys_;
};

TEST_F(FileScannerTest, ALargeFileMappedGivesWhatTheTextGives) {
  const fs::path file = dir_ / "big.txt";
  const std::string text = Write(file);
  ASSERT_EQ(text.find(keys_[1]), kScanBlockBytes - 28);
  const KeyFinder finder({"kw"});
  ScanResult result;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const bool mapped = ScanMappedFile(fd, text.size(), file.string(), finder, result);
  ::close(fd);
  ASSERT_TRUE(mapped);
  std::vector<Finding> expected;
  ScanText(text, finder, file.string(), "", expected);
  ASSERT_EQ(expected.size(), 3u);
  EXPECT_TRUE(result.errors.empty());
  ASSERT_EQ(result.findings.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(result.findings[i].key, keys_[i]);
    EXPECT_EQ(result.findings[i].line, expected[i].line);
    EXPECT_EQ(result.findings[i].column, expected[i].column);
  }
}

// Cut short between the mapping and the search, the file's missing pages would raise SIGBUS and
// kill the scan: they read as zeros instead, and the file is reported as changed.
TEST_F(FileScannerTest, AFileCutShortWhileMappedIsReportedAsChanged) {
  const fs::path file = dir_ / "shrinks.txt";
  const std::string text = Write(file);
  const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ScanResult result;
  const bool mapped = ScanMappedFile(fd, text.size(), "shrinks.txt", KeyFinder({"kw"}), result,
                                     [&] { ASSERT_EQ(::ftruncate(fd, 1'500'000), 0); });
  ::close(fd);
  ASSERT_TRUE(mapped);
  ASSERT_EQ(result.findings.size(), 2u) << "the keys before the cut";
  EXPECT_EQ(result.findings[0].key, keys_[0]);
  EXPECT_EQ(result.findings[1].key, keys_[1]);
  EXPECT_EQ(result.errors,
            std::vector<std::string>{"shrinks.txt: changed while being scanned (now shorter)"});
}

// Cut within its last page, the file raises no SIGBUS (the page's tail reads as zeros): the size
// it has after the search tells.
TEST_F(FileScannerTest, AFileCutInItsLastPageIsReportedAsChanged) {
  const fs::path file = dir_ / "tail.txt";
  const std::string text = Write(file);
  const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ScanResult result;
  const bool mapped = ScanMappedFile(fd, text.size(), "tail.txt", KeyFinder({"kw"}), result, [&] {
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(text.size() - 10)), 0);
  });
  ::close(fd);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(result.findings.size(), 2u) << "the last key lost its end";
  EXPECT_EQ(result.errors,
            std::vector<std::string>{"tail.txt: changed while being scanned (now shorter)"});
}

// What ScanPath does with a file larger than a block: the same findings and no error.
TEST_F(FileScannerTest, ScanPathFindsTheKeysOfALargeFile) {
  const fs::path file = dir_ / "path.txt";
  Write(file);
  ScanResult result;
  ScanPath(file.string(), {}, KeyFinder({"kw"}), result);
  EXPECT_TRUE(result.errors.empty());
  ASSERT_EQ(result.findings.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(result.findings[i].key, keys_[i]);
}

}  // namespace
}  // namespace keyward::scan
