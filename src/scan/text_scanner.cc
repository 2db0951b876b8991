#include "scan/text_scanner.h"

#include <string.h>  // memrchr (GNU)

#include <cstring>

#include "scan/separator_search.h"

namespace keyward::scan {
namespace {

// UTF-16 code units of the UTF-8 bytes in `text`: continuation bytes (10xxxxxx) count 0, the
// lead byte of a 4-byte sequence 2, every other byte 1. Exact for valid UTF-8; for other bytes
// (binary files) an estimate.
std::size_t Utf16Units(std::string_view text) {
  std::size_t units = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) == 0x80) continue;
    units += c >= 0xF0 ? 2 : 1;
  }
  return units;
}

// Line and column of successive, increasing offsets in one text.
class Locator {
 public:
  explicit Locator(std::string_view text) : text_(text) {}

  void Locate(std::size_t offset, Finding& f) {
    // One counting pass and one backward search, not a memchr per line: text with short lines
    // has hundreds of thousands of them between two findings.
    const std::size_t newlines = CountNewlines(text_.data() + pos_, offset - pos_);
    if (newlines > 0) {
      const void* last = ::memrchr(text_.data() + pos_, '\n', offset - pos_);
      line_start_ = static_cast<std::size_t>(static_cast<const char*>(last) - text_.data()) + 1;
      line_ += newlines;
      units_at_ = line_start_;
      units_ = 0;
    }
    units_ += Utf16Units(text_.substr(units_at_, offset - units_at_));
    units_at_ = offset;
    pos_ = offset;
    f.line = line_;
    f.column = offset - line_start_ + 1;
    f.utf16_column = units_ + 1;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;         // counted up to here
  std::size_t line_ = 1;        // line of pos_
  std::size_t line_start_ = 0;  // offset of that line's first byte
  std::size_t units_at_ = 0;    // UTF-16 units of [line_start_, units_at_) are units_
  std::size_t units_ = 0;
};

}  // namespace

void ScanText(std::string_view text, const KeyFinder& finder, const std::string& path,
              const std::string& commit, std::vector<Finding>& out) {
  Locator locator(text);
  finder.Find(text, [&](const KeyMatch& m) {
    Finding f;
    f.path = path;
    f.commit = commit;
    f.length = m.length;
    f.key = m.key;
    locator.Locate(m.offset, f);
    out.push_back(std::move(f));
  });
}

}  // namespace keyward::scan
