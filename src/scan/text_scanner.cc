#include "scan/text_scanner.h"

#include <string.h>  // memrchr (GNU)

#include <cerrno>
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

// Line and column of successive, increasing offsets in a text seen through a window: offsets
// are the text's, `window` holds its bytes from `base` on. Every call's window must cover from
// the last offset located (or advanced to) up to the new one.
class Locator {
 public:
  void Locate(std::string_view window, std::size_t base, std::size_t offset, Finding& f) {
    Advance(window, base, offset);
    f.line = line_;
    f.column = offset - line_start_ + 1;
    f.utf16_column = units_ + 1;
  }

  // As Locate, for a text seen whole, with the '\n' bytes before `offset` already counted (the
  // finder counts them as it searches): only the line's start is searched for, back from
  // `offset` to the newest of them.
  void LocateCounted(std::string_view text, std::size_t offset, std::size_t newlines, Finding& f) {
    if (newlines + 1 > line_) {
      const void* last = ::memrchr(text.data() + pos_, '\n', offset - pos_);
      line_start_ = static_cast<std::size_t>(static_cast<const char*>(last) - text.data()) + 1;
      line_ = newlines + 1;
      units_at_ = line_start_;
      units_ = 0;
    }
    units_ += Utf16Units(text.substr(units_at_, offset - units_at_));
    units_at_ = offset;
    pos_ = offset;
    f.line = line_;
    f.column = offset - line_start_ + 1;
    f.utf16_column = units_ + 1;
  }

  // Counts lines and UTF-16 units up to `offset` (nothing if already past it).
  void Advance(std::string_view window, std::size_t base, std::size_t offset) {
    if (offset <= pos_) return;
    const char* from = window.data() + (pos_ - base);
    // One counting pass and one backward search, not a memchr per line: text with short lines
    // has hundreds of thousands of them between two findings.
    const std::size_t newlines = CountNewlines(from, offset - pos_);
    if (newlines > 0) {
      const void* last = ::memrchr(from, '\n', offset - pos_);
      line_start_ =
          base + static_cast<std::size_t>(static_cast<const char*>(last) - window.data()) + 1;
      line_ += newlines;
      units_at_ = line_start_;
      units_ = 0;
    }
    units_ += Utf16Units(window.substr(units_at_ - base, offset - units_at_));
    units_at_ = offset;
    pos_ = offset;
  }

 private:
  std::size_t pos_ = 0;         // counted up to here
  std::size_t line_ = 1;        // line of pos_
  std::size_t line_start_ = 0;  // offset of that line's first byte
  std::size_t units_at_ = 0;    // UTF-16 units of [line_start_, units_at_) are units_
  std::size_t units_ = 0;
};

Finding MakeFinding(const KeyMatch& m, const std::string& path, const std::string& commit) {
  Finding f;
  f.path = path;
  f.commit = commit;
  f.length = m.length;
  f.key = m.key;
  return f;
}

// Bytes past a block's end whose matches wait for the next block: more than the longest match
// (a 16-byte prefix, "%5F" and 49 characters) and the byte after it.
constexpr std::size_t kDeferBytes = 128;
// Bytes kept before the first offset a block reports, for the context a match looks back at.
constexpr std::size_t kLookbackBytes = 256;

// Fills buf[have, buf.size()) from `read` until full or at the end; false on a read error.
bool Fill(const ReadFunction& read, std::string& buf, std::size_t& have, bool& eof) {
  while (have < buf.size()) {
    const ssize_t n = read(buf.data() + have, buf.size() - have);
    if (n == 0) {
      eof = true;
      return true;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    have += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

void ScanText(std::string_view text, const KeyFinder& finder, const std::string& path,
              const std::string& commit, std::vector<Finding>& out) {
  Locator locator;
  finder.Find(text, [&](const KeyMatch& m) {
    Finding f = MakeFinding(m, path, commit);
    locator.LocateCounted(text, m.offset, m.newlines, f);
    out.push_back(std::move(f));
  });
}

long long ScanBlocks(const ReadFunction& read, std::size_t block, const KeyFinder& finder,
                     const std::string& path, std::vector<Finding>& out) {
  std::string buf(kLookbackBytes + block + kDeferBytes, '\0');
  const std::string no_commit;
  Locator locator;
  std::size_t have = 0;           // bytes in buf
  std::size_t base = 0;           // the offset of buf[0] in the text
  std::size_t reported_from = 0;  // matches before this offset were reported already
  for (bool eof = false; !eof;) {
    if (!Fill(read, buf, have, eof)) return -1;
    // Not at the end, a match starting in the last kDeferBytes may run past the buffer.
    const std::size_t limit = eof ? base + have : base + have - kDeferBytes;
    const std::string_view window(buf.data(), have);
    finder.Find(window, [&](const KeyMatch& m) {
      const std::size_t offset = base + m.offset;
      if (offset < reported_from || offset >= limit) return;
      Finding f = MakeFinding(m, path, no_commit);
      locator.Locate(window, base, offset, f);
      out.push_back(std::move(f));
    });
    if (eof) break;
    // The buffer is full, so limit - kLookbackBytes >= base + block.
    const std::size_t keep_from = limit - kLookbackBytes;
    locator.Advance(window, base, keep_from);
    const std::size_t dropped = keep_from - base;
    std::memmove(buf.data(), buf.data() + dropped, have - dropped);
    have -= dropped;
    base = keep_from;
    reported_from = limit;
  }
  const std::size_t read_bytes = base + have;
  return static_cast<long long>(read_bytes);
}

}  // namespace keyward::scan
