// Runs after the whole integration suite (a ctest fixture cleanup): every log and database the
// tests left in the artifacts folder (server and nginx logs, SQLite databases with their WAL
// and shared memory, those of the browser test's server too) and the PostgreSQL cluster of
// scripts/with-postgres (its data files, WAL and log) must hold none of the API keys,
// passwords and session tokens the tests created and recorded with RememberSecret.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "harness.h"

namespace keyward::testing {
namespace {

namespace fs = std::filesystem;

std::string FromHex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// Finds any of many secrets in large files: every secret is at least kWindow bytes long, so
// each position of a file is looked up by its first kWindow bytes in a hash map, and only a
// hit is compared in full. One pass per file, whatever the number of secrets. A bit per
// possible first three bytes turns almost every position away before the hash map (which,
// under the sanitizers, costs most of the scan).
class SecretFinder {
 public:
  static constexpr std::size_t kWindow = 8;

  explicit SecretFinder(const std::vector<std::string>& secrets) {
    for (const auto& s : secrets) {
      if (s.size() < kWindow) continue;
      by_prefix_[Prefix(s.data())].push_back(s);
      first3_[First3(s.data())] = true;
    }
  }
  std::size_t size() const { return by_prefix_.size(); }

  // The secrets found in `content`, each once.
  std::vector<std::string> FindIn(const std::string& content) const {
    std::map<std::string, bool> found;
    if (content.size() < kWindow) return {};
    for (std::size_t i = 0; i + kWindow <= content.size(); ++i) {
      if (!first3_[First3(content.data() + i)]) continue;
      auto it = by_prefix_.find(Prefix(content.data() + i));
      if (it == by_prefix_.end()) continue;
      for (const auto& s : it->second) {
        if (content.compare(i, s.size(), s) == 0) found[s] = true;
      }
    }
    std::vector<std::string> out;
    out.reserve(found.size());
    for (const auto& [s, _] : found) out.push_back(s);
    return out;
  }

 private:
  static std::uint64_t Prefix(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static std::size_t First3(const char* p) {
    return static_cast<unsigned char>(p[0]) | static_cast<unsigned char>(p[1]) << 8 |
           static_cast<std::size_t>(static_cast<unsigned char>(p[2])) << 16;
  }
  std::unordered_map<std::uint64_t, std::vector<std::string>> by_prefix_;
  std::vector<bool> first3_ = std::vector<bool>(std::size_t{1} << 24);
};

std::vector<std::string> LoadSecrets(const fs::path& dir) {
  std::vector<std::string> secrets;
  if (!fs::exists(dir)) return secrets;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) secrets.push_back(FromHex(line));
    }
  }
  return secrets;
}

struct ScanResult {
  std::size_t files = 0;
  std::size_t bytes = 0;
  std::size_t databases = 0;  // SQLite main files and WALs
  std::vector<std::string> findings;
};

bool IsLogOrDatabase(const std::string& name) {
  for (const char* suffix : {".log", ".db", ".db-wal", ".db-shm"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

// Adds the regular files under `dir` to `files`. The PostgreSQL cluster is scanned while it runs
// (other tests may still use it): a file or folder it removes meanwhile (temporary files,
// recycled WAL) is skipped; any other error fails the test.
void Walk(const fs::path& dir, std::vector<fs::path>& files) {
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::error_code status_ec;
    const fs::file_status status = it->symlink_status(status_ec);
    if (status_ec) continue;  // removed since listed
    if (fs::is_directory(status)) {
      Walk(it->path(), files);
    } else if (fs::is_regular_file(status)) {
      files.push_back(it->path());
    }
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    ADD_FAILURE() << dir << ": " << ec.message();
  }
}

// Scans the files under `root`; only logs and databases unless `every_file` (a CLI's config
// file holds its session token by design, as DataOS's does).
void Scan(const fs::path& root, bool every_file, const SecretFinder& finder, ScanResult& result) {
  if (!fs::exists(root)) return;
  std::vector<fs::path> files;
  Walk(root, files);
  for (const fs::path& path : files) {
    const std::string name = path.filename().string();
    if (!every_file && !IsLogOrDatabase(name)) continue;
    if (name.ends_with(".db") || name.ends_with(".db-wal")) ++result.databases;
    const std::string content = ReadFile(path.string());
    ++result.files;
    result.bytes += content.size();
    for (const auto& secret : finder.FindIn(content)) {
      result.findings.push_back(path.string() + ": a secret starting " + secret.substr(0, 6) + "…");
    }
  }
}

// The scanner itself finds a secret wherever it is, or this whole check would prove nothing.
TEST(SecretFinderTest, FindsSecretsAtAnyOffsetAndOnlyWholeOnes) {
  const std::string key = "kw_2Cx9YpQe0aZ7mNfR4tLs8uVb1WdKg3HhJ6oPqXyTnEm1a2B3c";
  SecretFinder finder({key, "a-password-of-the-tests"});
  EXPECT_EQ(finder.FindIn(std::string("prefix\0bytes ", 13) + key + " suffix").size(), 1u);
  EXPECT_EQ(finder.FindIn(key).size(), 1u);
  EXPECT_EQ(finder.FindIn(std::string(3, '\0') + "a-password-of-the-tests").size(), 1u);
  EXPECT_TRUE(finder.FindIn(key.substr(0, key.size() - 1)).empty());
  EXPECT_TRUE(finder.FindIn("a-password-of-the-test").empty());
}

TEST(SecretsScanTest, NoSecretInAnyFileTheSuiteLeft) {
  const std::string artifacts = ArtifactsDir();
  ASSERT_FALSE(artifacts.empty()) << "KEYWARD_TEST_ARTIFACTS is not set";
  const std::vector<std::string> secrets = LoadSecrets(fs::path(artifacts) / "secrets");
  const SecretFinder finder(secrets);
  // Every integration test signs in at least once; none recorded means the tests did not
  // record their secrets, and the scan would look for nothing. (The whole suite records about
  // 10,000; ctest -R runs a part of it.)
  ASSERT_GE(finder.size(), 1u) << "no recorded secrets";

  ScanResult result;
  Scan(fs::path(artifacts) / "files", /*every_file=*/false, finder, result);
  std::size_t pg_files = 0;
  if (const char* pg = std::getenv("KEYWARD_TEST_PG_DATA"); pg != nullptr) {
    const std::size_t before = result.files;
    Scan(fs::path(pg).parent_path(), /*every_file=*/true, finder, result);  // cluster and log
    pg_files = result.files - before;
  }
  std::cout << "scanned " << result.files << " files (" << result.bytes / 1024 << " KiB, "
            << result.databases << " SQLite databases and WALs, " << pg_files
            << " PostgreSQL files) for " << secrets.size() << " secrets\n";
  EXPECT_GE(result.databases, 1u) << "the suite's databases were not kept for the scan";
  for (const auto& finding : result.findings) ADD_FAILURE() << finding;
}

}  // namespace
}  // namespace keyward::testing
