// Findings with their line and column from text: the finder gives byte offsets and, for a text
// seen whole, the '\n' bytes before each (counted by the search as it passes them); in blocks,
// lines are counted from one match to the next (a vectorised count, CountNewlines). Either way a
// large file costs little more than the search itself. A text is either one buffer (ScanText) or
// read block by block (ScanBlocks), with the same findings, lines and columns.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "scan/finding.h"
#include "scan/key_finder.h"

namespace keyward::scan {

// Appends a Finding for every key `finder` finds in `text`, with `path` and `commit`.
void ScanText(std::string_view text, const KeyFinder& finder, const std::string& path,
              const std::string& commit, std::vector<Finding>& out);

// Reads up to `n` bytes into `to`: the bytes read, 0 at the end, or -1 with errno set.
using ReadFunction = std::function<ssize_t(char* to, std::size_t n)>;

// The block size streams and small files are read by (scan/file_scanner.h maps larger files:
// on the 50 MB bench corpus reading copied every byte through the kernel, 14 ms of system time,
// against 6 ms for the mapping's page faults).
inline constexpr std::size_t kScanBlockBytes = std::size_t{1} << 20;

// Scans what `read` yields until its end, `block` bytes at a time (plus a few hundred bytes kept
// from the block before, so that a key across two blocks is found), as ScanText would scan it
// whole: memory stays bounded whatever the length. One limit: whether a key follows a JSON
// escape is decided on at most 256 bytes before it (a run of more backslashes than that may be
// misjudged at a block boundary). Returns the bytes read, or -1 (errno set) on a read error;
// the findings before the error stay in `out`.
long long ScanBlocks(const ReadFunction& read, std::size_t block, const KeyFinder& finder,
                     const std::string& path, std::vector<Finding>& out);

}  // namespace keyward::scan
