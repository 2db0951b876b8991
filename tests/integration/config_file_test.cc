// `keyward serve --config FILE` with the real binary: a server whose address and data dir come
// from the file alone (named by --config, and by KEYWARD_CONFIG), a server whose flags win over
// the file (the example file of docs/server.md, "checked: config-example", whose settings are
// then seen at work), and files that stop the start with exit code 2 and `<file>:<line>:`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace keyward::testing {
namespace {

namespace fs = std::filesystem;

// The code block after "<!-- checked: NAME" in docs/PAGE, without its fences.
std::string DocExample(const std::string& page = "server.md",
                       const std::string& name = "config-example") {
  const std::string doc = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/" + page);
  const std::size_t mark = doc.find("<!-- checked: " + name + " ");
  EXPECT_NE(mark, std::string::npos) << "docs/" << page << " lost its example config file";
  if (mark == std::string::npos) return "";
  const std::size_t body = doc.find('\n', doc.find("```", mark));
  const std::size_t close = doc.find("\n```", body);
  if (body == std::string::npos || close == std::string::npos) return "";
  return doc.substr(body + 1, close - body);
}

// The port of the "listening on http://127.0.0.1:PORT" line of `log`, 0 when not there yet.
std::uint16_t PortIn(const std::string& log) {
  std::smatch m;
  static const std::regex kListening("listening on http://127\\.0\\.0\\.1:(\\d+) ");
  return std::regex_search(log, m, kListening) ? static_cast<std::uint16_t>(std::stoi(m[1])) : 0;
}

class ServeConfigFile : public ::testing::Test {
 protected:
  ServeConfigFile() : dir_(MakeTempDir()) {}
  ~ServeConfigFile() override { RemoveTree(dir_); }

