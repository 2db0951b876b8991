// Acceptance 1 of issue 17: `keyward scan` over a corpus the test generates — source, JSON,
// YAML, .env, URLs (one key with its '_' percent-encoded), minified JS, binary files and 50 MB
// of random base62 — finds exactly the planted keys of two prefixes, with path, line and
// column, and none of the near misses; --exclude, standard input, a clean folder and a path
// that cannot be read.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "scan_fixture.h"

namespace keyward::testing {
namespace {

constexpr std::size_t kBigFileBytes = 50 << 20;
constexpr std::size_t kLineChars = 100;  // of the big file, '\n' included

// splitmix64: fast, and good enough to make text look random.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

// `bytes` of base62 in lines of kLineChars.
std::string RandomBase62Lines(std::size_t bytes, Rng& rng) {
  static constexpr char kChars[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzAB";  // 64: 2 doubled
  std::string out(bytes, '\n');
  std::uint64_t bits = 0;
  int left = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    if (i % kLineChars == kLineChars - 1) continue;
    if (left == 0) {
      bits = rng.Next();
      left = 10;
    }
    out[i] = kChars[bits & 63];
    bits >>= 6;
    --left;
  }
  return out;
}

// A file's content while it is written, and the rows of the keys planted in it.
class Planter {
 public:
  explicit Planter(std::string shown) : shown_(std::move(shown)) {}
  Planter& Text(const std::string& text) {
    content_ += text;
    return *this;
  }
  // A key found as `key`, written as `written` (the same or percent-encoded).
  Planter& Key(const std::string& key, const std::string& written = "") {
    rows_.push_back(ScanTestBase::RowAt(shown_, content_ + "x", content_.size(), key));
    content_ += written.empty() ? key : written;
    return *this;
  }
  const std::string& content() const { return content_; }
  const std::vector<FindingRow>& rows() const { return rows_; }

 private:
  std::string shown_;
  std::string content_;
  std::vector<FindingRow> rows_;
};

class ScanTest : public ScanTestBase {
 protected:
  std::string Kw() { return GenerateKey("kw"); }
  std::string Acme() { return GenerateKey("acme"); }

  // Writes a Planter's file under dir_ and keeps its rows as expected.
  void Add(const std::string& relative, const std::function<void(Planter&)>& fill) {
    Planter p(dir_ + "/" + relative);
    fill(p);
    Write(relative, p.content());
    expected_.insert(expected_.end(), p.rows().begin(), p.rows().end());
  }

  // Every kind of near miss of a key, separated by spaces and newlines: none is a key.
  std::string NearMisses() {
    std::string k = Kw();
    std::string bad_checksum = k;
    bad_checksum.back() = bad_checksum.back() == '0' ? '1' : '0';
    return bad_checksum + "\n" + k.substr(0, k.size() - 1) + "\n" + k + "Z\n" +
           GenerateKey("other") + "\n" + k.substr(0, 30) + "\n" + k.substr(30) + "\nx" + k + "\n9" +
           k + "\nkw%5G" + k.substr(3) + "\nKW_" + k.substr(3) + "\n";
  }

  // The big file: random base62 in lines, the near misses in its first lines, and `keys`
  // keys planted further on (between spaces, each in a line of its own).
  void AddBigFile(Rng& rng, int keys) {
    const std::string relative = "data/big.txt";
    std::string content = RandomBase62Lines(kBigFileBytes, rng);
    const std::string misses = NearMisses();
    content.replace(0, misses.size(), misses);
    const std::size_t first = misses.size() / kLineChars + 2;
    const std::size_t per_key = (kBigFileBytes / kLineChars - first) / keys;
    std::vector<std::pair<std::size_t, std::string>> planted;
    for (int i = 0; i < keys; ++i) {
      const std::string key = i % 3 == 0 ? Acme() : Kw();
      const std::size_t line = first + per_key * i + rng.Next() % per_key;
      const std::size_t at = line * kLineChars + rng.Next() % (kLineChars - 1 - key.size() - 2);
      content.replace(at, key.size() + 2, " " + key + " ");
      planted.emplace_back(at + 1, key);
    }
    for (FindingRow& row : RowsAt(dir_ + "/" + relative, content, planted)) {
      expected_.push_back(std::move(row));
    }
    Write(relative, content);
  }

