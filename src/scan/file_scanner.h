// Scanning files, folders and standard input for keys.
//
// A file is read in blocks of a few MB (scan/text_scanner.h: ScanBlocks) and searched once;
// a PATH must be a regular file or a folder (a FIFO or device is refused: pipe it to "-"), and
// a file that shrinks while it is read is an error. Standard input may be anything.
// A folder is walked recursively: symbolic links inside it are not followed (a link given as a
// PATH argument is), `.git` folders are skipped (`keyward scan --git` reads history instead),
// and a file or folder matching an --exclude glob is left out. Not thread safe per call;
// calls on different ScanResults may run in parallel.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scan/finding.h"
#include "scan/key_finder.h"

namespace keyward::scan {

struct WalkOptions {
  // fnmatch(3) globs, flags 0 (so '*' also matches '/'), tried on the path relative to the
  // folder argument ("src/gen/a.js") and on the base name ("a.js"). A matching folder is not
  // entered.
  std::vector<std::string> excludes;
};

// Whether `relative` (a '/'-separated path under a folder or in a repository) is left out: it or
// one of the folders above it matches a glob of `options` (on the path so far or its last name).
bool ExcludedPath(std::string_view relative, const WalkOptions& options);

// Scans `path` (a file, a folder, or "-" for standard input) into `result`. Findings under a
// folder carry `path` joined with the relative path ("." adds nothing: "src/a.js"). Errors
// (missing, unreadable) go to result.errors and the walk goes on.
void ScanPath(const std::string& path, const WalkOptions& options, const KeyFinder& finder,
              ScanResult& result);

}  // namespace keyward::scan
