// Finding API keys in any text: source files, JSON, URLs (also with the '_' percent-encoded as
// "%5F"), minified code, binary files. A hit is one of the prefixes, not preceded by
// [A-Za-z0-9] (unless that is the end of a percent-encoded byte, as in "%3Dkw_…", or of a JSON
// or C escape: "\nkw_…", likewise after \t \r \b \f \uXXXX), then '_' or
// "%5F"/"%5f", then exactly 49 base62 characters not followed by
// another base62 character, whose last 6 are the checksum of the first 43 (core/api_key.h). The
// checksum makes a false positive about one in 62^6 random candidates.
//
// No regex: one vectorised pass (scan/separator_search.h) finds each '%' and each '_' (only
// those after the prefixes' last byte, when all prefixes share it), and only there are the
// prefix and the 49 characters checked. Pure; a KeyFinder is immutable and safe to
// share between threads.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scan {

struct KeyMatch {
  std::size_t offset = 0;    // byte offset of the first character of the prefix in the text
  std::size_t length = 0;    // bytes the match covers in the text (the '_' may be "%5F")
  std::string key;           // the key as the server knows it ("%5F" decoded to '_')
  std::size_t newlines = 0;  // '\n' bytes in the text before `offset` (its line is newlines + 1)
};

class KeyFinder {
 public:
  // Each prefix must pass ValidateKeyPrefix (the caller checks); duplicates are harmless.
  explicit KeyFinder(std::vector<std::string> prefixes);

  // Calls on_match for every key in `text`, in order of offset. No regex; allocation only per
  // match.
  void Find(std::string_view text, const std::function<void(const KeyMatch&)>& on_match) const;

  const std::vector<std::string>& prefixes() const { return prefixes_; }

 private:
  // The match whose separator ('_' or "%5F", `sep_len` bytes) starts at `sep`, if any: fills
  // `match` and returns true.
  bool MatchAt(std::string_view text, std::size_t sep, std::size_t sep_len, KeyMatch& match) const;

  // The next place a separator may start at or after `from` (text.size() if none); adds to
  // `newlines` the '\n' bytes of text[from, that place).
  std::size_t NextSeparator(std::string_view text, std::size_t from, std::size_t& newlines) const;

  std::vector<std::string> prefixes_;
  std::array<bool, 256> ends_prefix_{};  // the last bytes of the prefixes
  char single_end_ = '\0';  // the last byte of every prefix when they share it, else '\0'
};

// `text` with every key `finder` finds replaced by MaskKey(key) ("kw_AbCd…wXyZ"); the rest of
// the text unchanged. For URLs and other reported text that may hold a key.
std::string MaskKeysIn(std::string_view text, const KeyFinder& finder);

}  // namespace keyward::scan
