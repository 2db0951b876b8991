// Scanning files, folders and standard input for keys.
//
// A file larger than one block (1 MB) is mapped and searched in place (ScanMappedFile); a smaller
// one, or standard input, is read in blocks (scan/text_scanner.h: ScanBlocks). A PATH must be a
// regular file or a folder (a FIFO or device is refused: pipe it to "-"), and a file that shrinks
// while it is scanned is an error. Standard input may be anything. A folder is walked
// recursively: symbolic links inside it are not followed (a link given as a PATH argument is),
// `.git` folders are skipped (`keyward scan --git` reads history instead), and a file or folder
// matching an --exclude glob is left out. One scan at a time per process: the mapped scan's
// SIGBUS handler is process-wide.
#pragma once

#include <cstddef>
#include <functional>
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

// How ScanPath scans a regular file larger than one block (kScanBlockBytes): mapped and searched
// in place, which spares the copy a read makes of every byte. `size`: the file's size when
// opened (a file that grows is scanned as it was). If the file is cut short meanwhile, the pages
// past its new end read as zeros and the file is reported as changed, in result.errors; pages
// lost to an I/O error likewise, reported as such (a SIGBUS handler is installed for the scan:
// not thread safe). False, with nothing done, if the file cannot be mapped. `before_scan`, for
// tests: called once mapped, before the search.
bool ScanMappedFile(int fd, std::size_t size, const std::string& shown, const KeyFinder& finder,
                    ScanResult& result, const std::function<void()>& before_scan = {});

}  // namespace keyward::scan