  ProcessResult Scan(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> argv = {"scan"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunKeyward(argv, {}, input);
  }

  std::vector<FindingRow> expected_;
};

TEST_F(ScanTest, FindsExactlyThePlantedKeysWithLineAndColumn) {
  const auto seed =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  SCOPED_TRACE("seed " + std::to_string(seed));
  Rng rng(seed);
  const auto started = std::chrono::steady_clock::now();
  Add("src/main.go", [&](Planter& p) {
    p.Text("package main\n\nconst apiKey = \"").Key(Kw()).Text("\" // from the vault\n");
    p.Text("func main() { call(\"").Key(Acme()).Text("\") }\n");
  });
  Add("config/app.json", [&](Planter& p) {
    p.Text("{\"service\": {\"key\": \"").Key(Kw()).Text("\", \"other\": \"" + Kw() + "1\"}}");
  });
  Add("config/app.yaml", [&](Planter& p) {
    p.Text("api:\n  key: ").Key(Kw()).Text("\n  keys: [").Key(Kw()).Text(", ").Key(Acme());
    p.Text("]\n");
  });
  Add(".env", [&](Planter& p) { p.Text("KEYWARD_APIKEY=").Key(Kw()).Text("\nB=b" + Kw()); });
  Add("docs/urls.txt", [&](Planter& p) {
    p.Text("see https://api.example.com/v1?apikey=").Key(Kw()).Text("&x=1\n");
    const std::string key = Kw();
    p.Text("https://r.example/?next=https%3A%2F%2Fh%2F%3Fk%3D").Key(key, "kw%5F" + key.substr(3));
    p.Text("%26y\n");
  });
  Add("web/app.min.js", [&](Planter& p) {
    p.Text("!function(){var e=\"\";e=").Key(Kw()).Text(";t(").Key(Acme()).Text("),n=[");
    p.Key(Kw()).Text(",\"x\"];e.k='").Key(Kw()).Text("'}();");
  });
  Add("assets/blob.bin", [&](Planter& p) {
    p.Text(RandomBytes(30000)).Text(std::string(1, '\0')).Key(Kw()).Text("\xff");
    p.Text(RandomBytes(30000)).Text("\n").Key(Acme()).Text(std::string(1, '\0'));
    p.Text(RandomBytes(1000));
  });
  Add("near/misses.txt", [&](Planter& p) { p.Text(NearMisses()); });
  AddBigFile(rng, 20);
  // Left out: an excluded folder, a .git folder, and a link to a file with a key.
  const std::string vendored = Write("vendor/lib/x.js", "k='" + Kw() + "'");
  Write(".git/config", "[x]\n\tk = " + Kw() + "\n");
  std::filesystem::create_symlink(vendored, dir_ + "/linked.js");
  const auto generated = std::chrono::steady_clock::now();

  ProcessResult r =
      Scan({dir_, "--prefix", "kw", "--prefix", "acme", "--exclude", "vendor", "-o", "json"});
  const auto scanned = std::chrono::steady_clock::now();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::sort(expected_.begin(), expected_.end());
  EXPECT_EQ(expected_.size(), 35u);
  EXPECT_EQ(Rows(r.out), expected_) << r.out;
  std::cout << "corpus generated in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(generated - started).count()
            << " ms, scanned in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(scanned - generated).count()
            << " ms\n";

  // Without --exclude the vendored key is found too; the link and .git still are not.
  ProcessResult all = Scan({dir_ + "/vendor", dir_ + "/linked.js", "-o", "json"});
  EXPECT_EQ(all.exit_code, 1) << all.err;
  EXPECT_EQ(Rows(all.out).size(), 2u) << all.out;  // the link given as a PATH is followed
}

TEST_F(ScanTest, ReadsStandardInputWithTheDefaultPrefix) {
  Planter p("-");
  p.Text("a = 1\n\tb = \"").Key(Kw()).Text("\"\nc = \"" + Acme() + "\"\n");
  ProcessResult r = Scan({"-", "-o", "json"}, p.content());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(Rows(r.out), p.rows());

  ProcessResult text = Scan({"-"}, p.content());
  EXPECT_EQ(text.exit_code, 1) << text.err;
  EXPECT_EQ(text.out, "-:2:7: " + std::get<3>(p.rows()[0]) + "\n");
  EXPECT_EQ(text.out.find(p.content().substr(p.content().find("kw_"), 52)), std::string::npos);
}

TEST_F(ScanTest, ACleanFolderExitsZero) {
  Write("a/readme.md", "kw_ is our prefix; keys look like kw_AbCd…wXyZ\n");
  Write("a/b/c.txt", NearMisses());
  ProcessResult r = Scan({dir_, "-o", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(boost::json::parse(r.out), boost::json::parse(R"({"findings": []})"));
  ProcessResult text = Scan({dir_ + "/a"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out, "");
}

TEST_F(ScanTest, APathThatCannotBeReadExitsTwoAndTheRestIsStillScanned) {
  const std::string key = Kw();
  const std::string file = Write("k.txt", key);
  ProcessResult r = Scan({dir_ + "/missing", file, "-o", "json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(dir_ + "/missing"), std::string::npos) << r.err;
  EXPECT_EQ(Rows(r.out), (std::vector<FindingRow>{{file, 1, 1, MaskKey(key), ""}}));
  if (::geteuid() != 0) {  // root reads a file whatever its mode
    const std::string locked = Write("locked/x.txt", "x");
    std::filesystem::permissions(dir_ + "/locked", std::filesystem::perms::none);
    ProcessResult denied = Scan({dir_});
    std::filesystem::permissions(dir_ + "/locked", std::filesystem::perms::owner_all);
    EXPECT_EQ(denied.exit_code, 2) << denied.err;
  }
  EXPECT_EQ(Scan({"--prefix", "Not-A-Prefix", file}).exit_code, 2);
  EXPECT_EQ(Scan({"-o", "xml", file}).exit_code, 2);
}

TEST_F(ScanTest, AFifoOrADeviceAsAPathIsRefusedAtOnce) {
  const std::string key = Kw();
  const std::string file = Write("k.txt", key);
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // timeout(1) turns a hang (a FIFO without a writer blocks open and read; /dev/zero never
  // ends) into exit 124 within seconds instead of a stuck test.
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r = Shell(dir_, "timeout 10 keyward scan fifo /dev/zero k.txt -o json");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("fifo: not a regular file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/dev/zero: not a regular file"), std::string::npos) << r.err;
  EXPECT_EQ(Rows(r.out), (std::vector<FindingRow>{{"k.txt", 1, 1, MaskKey(key), ""}}));
  // Standard input may still be a pipe.
  ProcessResult piped = Shell(dir_, "cat k.txt | timeout 10 keyward scan -");
  EXPECT_EQ(piped.exit_code, 1) << piped.err;
}

}  // namespace
}  // namespace keyward::testing
