#include "scan/git_history.h"

#include <string_view>
#include <unordered_set>
#include <vector>

#include "scan/child_process.h"
#include "scan/text_scanner.h"

namespace keyward::scan {
namespace {

// A blob to scan and where it first appeared.
struct Blob {
  std::string id;
  std::string commit;
  std::string path;
};

Result<std::string> RunGit(const std::string& repo, std::vector<std::string> args,
                           std::string_view input) {
  args.insert(args.begin(), {"git", "-C", repo});
  KW_ASSIGN_OR_RETURN(auto git, ChildProcess::Start(args, input));
  KW_ASSIGN_OR_RETURN(std::string out, git->ReadToEnd());
  KW_RETURN_IF_ERROR(git->Wait());
  return out;
}

// The blobs added by the commits of `diff_tree`, the output of `git diff-tree --stdin -z -r`:
// NUL-separated fields, a commit id, then for each change ":<mode> <mode> <id> <id> <status>"
// and its path. Each blob once, at its first appearance under a path `options` does not exclude
// (a blob first committed at an excluded path and later moved to a kept one is kept there).
std::vector<Blob> AddedBlobs(std::string_view diff_tree, const WalkOptions& options) {
  std::vector<Blob> blobs;
  std::unordered_set<std::string_view> seen;
  std::string_view commit;
  std::size_t pos = 0;
  auto next_field = [&]() {
    const std::size_t end = std::min(diff_tree.find('\0', pos), diff_tree.size());
    std::string_view field = diff_tree.substr(pos, end - pos);
    pos = end + 1;
    return field;
  };
  while (pos < diff_tree.size()) {
    std::string_view field = next_field();
    if (field.empty() || field[0] != ':') {
      commit = field;
      continue;
    }
    std::string_view path = next_field();
    // ":100644 100644 <old id> <new id> M": the new mode, the new id, the status.
    const std::size_t mode_at = field.find(' ') + 1;
    const std::size_t id_at = field.find(' ', field.find(' ', mode_at) + 1) + 1;
    const std::size_t id_end = field.find(' ', id_at);
    if (mode_at == 0 || id_at == 0 || id_end == std::string_view::npos) continue;
    const std::string_view mode = field.substr(mode_at, 6);
    const std::string_view id = field.substr(id_at, id_end - id_at);
    const bool file = mode.starts_with("100") || mode.starts_with("120");
    if (!file || field.back() == 'D' || ExcludedPath(path, options)) continue;
    if (!seen.insert(id).second) continue;
    blobs.push_back({std::string(id), std::string(commit), std::string(path)});
  }
  return blobs;
}

// Appends the findings of `found` whose key `reported` has not seen at their path, and adds them
// to it: a key in a file is reported at the commit that first put it there, not again at every
// later version of the file.
void KeepFirstAtPath(std::vector<Finding>& found, std::unordered_set<std::string>& reported,
                     ScanResult& result) {
  std::vector<std::string> added;
  for (Finding& f : found) {
    std::string id = f.path + '\0' + f.key;
    if (reported.count(id) != 0) continue;
    added.push_back(std::move(id));
    result.findings.push_back(std::move(f));
  }
  reported.insert(added.begin(), added.end());
  found.clear();
}

// Reads every blob through one `git cat-file --batch` and scans it.
Status ScanBlobs(const std::string& repo, const std::vector<Blob>& blobs, const KeyFinder& finder,
                 ScanResult& result) {
  std::string ids;
  for (const Blob& blob : blobs) ids.append(blob.id).push_back('\n');
  KW_ASSIGN_OR_RETURN(auto git,
                      ChildProcess::Start({"git", "-C", repo, "cat-file", "--batch"}, ids));
  std::string header;
  std::string content;
  std::vector<Finding> found;
  std::unordered_set<std::string> reported;  // path '\0' key
  for (const Blob& blob : blobs) {
    // "<id> blob <size>", then the content and a '\n'; "<id> missing" for an absent object.
    KW_ASSIGN_OR_RETURN(bool got, git->ReadLine(header));
    const std::size_t space = header.rfind(' ');
    if (!got || space == std::string::npos || header.find(" blob ") == std::string::npos) {
      return Status::Unavailable("git cat-file: cannot read blob " + blob.id + " (" + blob.path +
                                 ")");
    }
    const std::size_t size = std::stoull(header.substr(space + 1));
    KW_RETURN_IF_ERROR(git->ReadExactly(size + 1, content));
    content.pop_back();
    ScanText(content, finder, blob.path, blob.commit, found);
    KeepFirstAtPath(found, reported, result);
  }
  return git->Wait();
}

Status ScanHistory(const std::string& repo, const WalkOptions& options, const KeyFinder& finder,
                   ScanResult& result) {
  KW_ASSIGN_OR_RETURN(std::string commits,
                      RunGit(repo, {"rev-list", "--all", "--reverse", "--topo-order"}, ""));
  KW_ASSIGN_OR_RETURN(std::string diff_tree,
                      RunGit(repo,
                             {"diff-tree", "--stdin", "-z", "-r", "-m", "--root", "--no-renames",
                              "--no-abbrev", "--no-ext-diff", "--no-textconv"},
                             commits));
  return ScanBlobs(repo, AddedBlobs(diff_tree, options), finder, result);
}

}  // namespace

void ScanGitHistory(const std::string& repo, const WalkOptions& options, const KeyFinder& finder,
                    ScanResult& result) {
  Status status = ScanHistory(repo, options, finder, result);
  if (!status.ok()) result.errors.push_back(repo + ": " + status.message());
}

}  // namespace keyward::scan
