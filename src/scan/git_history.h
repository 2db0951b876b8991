// Scanning a git repository's history: every blob reachable from any ref (branches, tags,
// remote-tracking refs, the stash), each scanned once, at the commit that first added it (the
// oldest in topological order) and the path it had there, among the paths --exclude keeps.
// A key in that blob is reported with that commit and path unless an earlier scanned blob at
// the same path already reported it: a later version of the file holding the same key is not
// reported again. A blob that is only copied or moved (identical content at a new path) is not
// scanned again, so its keys are reported once, at the first path; a changed copy at a new path
// is a new blob, and its keys are reported at that path too. The working tree and the index
// are not part of history: scan them as files.
//
// Runs the `git` command (found in PATH): `rev-list --all`, `diff-tree --stdin -r -m --root`
// for the blobs each commit adds (a merge against each parent, so that a blob first seen in a
// conflict resolution counts), and one `cat-file --batch` for their content.
#pragma once

#include <string>

#include "scan/file_scanner.h"
#include "scan/finding.h"
#include "scan/key_finder.h"

namespace keyward::scan {

// Scans the history of the repository at `repo` (any folder inside its work tree, or a bare
// repository) into `result`, leaving out the blobs whose path `options` excludes (the path in
// the commit that added the blob). Findings carry the commit id (full hex) and the path. A git that
// cannot run or fails (not a repository, an unreadable object) adds one error to
// result.errors and stops.
void ScanGitHistory(const std::string& repo, const WalkOptions& options, const KeyFinder& finder,
                    ScanResult& result);

}  // namespace keyward::scan
