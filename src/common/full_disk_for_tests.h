// A disk that fills up, for tests only (the store's and the integration tests' full-disk
// cases): a real tmpfs of a given size, mounted for the test, and a filler file that takes its
// last free byte.
//
//   std::string why;
//   auto tmpfs = TmpfsMount::Make("16m", &why);
//   if (tmpfs == nullptr) { if (UnderCi()) FAIL() << why; GTEST_SKIP() << why; }
//   ... use tmpfs->path() ...
//   ASSERT_EQ(FillUp(tmpfs->path() + "/filler"), 0);
//
// Mounting needs root (mount(2)). The mount is made in a mount namespace of the calling
// thread's own, which the processes it starts inherit and whose mounts do not propagate to the
// rest of the machine: it goes with the test process however that ends, even killed by a
// timeout; the destructor unmounts it before that.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace keyward {

// Whether the tests run under CI (CI=true), where a test that cannot mount must fail, not skip.
inline bool UnderCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

// A tmpfs mounted on a new folder under $TMPDIR (or /tmp); unmounted, and the folder removed,
// when destroyed.
class TmpfsMount {
 public:
  // `size` as mount's size= option takes it ("16m"). nullptr, with the reason in `why`, when
  // it cannot be mounted (not root, no mount namespaces).
  static std::unique_ptr<TmpfsMount> Make(const std::string& size, std::string* why) {
    if (::geteuid() != 0) {
      *why = "mounting a tmpfs needs root";
      return nullptr;
    }
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      *why = std::string("cannot make a private mount namespace: ") + std::strerror(errno);
      return nullptr;
    }
    std::string folder = (std::filesystem::temp_directory_path() / "keyward-tmpfs-XXXXXX").string();
    if (::mkdtemp(folder.data()) == nullptr) {
      *why = "mkdtemp " + folder + ": " + std::strerror(errno);
      return nullptr;
    }
    std::unique_ptr<TmpfsMount> m(new TmpfsMount(std::move(folder)));
    const std::string options = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", m->path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      *why = "mount -t tmpfs -o " + options + " tmpfs " + m->path_ + ": " + std::strerror(errno);
      return nullptr;  // the destructor removes the folder
    }
    m->mounted_ = true;
    return m;
  }

  ~TmpfsMount() {
    if (mounted_ && ::umount2(path_.c_str(), 0) != 0) {
      // Busy: a process still has a file open there (a server a failed assertion left
      // running). Detached, it goes when that process closes it.
      ADD_FAILURE() << "umount " << path_ << ": " << std::strerror(errno) << "; detaching it";
      ::umount2(path_.c_str(), MNT_DETACH);
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::string& path() const { return path_; }

 private:
  explicit TmpfsMount(std::string path) : path_(std::move(path)) {}

  std::string path_;
  bool mounted_ = false;
};

// The bytes an unprivileged write may still take on the file system of `path`; -1 on error.
inline std::int64_t FreeBytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize);
}

// Fills the file system of `path` (a new file) up to its last byte, as fallocate(1) and then
// dd(1) would: fallocate what is free, then append 4 KiB at a time until ENOSPC. Returns the
// free bytes left (0), or -1 on an error other than a full disk.
inline std::int64_t FillUp(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  // A server writing meanwhile can take space between statvfs and fallocate, which then fails
  // as a whole: a few tries, each for what is free at that moment.
  std::int64_t held = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const std::int64_t free_bytes = FreeBytes(path);
    if (free_bytes <= 0) break;
    if (::fallocate(fd, 0, held, free_bytes) == 0) {
      held += free_bytes;
      break;
    }
    if (errno != ENOSPC) {
      ::close(fd);
      return -1;
    }
  }
  const std::string block(4096, 'f');
  for (int i = 0; i < 64 * 256; ++i) {  // bounded: 64 MiB, more than these tests mount
    const ssize_t wrote = ::pwrite(fd, block.data(), block.size(), held);
    if (wrote < 0 && errno != ENOSPC) {
      ::close(fd);
      return -1;
    }
    if (wrote < static_cast<ssize_t>(block.size())) break;  // ENOSPC, or a short write before it
    held += wrote;
  }
  ::close(fd);
  return FreeBytes(path);
}

}  // namespace keyward
