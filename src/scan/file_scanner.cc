#include "scan/file_scanner.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
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

// Scans the open descriptor `fd`, named `shown` in findings, block by block: memory stays
// bounded on a stream that never ends, and a small file takes one read. `size`: a regular file's
// size when opened, read no further (a file that grows is scanned as it was); -1 for a stream, read
// to its end.
void ScanFd(int fd, long long size, const std::string& shown, const KeyFinder& finder,
            ScanResult& result) {
  long long left = size;
  const ReadFunction read = [&](char* to, std::size_t n) -> ssize_t {
    if (size < 0) return ::read(fd, to, n);
    if (left == 0) return 0;
    const ssize_t got = ::read(fd, to, std::min(n, static_cast<std::size_t>(left)));
    if (got > 0) left -= got;
    return got;
  };
  // A regular file needs no buffer larger than itself (a folder of small files would otherwise
  // zero a block per file).
  const std::size_t block =
      size < 0 ? kScanBlockBytes
               : std::clamp(static_cast<std::size_t>(size), std::size_t{1}, kScanBlockBytes);
  const long long read_bytes = ScanBlocks(read, block, finder, shown, result.findings);
  if (read_bytes < 0) {
    result.errors.push_back(shown + ": " + ErrnoText(errno));
  } else if (size >= 0 && read_bytes < size) {
    result.errors.push_back(shown + ": changed while being scanned (now shorter)");
  }
}

// The mapping being scanned, for the SIGBUS handler: [begin, end), the page size and the handler
// it replaced, set before it is installed; `lost_pages` set by the handler.
std::atomic<std::uintptr_t> g_map_begin{0}, g_map_end{0}, g_page_bytes{4096};
struct sigaction g_previous_sigbus {};
volatile sig_atomic_t g_lost_pages = 0;

// A file cut short while mapped raises SIGBUS on its missing pages (an I/O error too). Within the
// mapping: zero pages are mapped over the rest of it (zeros hold no key), and the scan goes on to
// report the file. Any other SIGBUS goes to the handler this one replaced (the default action,
// or a sanitizer's): the fault repeats with it, a signal sent by a process is raised again. Only
// system calls, which Linux runs safely in a handler (mmap is not on POSIX's list, but is a
// plain system call in glibc); errno is kept.
void OnSigbus(int signal, siginfo_t* info, void* /*context*/) {
  const int saved_errno = errno;
  const auto at = reinterpret_cast<std::uintptr_t>(info->si_addr);
  const std::uintptr_t begin = g_map_begin.load(std::memory_order_relaxed);
  const std::uintptr_t end = g_map_end.load(std::memory_order_relaxed);
  if (info->si_code > 0 && at >= begin && at < end) {  // a fault, not a signal sent
    const std::uintptr_t page = at & ~(g_page_bytes.load(std::memory_order_relaxed) - 1);
    // NOLINTNEXTLINE(performance-no-int-to-ptr): the address of the faulting page
    void* zeros = ::mmap(reinterpret_cast<void*>(page), end - page, PROT_READ,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (zeros != MAP_FAILED) {
      g_lost_pages = 1;
      errno = saved_errno;
      return;
    }
  }
  ::sigaction(signal, &g_previous_sigbus, nullptr);
  if (info->si_code <= 0) ::raise(signal);  // a fault repeats by itself on return
  errno = saved_errno;
}

// Installs OnSigbus for the mapping [map, map + size) and takes it away again.
class SigbusGuard {
 public:
  SigbusGuard(const void* map, std::size_t size) {
    g_page_bytes.store(static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE)));
    g_map_begin.store(reinterpret_cast<std::uintptr_t>(map));
    g_map_end.store(reinterpret_cast<std::uintptr_t>(map) + size);
    g_lost_pages = 0;
    struct sigaction on_sigbus {};
    on_sigbus.sa_sigaction = OnSigbus;
    on_sigbus.sa_flags = SA_SIGINFO;
    sigemptyset(&on_sigbus.sa_mask);
    ::sigaction(SIGBUS, &on_sigbus, &g_previous_sigbus);
  }
  ~SigbusGuard() {
    ::sigaction(SIGBUS, &g_previous_sigbus, nullptr);
    g_map_begin.store(0);
    g_map_end.store(0);
  }
  SigbusGuard(const SigbusGuard&) = delete;
  SigbusGuard& operator=(const SigbusGuard&) = delete;
};

// Unmaps a mapping when done.
class Mapping {
 public:
  Mapping(void* map, std::size_t size) : map_(map), size_(size) {}
  ~Mapping() { ::munmap(map_, size_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  std::string_view text() const { return {static_cast<const char*>(map_), size_}; }

 private:
  void* map_;
  std::size_t size_;
};

}  // namespace

bool ScanMappedFile(int fd, std::size_t size, const std::string& shown, const KeyFinder& finder,
                    ScanResult& result, const std::function<void()>& before_scan) {
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) return false;
  const Mapping mapping(map, size);
  bool lost_pages = false;
  {
    const SigbusGuard guard(map, size);
    if (before_scan) before_scan();
    ScanText(mapping.text(), finder, shown, "", result.findings);
    lost_pages = g_lost_pages != 0;
  }
  // Cut short, with or without a SIGBUS (not when the cut fell in the last page or in pages
  // already searched), as the block reader reports it; pages lost on a file as long as before
  // were an I/O error.
  struct stat now {};
  if (::fstat(fd, &now) == 0 && static_cast<std::size_t>(now.st_size) < size) {
    result.errors.push_back(shown + ": changed while being scanned (now shorter)");
  } else if (lost_pages) {
    result.errors.push_back(shown + ": could not be read to its end (an I/O error)");
  }
  return true;
}

namespace {

// Opens `path` for a scan: a regular file only. O_NONBLOCK, so that opening a FIFO with no
// writer does not block; cleared again for the reads. -1 after adding an error to `result`.
int OpenRegularFile(const std::string& path, const std::string& shown, struct stat& st,
                    ScanResult& result) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    result.errors.push_back(shown + ": " + ErrnoText(errno));
    if (fd >= 0) ::close(fd);
    return -1;
  }
  std::string refused;
  if (S_ISDIR(st.st_mode)) {
    refused = "is a folder";
  } else if (!S_ISREG(st.st_mode)) {
    refused = "not a regular file (a FIFO, socket or device); pipe it to `keyward scan -`";
  } else if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
    refused = ErrnoText(errno);
  }
  if (refused.empty()) return fd;
  result.errors.push_back(shown + ": " + refused);
  ::close(fd);
  return -1;
}

void ScanFile(const std::string& path, const std::string& shown, const KeyFinder& finder,
              ScanResult& result) {
  struct stat st {};
  Fd fd(OpenRegularFile(path, shown, st, result));
  if (fd.get() < 0) return;
  // A file of one block or less takes one read; a larger one is mapped, and read if it cannot be.
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > kScanBlockBytes && ScanMappedFile(fd.get(), size, shown, finder, result)) return;
  ScanFd(fd.get(), static_cast<long long>(st.st_size), shown, finder, result);
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
    ScanFd(STDIN_FILENO, -1, "-", finder, result);
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
