// keyward_scan_corpus: writes the corpus of the scan benchmark (bench/scan.sh), one file of
// random base62 text with real keys and near misses planted at known places.
//
//   keyward_scan_corpus --out corpus.txt --expected expected.txt [--megabytes 50] [--keys 1000]
//                       [--near-misses 1000] [--underscore-every 0] [--seed 1] [--prefix kw]
//
// The text: lines of 20-160 random base62 characters (a seeded xorshift generator, so the same
// seed gives the same filler), and with --underscore-every N a '_' in place of about one
// character in N, as snake_case code has (0: none). Spread evenly over it, every planted item
// sits inside a line between two delimiters (one of  " ' = : / and a space):
//   keys         --keys real keys from core/api_key.h's GenerateKey: what a scanner must find;
//                every tenth with its '_' written "%5F", as in a URL
//   near misses  --near-misses strings a scanner must not report, in turn: a key with a wrong
//                checksum, a key with one more base62 character, a key right after a base62
//                character, and a key one character short
// The expected file has one line per planted key, "LINE COLUMN MASKED" (line and byte column
// from 1, MaskKey's form), in the order of the text; its last line is "# regex N", the number of
// planted strings that the regex kw_[0-9A-Za-z]{49} matches (the keys written with '_' and the
// first three kinds of near miss). With --underscore-every the random filler can hold more such
// strings of its own ("kw_" followed by 49 base62 characters), which a checksum rejects.
// Exit codes: 1 for a usage or I/O error.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/api_key.h"

namespace keyward::bench {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kDelimiters = "\"'=:/ ";

struct Flags {
  std::string out;
  std::string expected;
  std::int64_t megabytes = 50;
  std::int64_t keys = 1000;
  std::int64_t near_misses = 1000;
  std::int64_t underscore_every = 0;
  std::uint64_t seed = 1;
  std::string prefix = "kw";
};

// xorshift64*: fast, seeded, good enough for filler text.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed == 0 ? 0x9E3779B97F4A7C15ull : seed) {}
  std::uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  std::size_t Below(std::size_t n) { return static_cast<std::size_t>(Next() % n); }

 private:
  std::uint64_t state_;
};

// `n` characters of filler appended to `out`.
void AppendFiller(std::string& out, std::size_t n, std::int64_t underscore_every, Random& random) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t r = random.Next();
    const bool underscore =
        underscore_every > 0 && (r >> 32) % static_cast<std::uint64_t>(underscore_every) == 0;
    out += underscore ? '_' : kBase62[r % kBase62.size()];
  }
}

// A key with its last (checksum) character changed.
std::string WrongChecksum(std::string key) {
  key.back() = key.back() == 'A' ? 'B' : 'A';
  return key;
}

// One planted string.
struct Planted {
  std::string text;         // as written into the corpus
  std::string masked;       // MaskKey of the key, for a real key; else empty
  bool regex_match = true;  // whether kw_[0-9A-Za-z]{49} matches the text
};

// Item `index`: a real key for an index below --keys, else a near miss of the kind index % 4.
Planted Item(const Flags& flags, std::int64_t index) {
  std::string key = GenerateKey(flags.prefix);
  if (index < flags.keys) {
    Planted out{key, MaskKey(key), true};
    if (index % 10 == 9) {
      out.text.replace(flags.prefix.size(), 1, "%5F");
      out.regex_match = false;
    }
    return out;
  }
  switch ((index - flags.keys) % 4) {
    case 0:
      return {WrongChecksum(std::move(key)), "", true};
    case 1:
      return {key + "x", "", true};
    case 2:
      return {"Z" + key, "", true};
    default:
      return {key.substr(0, key.size() - 1), "", false};
  }
}

// The planted items in the order of the text: the indexes of Item (keys and near misses)
// shuffled with the seed, so that each kind is spread over the whole text.
std::vector<std::int64_t> Plan(const Flags& flags, Random& random) {
  std::vector<std::int64_t> plan(static_cast<std::size_t>(flags.keys + flags.near_misses));
  for (std::size_t i = 0; i < plan.size(); ++i) plan[i] = static_cast<std::int64_t>(i);
  for (std::size_t i = plan.size(); i > 1; --i) std::swap(plan[i - 1], plan[random.Below(i)]);
  return plan;
}

// Writes the corpus and the expected findings; false on an I/O error.
bool WriteCorpus(const Flags& flags, std::ofstream& out, std::ofstream& expected) {
  Random random(flags.seed);
  const std::vector<std::int64_t> plan = Plan(flags, random);
  const auto items = static_cast<std::int64_t>(plan.size());
  const std::int64_t total = flags.megabytes * 1000 * 1000;
  std::int64_t written = 0, line_no = 0, next = 0, regex_matches = 0;
  std::string line;
  while (written < total) {
    line.clear();
    ++line_no;
    if (next < items && written >= next * total / items) {
      const Planted item = Item(flags, plan[static_cast<std::size_t>(next++)]);
      AppendFiller(line, random.Below(60), flags.underscore_every, random);
      line += kDelimiters[random.Below(kDelimiters.size())];
      if (!item.masked.empty()) {
        expected << line_no << ' ' << line.size() + 1 << ' ' << item.masked << '\n';
      }
      regex_matches += item.regex_match ? 1 : 0;
      line += item.text;
      line += kDelimiters[random.Below(kDelimiters.size())];
      AppendFiller(line, random.Below(60), flags.underscore_every, random);
    } else {
      AppendFiller(line, 20 + random.Below(141), flags.underscore_every, random);
    }
    line += '\n';
    out << line;
    written += static_cast<std::int64_t>(line.size());
  }
  expected << "# regex " << regex_matches << '\n';
  return static_cast<bool>(out) && static_cast<bool>(expected) && next == items;
}

}  // namespace
}  // namespace keyward::bench

int main(int argc, char** argv) try {
  using keyward::bench::Flags;
  Flags flags;
  CLI::App app{"Writes the scan benchmark's corpus: random base62 with planted keys"};
  app.add_option("--out", flags.out, "the corpus file")->required();
  app.add_option("--expected", flags.expected, "the planted keys: LINE COLUMN MASKED")->required();
  app.add_option("--megabytes", flags.megabytes, "size in MB (10^6 bytes)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--keys", flags.keys, "real keys to plant")->check(CLI::Range(1, 1000000));
  app.add_option("--near-misses", flags.near_misses, "near misses to plant")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--underscore-every", flags.underscore_every, "a '_' every N bytes (0: none)")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--seed", flags.seed, "seed of the filler");
  app.add_option("--prefix", flags.prefix, "key prefix");
  CLI11_PARSE(app, argc, argv);
  if (!keyward::ValidateKeyPrefix(flags.prefix).ok()) {
    std::cerr << "keyward_scan_corpus: invalid prefix\n";
    return 1;
  }
  std::ofstream out(flags.out, std::ios::binary | std::ios::trunc);
  std::ofstream expected(flags.expected, std::ios::trunc);
  if (!out || !expected) {
    std::cerr << "keyward_scan_corpus: cannot write " << flags.out << " or " << flags.expected
              << "\n";
    return 1;
  }
  if (!keyward::bench::WriteCorpus(flags, out, expected)) {
    std::cerr << "keyward_scan_corpus: writing the corpus failed\n";
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "keyward_scan_corpus: " << e.what() << "\n";
  return 1;
}
