// Issue 18, acceptance 1: the Debian package of the build under test, installed for real.
//
// CPack packs this build tree (as `make package` packs the release build) into a temporary
// folder; lintian finds no error in it; `dpkg -i` installs it; the user, the folders, the
// conffile, the man pages, the completions and the unit are where docs/install.md says;
// `systemd-analyze verify` accepts the unit. The server then runs as the keyward user with the
// unit's own ExecStart command line (systemd does not run in CI) and tells the notify socket it
// is ready; a key made with the installed CLI passes /auth. `dpkg --purge` then leaves nothing.
//
// It changes the machine (a package, a system user): it needs root, and runs in the ci preset
// only (scripts/test-all leaves out the label `system` elsewhere). It refuses to run where
// keyward is installed already rather than purge someone's installation.
#include <fnmatch.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace keyward::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUnit = "/lib/systemd/system/keyward.service";
constexpr const char* kConf = "/etc/keyward/keyward.conf";

bool Installed() {
  ProcessResult r = RunProcess({"dpkg-query", "-W", "-f=${db:Status-Status}", "keyward"});
  return r.exit_code == 0 && !r.out.empty() && r.out != "not-installed";
}

std::string Output(const ProcessResult& r) { return r.out + r.err; }

// The abstract datagram socket systemd would pass in $NOTIFY_SOCKET ('@' and this name).
class NotifySocket {
 public:
  NotifySocket() : name_("@keyward-deb-test-" + std::to_string(::getpid())) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, name_.data() + 1, name_.size() - 1);
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) == 0;
    const timeval timeout{.tv_sec = 0, .tv_usec = 200000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& name() const { return name_; }
  bool bound() const { return bound_; }
  // The next datagram; "" after 20 s, or as soon as `*sender` (when given) has exited (then
  // reaped, and set to -1).
  std::string Receive(pid_t* sender = nullptr) {
    char buffer[4096];
    for (int tries = 0; tries < 100; ++tries) {
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n >= 0) return std::string(buffer, static_cast<std::size_t>(n));
      if (sender != nullptr && ::waitpid(*sender, nullptr, WNOHANG) == *sender) {
        *sender = -1;
        return "";
      }
    }
    return "";
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

// The unit's ExecStart= command line, split at spaces (the unit quotes nothing).
std::vector<std::string> ExecStart(const std::string& unit) {
  std::istringstream lines(unit);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("ExecStart=")) continue;
    EXPECT_EQ(line.find_first_of("\"'\\$%"), std::string::npos) << "parse it properly: " << line;
    std::istringstream words(line.substr(std::strlen("ExecStart=")));
    std::vector<std::string> argv;
    for (std::string word; words >> word;) argv.push_back(word);
    return argv;
  }
  return {};
}

// The lines of the block after "<!-- checked: NAME" in a Markdown file.
std::vector<std::string> CheckedBlock(const std::string& markdown, const std::string& name) {
  std::vector<std::string> lines;
  const auto at = markdown.find("<!-- checked: " + name);
  if (at == std::string::npos) return lines;
  const auto start = markdown.find("```", at);
  const auto first = markdown.find('\n', start) + 1;
  const auto end = markdown.find("\n```", first);
  std::istringstream block(markdown.substr(first, end - first));
  for (std::string line; std::getline(block, line);) lines.push_back(line);
  return lines;
}

// The files (not folders) in `deb`, as absolute paths.
std::vector<std::string> FilesIn(const std::string& deb) {
  ProcessResult listing = RunProcess({"dpkg-deb", "--contents", deb});
  std::vector<std::string> files;
  std::istringstream lines(listing.out);
  for (std::string line; std::getline(lines, line);) {
    const auto path = line.find(" ./");
    if (line.starts_with("d") || path == std::string::npos) continue;
    files.push_back(line.substr(path + 2));
  }
  return files;
}

std::string Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", st.st_mode & 07777);
  return text;
}

std::string Owner(const std::string& path) {
  ProcessResult r = RunProcess({"stat", "-c", "%U:%G", path});
  return r.out.empty() ? "" : r.out.substr(0, r.out.find('\n'));
}

class DebPackageTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // A failure half-way: the server stopped, and the package this test installed purged,
    // so that the next run starts clean.
    if (server_ > 0) {
      ::kill(server_, SIGKILL);
      ::waitpid(server_, nullptr, 0);
    }
    if (installed_ && Installed()) RunProcess({"dpkg", "--purge", "--no-triggers", "keyward"});
    if (!work_.empty()) RemoveTree(work_);
    if (!pack_.empty()) fs::remove_all(pack_);
  }

  std::string work_;  // the server's log, the CLI's home: for the secrets scan
  std::string pack_;  // CPack's output, outside the test artifacts (megabytes, no secret)
  bool installed_ = false;
  pid_t server_ = -1;
};