  // Starts `keyward serve` with `args` only (no --listen, no --data-dir) and `env`, waits for
  // it to listen and returns its port (0 when it did not); Stop() ends it.
  std::uint16_t StartBare(const std::vector<std::string>& args,
                          std::map<std::string, std::string> env) {
    log_ = dir_ + "/bare-" + std::to_string(++starts_) + ".log";
    std::vector<std::string> argv = {KeywardBinary(), "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    env.try_emplace("KEYWARD_ADMIN_PASSWORD", kAdminPassword);
    pid_ = Spawn(argv, log_, env);
    std::uint16_t port = 0;
    const bool up = Eventually(
        [&] {
          port = PortIn(ReadFile(log_));
          return port != 0 || ::waitpid(pid_, nullptr, WNOHANG) == pid_;
        },
        std::chrono::seconds(20));
    EXPECT_TRUE(up && port != 0) << "keyward did not start:\n" << ReadFile(log_);
    return port;
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(log_);
  }

  void TearDown() override { Stop(); }

  // Runs `keyward serve --config <file holding text>` that must refuse to start; returns its
  // standard error, the file's path in place of <file>.
  std::string Refused(const std::string& text) {
    const std::string path = dir_ + "/bad.conf";
    WriteFile(path, text);
    const ProcessResult r = RunKeyward({"serve", "--config", path}, {});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    std::string err = r.err;
    for (std::size_t at; (at = err.find(path)) != std::string::npos;)
      err.replace(at, path.size(), "<file>");
    return err;
  }

  std::string dir_;
  std::string log_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

TEST_F(ServeConfigFile, ListenAndDataDirComeFromTheFile) {
  const std::string conf = dir_ + "/keyward.conf";
  WriteFile(conf,
            "# only from this file\nlisten = 127.0.0.1:0\ndata-dir = \"" + dir_ + "/from-file\"\n");
  for (const bool by_variable : {false, true}) {
    SCOPED_TRACE(by_variable ? "KEYWARD_CONFIG" : "--config");
    const std::uint16_t port =
        by_variable ? StartBare({}, {{"KEYWARD_CONFIG", conf}}) : StartBare({"--config", conf}, {});
    ASSERT_NE(port, 0);
    EXPECT_EQ(Call(port, "GET", "/healthz").status, 200);
    EXPECT_NE(ReadFile(log_).find("sqlite in " + dir_ + "/from-file"), std::string::npos)
        << ReadFile(log_);
    EXPECT_TRUE(fs::exists(dir_ + "/from-file/keyward.db"));
    Stop();
  }
}

TEST_F(ServeConfigFile, FlagsWinOverTheDocsExample) {
  const std::string example = DocExample();
  ASSERT_NE(example.find("data-dir = /var/lib/keyward"), std::string::npos) << example;
  const std::string conf = dir_ + "/keyward.conf";
  WriteFile(conf, example);
  // The harness gives --listen 127.0.0.1:0 and --data-dir: they win over the file's.
  auto server = ServerProcess::Start({"--config", conf});
  ASSERT_NE(server->port(), 0);
  EXPECT_NE(server->Log().find("sqlite in " + server->data_dir()), std::string::npos)
      << server->Log();
  // The file's other settings are at work: the key prefix, and the issuer with its audiences
  // (a repeatable flag on two lines).
  const std::string session = server->Login("admin", kAdminPassword);
  EXPECT_TRUE(server->NewKey(session, "admin", "from-conf").starts_with("acme_"));
  const HttpResult discovery = Call(server->port(), "GET", "/.well-known/openid-configuration");
  ASSERT_EQ(discovery.status, 200) << discovery.body;
  EXPECT_EQ(std::string(discovery.Json().as_object().at("issuer").as_string()),
            "https://keys.example.com");
  EXPECT_EQ(server->Stop(), 0);
}

TEST_F(ServeConfigFile, BadFilesStopTheStartWithFileAndLine) {
  const std::regex error_line("ERRO(\\[\\d+\\])? <file>:(\\d+): [^\n]+\n");
  struct Case {
    std::string text;
    std::string line_and_what;
  } cases[] = {
      {"listen = 127.0.0.1:0\n# a typo\nlisen = 127.0.0.1:1\n",
       "<file>:3: unknown setting 'lisen'"},
      {"\nmax-validity = 3x\n", "<file>:2: max-validity: "},
      {"listen = 127.0.0.1:0\nreveal\n", "<file>:2: no '=': write name = value"},
      {"log-level = info\nlog-level = debug\n", "<file>:2: log-level is set again"},
      {"config = /etc/keyward/keyward.conf\n", "<file>:1: config cannot be set in a config file"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string err = Refused(c.text + "data-dir = " + dir_ + "/never\n");
    EXPECT_TRUE(std::regex_match(err, error_line)) << err;
    EXPECT_NE(err.find(c.line_and_what), std::string::npos) << err;
    EXPECT_EQ(err.find("--help"), std::string::npos) << err;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/never"));
  // A file that cannot be read: its name and the reason.
  const ProcessResult missing = RunKeyward({"serve", "--config", dir_ + "/missing.conf"}, {});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read config file " + dir_ +
                             "/missing.conf: No such file or "
                             "directory"),
            std::string::npos)
      << missing.err;
}

// docs/install.md's example for the package's /etc/keyward/keyward.conf: it parses, and its
// settings are at work where flags do not replace them (the harness's --listen and --data-dir,
// and --db "" here for its PostgreSQL, which is not on this machine): every log line is JSON.
TEST_F(ServeConfigFile, TheInstallPagesExampleParsesAndItsLogFormatWorks) {
  const std::string example = DocExample("install.md", "config-install");
  ASSERT_NE(example.find("log-format = json"), std::string::npos) << example;
  const std::string conf = dir_ + "/install.conf";
  WriteFile(conf, example);
  auto server = ServerProcess::Start({"--config", conf, "--db", ""});
  ASSERT_NE(server->port(), 0);
  const std::string log = server->Log();
  ASSERT_FALSE(log.empty());
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(line.starts_with("{\"time\":")) << line;
  }
  EXPECT_EQ(server->Stop(), 0);
}

}  // namespace
}  // namespace keyward::testing
