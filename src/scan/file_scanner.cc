#include "scan/file_scanner.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "scan/text_scanner.h"

namespace keyward::scan {
namespace {

namespace fs = std::filesystem;

std::string ErrnoText(int err) { return std::generic_category().message(err); }

// Closes a descriptor when done.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Everything `fd` yields until its end; false (errno set) on a read error.
bool ReadAll(int fd, std::string& out) {
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

// Scans the open file `fd` (`st` its status), named `shown` in findings.
void ScanFd(int fd, const struct stat& st, const std::string& shown, const KeyFinder& finder,
            ScanResult& result) {
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    const auto size = static_cast<std::size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      ::madvise(map, size, MADV_SEQUENTIAL);
      ScanText(std::string_view(static_cast<const char*>(map), size), finder, shown, "",
               result.findings);
      ::munmap(map, size);
      return;
    }
  }
  std::string text;
  if (!ReadAll(fd, text)) {
    result.errors.push_back(shown + ": " + ErrnoText(errno));
    return;
  }
  ScanText(text, finder, shown, "", result.findings);
}

void ScanFile(const std::string& path, const std::string& shown, const KeyFinder& finder,
              ScanResult& result) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    result.errors.push_back(shown + ": " + ErrnoText(errno));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    result.errors.push_back(shown + ": is a folder");
    return;
  }
  ScanFd(fd.get(), st, shown, finder, result);
}

bool Excluded(const fs::path& relative, const WalkOptions& options) {
  const std::string rel = relative.generic_string();
  const std::string base = relative.filename().string();
  for (const std::string& glob : options.excludes) {
    if (::fnmatch(glob.c_str(), rel.c_str(), 0) == 0) return true;
    if (::fnmatch(glob.c_str(), base.c_str(), 0) == 0) return true;
  }
  return false;
}

// Adds the regular files under `root`/`relative` that the walk keeps to `files`. A folder
// that cannot be read is an error; the walk goes on with the rest.
void CollectFiles(const fs::path& root, const fs::path& relative, const WalkOptions& options,
                  std::vector<fs::path>& files, ScanResult& result) {
  const fs::path folder = root / relative;
  std::error_code ec;
  fs::directory_iterator it(folder, ec);
  for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    const fs::path rel = relative / it->path().filename();
    const fs::file_status status = it->symlink_status(ec);
    if (ec) break;
    const bool is_folder = fs::is_directory(status);
    if ((is_folder && rel.filename() == ".git") || Excluded(rel, options)) continue;
    if (is_folder) {
      CollectFiles(root, rel, options, files, result);
    } else if (fs::is_regular_file(status)) {  // not links, devices, sockets
      files.push_back(rel);
    }
  }
  if (ec) result.errors.push_back(folder.generic_string() + ": " + ec.message());
}

void ScanFolder(const std::string& root, const WalkOptions& options, const KeyFinder& finder,
                ScanResult& result) {
  std::vector<fs::path> files;
  CollectFiles(root, "", options, files, result);
  std::sort(files.begin(), files.end());
  for (const fs::path& relative : files) {
    const fs::path full = fs::path(root) / relative;
    const std::string shown = root == "." ? relative.generic_string() : full.generic_string();
    ScanFile(full.string(), shown, finder, result);
  }
}

}  // namespace

bool ExcludedPath(std::string_view relative, const WalkOptions& options) {
  for (std::size_t end = relative.find('/'); end != std::string_view::npos;
       end = relative.find('/', end + 1)) {
    if (Excluded(fs::path(relative.substr(0, end)), options)) return true;
  }
  return Excluded(fs::path(relative), options);
}

void ScanPath(const std::string& path, const WalkOptions& options, const KeyFinder& finder,
              ScanResult& result) {
  if (path == "-") {
    struct stat st {};
    if (::fstat(STDIN_FILENO, &st) != 0) {
      result.errors.push_back("-: " + ErrnoText(errno));
      return;
    }
    ScanFd(STDIN_FILENO, st, "-", finder, result);
    return;
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    ScanFolder(path, options, finder, result);
  } else {
    ScanFile(path, path, finder, result);
  }
}

}  // namespace keyward::scan