TEST_F(DebPackageTest, InstallsRunsAsItsUserAndPurgesToNothing) {
  ASSERT_EQ(::geteuid(), 0u) << "this test installs a package: it needs root";
  ASSERT_FALSE(Installed())
      << "keyward is installed on this machine: this test would install its own and purge "
         "it. Run it where keyward is not installed (dpkg --purge keyward, if that one may go).";
  ASSERT_FALSE(fs::exists("/var/lib/keyward") || fs::exists("/etc/keyward"))
      << "/var/lib/keyward or /etc/keyward exists: left by an earlier installation?";
  work_ = MakeTempDir();
  char pack[] = "/tmp/keyward-deb-XXXXXX";
  ASSERT_NE(::mkdtemp(pack), nullptr);
  pack_ = pack;

  // The package of this build, packed as `make package` packs the release build.
  auto t = std::chrono::steady_clock::now();
  auto lap = [&t](const char* what) {
    const auto now = std::chrono::steady_clock::now();
    std::cout << what << ": "
              << std::chrono::duration_cast<std::chrono::milliseconds>(now - t).count() << " ms\n";
    t = now;
  };
  ProcessResult packed =
      RunProcess({KEYWARD_CPACK, "--config", KEYWARD_BUILD_DIR "/CPackConfig.cmake", "-B", pack_});
  ASSERT_EQ(packed.exit_code, 0) << Output(packed);
  const std::string deb = pack_ + "/keyward_" KEYWARD_VERSION "_amd64.deb";
  ASSERT_TRUE(fs::exists(deb)) << Output(packed);
  lap("cpack");

  // Exactly what docs/install.md lists ('*' for the man pages).
  const std::vector<std::string> documented =
      CheckedBlock(ReadFile(KEYWARD_SOURCE_DIR "/docs/install.md"), "deb-contents");
  ASSERT_FALSE(documented.empty()) << "no checked: deb-contents block in docs/install.md";
  const std::vector<std::string> files = FilesIn(deb);
  for (const std::string& file : files) {
    EXPECT_TRUE(std::any_of(documented.begin(), documented.end(),
                            [&](const std::string& pattern) {
                              return ::fnmatch(pattern.c_str(), file.c_str(), FNM_PATHNAME) == 0;
                            }))
        << file << " is in the package, not in docs/install.md";
  }
  for (const std::string& pattern : documented) {
    EXPECT_TRUE(std::any_of(files.begin(), files.end(),
                            [&](const std::string& file) {
                              return ::fnmatch(pattern.c_str(), file.c_str(), FNM_PATHNAME) == 0;
                            }))
        << pattern << " is in docs/install.md, not in the package";
  }

  ProcessResult info = RunProcess({"dpkg-deb", "--field", deb, "Depends"});
  EXPECT_NE(info.out.find("adduser"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("libsodium"), std::string::npos) << "dpkg-shlibdeps: " << info.out;
  ProcessResult lintian = RunProcess({"lintian", "--fail-on", "error", deb});
  std::cout << "lintian:\n" << Output(lintian);
  EXPECT_EQ(lintian.exit_code, 0) << Output(lintian);
  EXPECT_EQ(Output(lintian).find("E: "), std::string::npos) << Output(lintian);
  lap("lintian");

  installed_ = true;
  // --no-triggers: man-db's index update (5-6 s, for `apropos`; `man` reads the pages without
  // it) stays pending for the next dpkg run, as it does for the purge below.
  ProcessResult install = RunProcess({"dpkg", "-i", "--no-triggers", deb});
  ASSERT_EQ(install.exit_code, 0) << Output(install);
  lap("dpkg -i");
  // Where systemd runs, postinst started the unit, which holds the data folder: stopped, so
  // that the run below (the unit's command line, as its user) is the one checked. No machine
  // here runs systemd; the unit under systemd itself is not exercised by this test.
  if (fs::exists("/run/systemd/system")) {
    ASSERT_EQ(RunProcess({"systemctl", "stop", "keyward.service"}).exit_code, 0);
  }

  // The user and its state directory.
  ProcessResult user = RunProcess({"getent", "passwd", "keyward"});
  ASSERT_EQ(user.exit_code, 0) << "no keyward user";
  EXPECT_NE(user.out.find(":/var/lib/keyward:/usr/sbin/nologin"), std::string::npos) << user.out;
  EXPECT_EQ(RunProcess({"getent", "group", "keyward"}).exit_code, 0) << "no keyward group";
  EXPECT_EQ(Mode("/var/lib/keyward"), "0700");
  EXPECT_EQ(Owner("/var/lib/keyward"), "keyward:keyward");
  // The config file: a conffile, readable by the keyward group only, with the data dir set.
  ProcessResult conffiles = RunProcess({"dpkg-query", "-W", "-f=${Conffiles}", "keyward"});
  EXPECT_NE(conffiles.out.find(kConf), std::string::npos) << conffiles.out;
  EXPECT_EQ(Mode(kConf), "0640");
  EXPECT_EQ(Owner(kConf), "root:keyward");
  EXPECT_TRUE(
      std::regex_search(ReadFile(kConf), std::regex("(^|\n)data-dir *= *\"?/var/lib/keyward\"?\n")))
      << ReadFile(kConf);
  // The binary, the unit, the man pages (gzip'd), the completions, the copyright.
  EXPECT_EQ(Mode("/usr/bin/keyward"), "0755");
  EXPECT_EQ(Mode(kUnit), "0644");
  for (const char* page : {"keyward.1.gz", "keyward-serve.1.gz", "keyward-login.1.gz"}) {
    const std::string path = std::string("/usr/share/man/man1/") + page;
    EXPECT_EQ(Mode(path), "0644") << path;
    EXPECT_EQ(RunProcess({"gzip", "-t", path}).exit_code, 0) << path;
  }
  EXPECT_EQ(Mode("/usr/share/bash-completion/completions/keyward"), "0644");
  EXPECT_EQ(Mode("/usr/share/zsh/vendor-completions/_keyward"), "0644");
  EXPECT_EQ(Mode("/usr/share/doc/keyward/copyright"), "0644");

  // The unit as systemd reads it, and its exposure score (docs/install.md quotes it).
  ProcessResult verify = RunProcess({"systemd-analyze", "verify", kUnit});
  EXPECT_EQ(verify.exit_code, 0) << Output(verify);
  EXPECT_EQ(Output(verify), "") << "systemd-analyze verify has remarks";
  ProcessResult security =
      RunProcess({"systemd-analyze", "security", "--offline=yes", "--no-pager", kUnit});
  std::smatch score;
  const std::string security_out = Output(security);
  ASSERT_TRUE(std::regex_search(security_out, score,
                                std::regex("Overall exposure level for keyward.service: "
                                           "([0-9.]+)")))
      << security_out;
  std::cout << score[0] << "\n";
  // docs/install.md quotes the score: a change of the unit that changes it changes the page.
  std::smatch documented_score;
  const std::string install_md = ReadFile(KEYWARD_SOURCE_DIR "/docs/install.md");
  ASSERT_TRUE(std::regex_search(install_md, documented_score,
                                std::regex("rates its\\s+exposure ([0-9.]+)")));
  EXPECT_EQ(score[1].str(), documented_score[1].str()) << "docs/install.md has another score:\n"
                                                       << security_out;
  lap("checks");

  // The server as the unit starts it, as its user, on a free port (KEYWARD_LISTEN: variables
  // win over the file).
  const std::string unit = ReadFile(kUnit);
  std::vector<std::string> argv = ExecStart(unit);
  ASSERT_EQ(argv.size(), 4u) << unit;
  EXPECT_EQ(argv[0], "/usr/bin/keyward");
  EXPECT_NE(unit.find("\nUser=keyward\n"), std::string::npos);
  EXPECT_NE(unit.find("\nType=notify\n"), std::string::npos);
  argv.insert(argv.begin(),
              {"setpriv", "--reuid", "keyward", "--regid", "keyward", "--init-groups", "--"});
  NotifySocket notify;
  ASSERT_TRUE(notify.bound());
  const std::string log_path = work_ + "/server.log";
  server_ = Spawn(argv, log_path,
                  {{"KEYWARD_LISTEN", "127.0.0.1:0"},
                   {"NOTIFY_SOCKET", notify.name()},
                   {"KEYWARD_ADMIN_PASSWORD", ""},
                   {"HOME", "/var/lib/keyward"}});
  ASSERT_GT(server_, 0);
  ASSERT_EQ(notify.Receive(&server_), "READY=1") << ReadFile(log_path);
  const std::string log = ReadFile(log_path);
  std::smatch listening;
  ASSERT_TRUE(std::regex_search(log, listening, std::regex("listening on http://127.0.0.1:(\\d+)")))
      << log;
  const std::string url = "http://127.0.0.1:" + listening[1].str();
  const auto port = static_cast<std::uint16_t>(std::stoi(listening[1]));
  lap("start");

  // Not a terminal: the first user's password is in the state directory, the keyward user's.
  const std::string password_file = "/var/lib/keyward/initial-admin-password";
  EXPECT_EQ(Mode(password_file), "0600");
  EXPECT_EQ(Owner(password_file), "keyward:keyward");
  std::string password = ReadFile(password_file);
  password = password.substr(0, password.find('\n'));
  ASSERT_FALSE(password.empty());
  RememberSecret(password);

  // A key made with the installed CLI, then verified at /auth.
  const std::string home = work_ + "/home";
  fs::create_directory(home);
  const std::map<std::string, std::string> cli_env = {
      {"HOME", home}, {"XDG_CONFIG_HOME", ""}, {"KEYWARD_APIKEY", ""}, {"KEYWARD_SERVER", ""}};
  ProcessResult login =
      RunProcess({"/usr/bin/keyward", "login", "--server", url, "-u", "admin", "--password-stdin"},
                 cli_env, password + "\n");
  ASSERT_EQ(login.exit_code, 0) << Output(login);
  ProcessResult created = RunProcess(
      {"/usr/bin/keyward", "user", "apikey", "create", "-n", "from-the-package"}, cli_env);
  ASSERT_EQ(created.exit_code, 0) << Output(created);
  std::smatch key;
  ASSERT_TRUE(std::regex_search(created.out, key, std::regex("kw_[0-9A-Za-z]{49}")))
      << "no key in the output";
  RememberSecret(key.str());
  HttpResult auth = Call(port, "GET", "/auth", "", {{"Authorization", "Bearer " + key.str()}});
  EXPECT_EQ(auth.status, 200) << auth.body;
  EXPECT_EQ(auth.Header("x-keyward-user"), "admin");
  EXPECT_EQ(
      Call(port, "GET", "/auth", "", {{"Authorization", "Bearer " + WithTypo(key.str())}}).status,
      401);
  lap("key");

  // Stopped as systemd stops it: SIGTERM, and STOPPING=1 first.
  ASSERT_EQ(::kill(server_, SIGTERM), 0);
  EXPECT_EQ(notify.Receive(), "STOPPING=1");
  int status = 0;
  ASSERT_EQ(::waitpid(server_, &status, 0), server_);
  server_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(log_path);
  ExpectNoSecretsIn({log_path});

  // A changed config file is the administrator's: installing the package again (the upgrade
  // path of the maintainer scripts) keeps it, its owner and mode, and the data. `dpkg -r`
  // removes the program but keeps the config file, the data and the user; only purge takes them.
  { std::ofstream(kConf, std::ios::app) << "# changed by deb_package_test\n"; }
  ProcessResult again = RunProcess({"dpkg", "-i", "--no-triggers", deb});
  ASSERT_EQ(again.exit_code, 0) << Output(again);
  EXPECT_NE(ReadFile(kConf).find("# changed by deb_package_test"), std::string::npos);
  EXPECT_EQ(Mode(kConf), "0640");
  EXPECT_TRUE(fs::exists("/var/lib/keyward/keyward.db"));
  ProcessResult remove = RunProcess({"dpkg", "-r", "--no-triggers", "keyward"});
  ASSERT_EQ(remove.exit_code, 0) << Output(remove);
  EXPECT_FALSE(fs::exists("/usr/bin/keyward"));
  EXPECT_NE(ReadFile(kConf).find("# changed by deb_package_test"), std::string::npos);
  EXPECT_TRUE(fs::exists("/var/lib/keyward/keyward.db"));
  EXPECT_EQ(RunProcess({"getent", "passwd", "keyward"}).exit_code, 0) << "remove took the user";
  lap("reinstall, remove");

  ProcessResult purge = RunProcess({"dpkg", "--purge", "--no-triggers", "keyward"});
  ASSERT_EQ(purge.exit_code, 0) << Output(purge);
  lap("purge");
  EXPECT_FALSE(Installed());
  for (const char* path : {"/usr/bin/keyward", "/etc/keyward", "/var/lib/keyward", kUnit,
                           "/usr/share/man/man1/keyward.1.gz", "/usr/share/doc/keyward",
                           "/usr/share/bash-completion/completions/keyward",
                           "/usr/share/zsh/vendor-completions/_keyward",
                           "/etc/systemd/system/multi-user.target.wants/keyward.service"}) {
    EXPECT_FALSE(fs::exists(fs::symlink_status(path))) << path << " is left";
  }
  EXPECT_NE(RunProcess({"getent", "passwd", "keyward"}).exit_code, 0) << "the user is left";
  EXPECT_NE(RunProcess({"getent", "group", "keyward"}).exit_code, 0) << "the group is left";
  EXPECT_EQ(RunProcess({"dpkg-statoverride", "--list", kConf}).exit_code, 1)
      << "the config file's owner override is left";
}

}  // namespace
}  // namespace keyward::testing
