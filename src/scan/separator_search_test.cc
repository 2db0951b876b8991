#include "scan/separator_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

namespace keyward::scan {
namespace {

// Texts of every length up to 200 with separators at random places, and every start: each
// variant agrees with the byte-by-byte search, across the 32- and 64-byte blocks' edges.
TEST(SeparatorSearchTest, EveryVariantFindsTheFirstSeparator) {
  std::mt19937 rng(17);
  for (std::size_t n = 0; n <= 200; ++n) {
    std::string text(n, 'a');
    for (char& c : text) {
      const auto r = rng() % 100;
      c = r == 0 ? '_' : r == 1 ? '%' : static_cast<char>('0' + r % 75);
    }
    for (std::size_t from = 0; from <= n; ++from) {
      const std::size_t want = FindSeparatorBytewise(text.data(), from, n);
      EXPECT_EQ(FindSeparator(text, from), want) << n << " " << from;
#if defined(__x86_64__)
      EXPECT_EQ(FindSeparatorSse2(text.data(), from, n), want) << n << " " << from;
      if (__builtin_cpu_supports("avx2")) {
        EXPECT_EQ(FindSeparatorAvx2(text.data(), from, n), want) << n << " " << from;
      }
#endif
    }
  }
  EXPECT_EQ(FindSeparator("abc", 7), 3u);
}

// FindCandidate's variants agree with its byte-by-byte search, across the blocks' edges, with
// many '_' after the `before` byte and after others.
TEST(SeparatorSearchTest, EveryVariantFindsTheFirstCandidate) {
  std::mt19937 rng(23);
  for (std::size_t n = 0; n <= 200; ++n) {
    std::string text(n, 'a');
    for (char& c : text) {
      const auto r = rng() % 20;
      c = r < 3 ? '_' : r == 3 ? '%' : r < 7 ? 'w' : static_cast<char>('0' + rng() % 75);
    }
    for (std::size_t from = 0; from <= n; ++from) {
      std::size_t want = n;
      for (std::size_t i = std::max<std::size_t>(from, 1); i < n && want == n; ++i) {
        if (text[i] == '%' || (text[i] == '_' && text[i - 1] == 'w')) want = i;
      }
      EXPECT_EQ(FindCandidateBytewise(text.data(), from, n, 'w'), want) << n << " " << from;
      EXPECT_EQ(FindCandidate(text, from, 'w'), want) << n << " " << from;
#if defined(__x86_64__)
      EXPECT_EQ(FindCandidateSse2(text.data(), from, n, 'w'), want) << n << " " << from;
      if (__builtin_cpu_supports("avx2")) {
        EXPECT_EQ(FindCandidateAvx2(text.data(), from, n, 'w'), want) << n << " " << from;
      }
#endif
    }
  }
  EXPECT_EQ(FindCandidate("_w_", 0, 'w'), 2u);
  EXPECT_EQ(FindCandidate("%", 0, 'w'), 1u);  // nothing at offset 0
}

TEST(SeparatorSearchTest, FindsASeparatorAtEachPlaceOfALongText) {
  for (char sep : {'_', '%'}) {
    for (std::size_t at = 0; at < 300; ++at) {
      std::string text(300, 'x');
      text[at] = sep;
      EXPECT_EQ(FindSeparator(text, 0), at);
      EXPECT_EQ(FindSeparator(text, at + 1), text.size());
    }
  }
}

// One candidate in 300 bytes of text with none: the AVX2 search skips 64 bytes a turn until a '_'
// or '%' is among them, and only then reads the bytes before (one of which, for the second 32,
// is the last byte of the first). A '_' after another byte is passed over.
TEST(SeparatorSearchTest, FindsACandidateAtEachPlaceOfALongText) {
  for (const std::string& candidate : {std::string("w_"), std::string("%")}) {
    for (std::size_t at = 1; at + candidate.size() <= 300; ++at) {
      std::string text(300, 'x');
      text.replace(at, candidate.size(), candidate);
      const std::size_t want = at + candidate.size() - 1;
      for (std::size_t from : {std::size_t{0}, at, want, want + 1}) {
        const std::size_t expected = from <= want ? want : text.size();
        EXPECT_EQ(FindCandidate(text, from, 'w'), expected)
            << candidate << " " << at << " " << from;
#if defined(__x86_64__)
        EXPECT_EQ(FindCandidateSse2(text.data(), from, text.size(), 'w'), expected);
        if (__builtin_cpu_supports("avx2")) {
          EXPECT_EQ(FindCandidateAvx2(text.data(), from, text.size(), 'w'), expected)
              << candidate << " " << at << " " << from;
        }
#endif
      }
      std::string other = text;
      other[want] = 'x';
      other[at] = '_';  // a '_' after an 'x' is no candidate
      EXPECT_EQ(FindCandidate(other, 0, 'w'), other.size()) << at;
    }
  }
}

TEST(SeparatorSearchTest, CountNewlinesCountsEveryNewlineAtAnyLengthAndPlace) {
  std::mt19937 rng(7);
  std::string text(1000, 'a');
  for (char& c : text) c = rng() % 5 == 0 ? '\n' : static_cast<char>('a' + rng() % 26);
  for (std::size_t begin = 0; begin < 70; ++begin) {
    for (std::size_t n = 0; begin + n <= text.size(); n += 1 + n / 3) {
      const auto expected =
          static_cast<std::size_t>(std::count(text.data() + begin, text.data() + begin + n, '\n'));
      ASSERT_EQ(CountNewlines(text.data() + begin, n), expected) << begin << " " << n;
#if defined(__x86_64__)
      ASSERT_EQ(CountNewlinesSse2(text.data() + begin, n), expected) << begin << " " << n;
      if (__builtin_cpu_supports("avx2")) {
        ASSERT_EQ(CountNewlinesAvx2(text.data() + begin, n), expected) << begin << " " << n;
      }
#endif
    }
  }
}

// The counting search returns what FindCandidate returns and counts exactly the '\n' bytes it
// passed: random text of newlines, '_', '%', the `before` byte and others, every start, and long
// texts of newlines only (each counter's sum: every 127 turns with AVX2, 255 with SSE2) with one
// candidate near their end.
TEST(SeparatorSearchTest, EveryCountingVariantFindsTheCandidateAndCountsTheNewlinesBefore) {
  std::mt19937 rng(11);
  const auto check = [](const std::string& text, std::size_t from) {
    const std::size_t want = FindCandidate(text, from, 'w');
    const auto lines = static_cast<std::size_t>(
        std::count(text.begin() + static_cast<std::ptrdiff_t>(from),
                   text.begin() + static_cast<std::ptrdiff_t>(want), '\n'));
    const std::size_t n = text.size();
    std::size_t counted = 7;  // added to, not set
    EXPECT_EQ(FindCandidateCountingNewlines(text, from, 'w', counted), want) << n << " " << from;
    EXPECT_EQ(counted, 7 + lines) << n << " " << from;
    counted = 0;
    EXPECT_EQ(FindCandidateCountingBytewise(text.data(), from, n, 'w', counted), want);
    EXPECT_EQ(counted, lines) << n << " " << from;
#if defined(__x86_64__)
    counted = 0;
    EXPECT_EQ(FindCandidateCountingSse2(text.data(), from, n, 'w', counted), want);
    EXPECT_EQ(counted, lines) << n << " " << from;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) {
      counted = 0;
      EXPECT_EQ(FindCandidateCountingAvx2(text.data(), from, n, 'w', counted), want);
      EXPECT_EQ(counted, lines) << n << " " << from;
    }
#endif
  };
  for (std::size_t n = 1; n <= 200; ++n) {
    std::string text(n, 'a');
    for (char& c : text) {
      const unsigned r = rng() % 12;
      c = r == 0 ? '\n' : r == 1 ? '_' : r == 2 ? 'w' : r == 3 && rng() % 4 == 0 ? '%' : 'a';
    }
    for (std::size_t from = 0; from < n; ++from) check(text, from);
  }
  for (std::size_t n :
       {std::size_t{127 * 64 + 5}, std::size_t{255 * 16 + 5}, std::size_t{100'000}}) {
    std::string text(n, '\n');
    check(text, 0);
    text[n - 3] = 'w';
    text[n - 2] = '_';
    check(text, 0);
    check(text, 1);
  }
  // A candidate inside a vector block after one or more sums (not in the byte-by-byte tail), at
  // each place of its 64 bytes.
  for (std::size_t at = 127 * 64 * 2 + 1; at < 127 * 64 * 2 + 1 + 64; ++at) {
    std::string text(127 * 64 * 3, '\n');
    text[at - 1] = 'w';
    text[at] = '_';
    check(text, 0);
    check(text, 5);
  }
}

// The vector loops count in byte-wide counters summed every 63 turns: text of newlines only, long
// enough for several sums, must not wrap one; nor may any length around a turn's end.
TEST(SeparatorSearchTest, CountNewlinesCountsLongRunsOfNewlinesExactly) {
  const std::string newlines(200'000, '\n');
  for (std::size_t n : {std::size_t{63 * 128 - 1}, std::size_t{63 * 128}, std::size_t{63 * 128 + 1},
                        std::size_t{64 * 128}, std::size_t{126 * 128 + 77}, newlines.size()}) {
    EXPECT_EQ(CountNewlines(newlines.data(), n), n) << n;
#if defined(__x86_64__)
    EXPECT_EQ(CountNewlinesSse2(newlines.data(), n), n) << n;
    if (__builtin_cpu_supports("avx2")) {
      EXPECT_EQ(CountNewlinesAvx2(newlines.data(), n), n) << n;
    }
#endif
  }
}

}  // namespace
}  // namespace keyward::scan
