// Findings with their line and column from a buffer of text: the finder gives byte offsets, and
// lines are counted only from one match to the next (memchr for '\n'), so that a large file
// costs no more than the search itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scan/finding.h"
#include "scan/key_finder.h"

namespace keyward::scan {

// Appends a Finding for every key `finder` finds in `text`, with `path` and `commit`.
void ScanText(std::string_view text, const KeyFinder& finder, const std::string& path,
              const std::string& commit, std::vector<Finding>& out);

}  // namespace keyward::scan
