#include "scan/key_finder.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "core/api_key.h"
#include "scan/separator_search.h"

namespace keyward::scan {
namespace {

constexpr std::size_t kBodyChars = kSecretChars + kChecksumChars;  // 49

constexpr std::array<std::int8_t, 256> MakeBase62Table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<std::int8_t>(c - '0');
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = static_cast<std::int8_t>(c - 'A' + 10);
  for (int c = 'a'; c <= 'z'; ++c) t[c] = static_cast<std::int8_t>(c - 'a' + 36);
  return t;
}
constexpr std::array<std::int8_t, 256> kBase62Value = MakeBase62Table();

bool IsBase62(char c) { return kBase62Value[static_cast<unsigned char>(c)] >= 0; }

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

// Whether the backslash at `at` starts an escape: an odd number of backslashes ends there.
bool EscapesAt(std::string_view text, std::size_t at) {
  std::size_t run = 0;
  while (run <= at && text[at - run] == '\\') ++run;
  return run % 2 == 1;
}

// Whether a key may start at `start`: at the text's start, after a character that is not a
// letter or digit, after a percent-encoded byte ("%3D" in "?next=…%3Fk%3Dkw_…"), or after a
// JSON or C escape that ends in a letter or digit ("\n", "\t", "\r", "\b", "\f", "\u00e9";
// the others, such as "\"" or "\\", end in a character that is not one).
bool StartsAWord(std::string_view text, std::size_t start) {
  if (start == 0 || !IsBase62(text[start - 1])) return true;
  if (start >= 3 && text[start - 3] == '%' && IsHex(text[start - 2]) && IsHex(text[start - 1])) {
    return true;
  }
  constexpr std::string_view kEscapeLetters = "ntrbf";
  if (start >= 2 && text[start - 2] == '\\' &&
      kEscapeLetters.find(text[start - 1]) != std::string_view::npos) {
    return EscapesAt(text, start - 2);
  }
  if (start < 6 || text[start - 6] != '\\' || text[start - 5] != 'u') return false;
  for (std::size_t i = start - 4; i < start; ++i) {
    if (!IsHex(text[i])) return false;
  }
  return EscapesAt(text, start - 6);
}

// The 6 checksum characters equal the CRC32 of the 43 secret characters.
bool ChecksumMatches(std::string_view body) {
  std::uint64_t got = 0;
  for (char c : body.substr(kSecretChars)) {
    got = got * 62 + static_cast<std::uint64_t>(kBase62Value[static_cast<unsigned char>(c)]);
  }
  return got == Crc32(body.substr(0, kSecretChars));
}

}  // namespace

KeyFinder::KeyFinder(std::vector<std::string> prefixes) : prefixes_(std::move(prefixes)) {
  std::sort(prefixes_.begin(), prefixes_.end());
  prefixes_.erase(std::unique(prefixes_.begin(), prefixes_.end()), prefixes_.end());
  for (const std::string& prefix : prefixes_) {
    if (!prefix.empty()) ends_prefix_[static_cast<unsigned char>(prefix.back())] = true;
  }
  if (!prefixes_.empty() && std::all_of(prefixes_.begin(), prefixes_.end(), [&](const auto& p) {
        return !p.empty() && p.back() == prefixes_[0].back();
      })) {
    single_end_ = prefixes_[0].back();
  }
}

std::size_t KeyFinder::NextSeparator(std::string_view text, std::size_t from,
                                     std::size_t& newlines) const {
  if (single_end_ != '\0') return FindCandidateCountingNewlines(text, from, single_end_, newlines);
  const std::size_t next = FindSeparator(text, from);
  if (next > from) newlines += CountNewlines(text.data() + from, next - from);
  return next;
}

bool KeyFinder::MatchAt(std::string_view text, std::size_t sep, std::size_t sep_len,
                        KeyMatch& match) const {
  // The prefix first: in snake_case text most '_' follow a byte that ends no prefix, and are
  // refused here before the 49 characters after them are read.
  if (sep == 0 || !ends_prefix_[static_cast<unsigned char>(text[sep - 1])]) return false;
  // At most one prefix fits: of two that both end at `sep`, the longer one puts a letter or
  // digit before the shorter.
  const std::string* found = nullptr;
  for (const std::string& prefix : prefixes_) {
    if (prefix.size() > sep) continue;
    const std::size_t start = sep - prefix.size();
    if (text.compare(start, prefix.size(), prefix) != 0 || !StartsAWord(text, start)) continue;
    found = &prefix;
    break;
  }
  if (found == nullptr) return false;
  const std::size_t body = sep + sep_len;
  if (body + kBodyChars > text.size()) return false;
  if (body + kBodyChars < text.size() && IsBase62(text[body + kBodyChars])) return false;
  for (std::size_t i = 0; i < kBodyChars; ++i) {
    if (!IsBase62(text[body + i])) return false;
  }
  if (!ChecksumMatches(text.substr(body, kBodyChars))) return false;
  match.offset = sep - found->size();
  match.length = body + kBodyChars - match.offset;
  match.key.assign(*found).push_back('_');
  match.key.append(text.substr(body, kBodyChars));
  return true;
}

void KeyFinder::Find(std::string_view text,
                     const std::function<void(const KeyMatch&)>& on_match) const {
  KeyMatch match;
  // The '\n' bytes before `sep`. None lies between a separator and where the search resumes
  // (the separator, or a key's own letters and digits), nor in the prefix before a separator.
  std::size_t newlines = 0;
  for (std::size_t sep = NextSeparator(text, 0, newlines); sep < text.size();) {
    std::size_t sep_len = 1;
    if (text[sep] == '%') {
      const bool encoded = sep + 2 < text.size() && text[sep + 1] == '5' &&
                           (text[sep + 2] == 'F' || text[sep + 2] == 'f');
      sep_len = encoded ? 3 : 0;
    }
    std::size_t resume = sep + 1;
    if (sep_len != 0 && MatchAt(text, sep, sep_len, match)) {
      match.newlines = newlines;
      on_match(match);
      resume = match.offset + match.length;
    }
    sep = NextSeparator(text, resume, newlines);
  }
}

std::string MaskKeysIn(std::string_view text, const KeyFinder& finder) {
  std::string out;
  std::size_t copied = 0;
  finder.Find(text, [&](const KeyMatch& m) {
    out.append(text.substr(copied, m.offset - copied));
    out.append(MaskKey(m.key));
    copied = m.offset + m.length;
  });
  out.append(text.substr(copied));
  return out;
}

}  // namespace keyward::scan
