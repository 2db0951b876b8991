// `keyward serve --config FILE`: the file's format, and precedence: flag > KEYWARD_* variable >
// file > default, for a string, a duration, a boolean flag and a repeatable flag.
#include "app/config_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "app/config.h"
#include "app/serve_flags.h"
#include "app/serve_flags_test_util.h"
#include "cli/generate.h"
#include "common/status_matchers.h"

namespace keyward {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Config ParseServe(std::vector<std::string> args) { return ParseServeArgs(std::move(args)); }

// A file holding `text`, removed with the fixture.
class ConfigFileTest : public ::testing::Test {
 protected:
  ConfigFileTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("kw-config-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  ~ConfigFileTest() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& text, const std::string& name = "keyward.conf") const {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // The message of the ConfigFileError that parsing `args` throws; "" when none.
  static std::string ErrorOf(const std::vector<std::string>& args) {
    try {
      ParseServe(args);
    } catch (const ConfigFileError& e) {
      EXPECT_EQ(e.get_exit_code(), 2);
      return e.what();
    }
    return "";
  }

  std::filesystem::path dir_;
};

TEST(ParseConfigText, NamesAndValues) {
  const auto settings = ParseConfigText(
      "\xEF\xBB\xBF# a comment\n"
      "\n"
      "listen = 127.0.0.1:9000\n"
      "   # an indented comment\n"
      "\tdata-dir=/var/lib/keyward  \r\n"
      "key-prefix = \"a \\\"quoted\\\" \\\\ value\"  \n"
      "db = postgresql://h/db?x=1#frag\n"
      "token-audience = \"\"\n"
      "issuer =\n",
      "k.conf");
  ASSERT_THAT(settings, IsOk());
  ASSERT_EQ(settings->size(), 6u);
  const std::vector<ConfigSetting>& s = *settings;
  EXPECT_EQ(s[0].name, "listen");
  EXPECT_EQ(s[0].value, "127.0.0.1:9000");
  EXPECT_EQ(s[0].line, 3);
  EXPECT_EQ(s[1].name, "data-dir");
  EXPECT_EQ(s[1].value, "/var/lib/keyward");
  EXPECT_EQ(s[1].line, 5);
  EXPECT_EQ(s[2].value, "a \"quoted\" \\ value");
  // The first '=' ends the name; a '#' after the '=' is part of the value.
  EXPECT_EQ(s[3].value, "postgresql://h/db?x=1#frag");
  EXPECT_EQ(s[4].value, "");
  EXPECT_EQ(s[5].name, "issuer");
  EXPECT_EQ(s[5].value, "");
  EXPECT_EQ(s[5].line, 9);
  EXPECT_THAT(ParseConfigText("", "k.conf"), IsOk());
}

TEST(ParseConfigText, ErrorsNameFileAndLine) {
  const auto error = [](const char* text) {
    return ParseConfigText(text, "/etc/k.conf").status().message();
  };
  EXPECT_EQ(error("# ok\nlisten 127.0.0.1:1\n"), "/etc/k.conf:2: no '=': write name = value");
  EXPECT_EQ(error("\n\n = 3\n"), "/etc/k.conf:3: no name before '='");
  EXPECT_EQ(error("key-prefix = \"abc\n"), "/etc/k.conf:1: key-prefix: no closing quote");
  EXPECT_EQ(error("key-prefix = \"abc\" x\n"),
            "/etc/k.conf:1: key-prefix: text after the closing quote");
  EXPECT_EQ(error("key-prefix = \"a\\nb\"\n"),
            "/etc/k.conf:1: key-prefix: in a quoted value only \\\" and \\\\ are escapes");
  EXPECT_THAT(ParseConfigText(std::string("listen = a\0b\n", 13), "k"),
              StatusIs(StatusCode::kInvalidArgument, "k:1: a NUL byte: not a text file"));
  // A value is never repeated in a message: it may be a secret (a --db URL's password).
  EXPECT_THAT(error("db = \"postgresql://u:hunter2@h/db\n"), Not(HasSubstr("hunter2")));
}

TEST_F(ConfigFileTest, UnreadableFileNamesFileAndReason) {
  EXPECT_THAT(ReadConfigFile((dir_ / "missing.conf").string()),
              StatusIs(StatusCode::kInvalidArgument, "cannot read config file " +
                                                         (dir_ / "missing.conf").string() +
                                                         ": No such file or directory"));
  EXPECT_THAT(ReadConfigFile(dir_.string()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(": Is a directory")));
  EXPECT_THAT(ReadConfigFile(Write(std::string((1 << 20) + 1, '#'))),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("larger than 1 MB")));
  EXPECT_EQ(ErrorOf({"--config", (dir_ / "missing.conf").string()}),
            "cannot read config file " + (dir_ / "missing.conf").string() +
                ": No such file or directory");
}

TEST_F(ConfigFileTest, FileSetsWhatItNames) {
  const Config c = ParseServe({"--config", Write("listen = 127.0.0.1:9000\n"
                                                 "max-validity = 30d\n"
                                                 "allow-query-key = true\n"
                                                 "token-audience = pulsar\n"
                                                 "token-audience = trino;typ=JWT\n"
                                                 "trusted-proxies = 10.0.0.0/8, 192.0.2.1\n"
                                                 "threads = 3\n")});
  EXPECT_EQ(c.listen, "127.0.0.1:9000");
  EXPECT_EQ(c.service.max_validity, 30 * 86400);
  EXPECT_TRUE(c.allow_query_key);
  ASSERT_EQ(c.token.audiences.size(), 2u);
  EXPECT_EQ(c.token.audiences[0].name, "pulsar");
  EXPECT_EQ(c.token.audiences[1].typ, "JWT");
  EXPECT_EQ(c.trusted_proxies.size(), 2u);
  EXPECT_EQ(c.network_threads, 3);
  // Not in the file: the default.
  EXPECT_EQ(c.data_dir, Config().data_dir);
  EXPECT_EQ(c.service.default_validity, Config().service.default_validity);
  EXPECT_FALSE(ParseServe({"--config", Write("allow-query-key = false\n")}).allow_query_key);
  EXPECT_FALSE(ParseServe({"--config", Write("reveal = false\n")}).service.reveal);
}

// NOLINTBEGIN(concurrency-mt-unsafe): setenv in a test that runs no other thread.
TEST_F(ConfigFileTest, FlagThenVariableThenFileThenDefault) {
  const std::string file = Write(
      "listen = 127.0.0.1:1001\n"
      "max-validity = 10d\n"
      "allow-query-key = true\n"
      "token-audience = file-a\n"
      "token-audience = file-b\n");
  const Config from_file = ParseServe({"--config", file});
  EXPECT_EQ(from_file.listen, "127.0.0.1:1001");
  EXPECT_EQ(from_file.service.max_validity, 10 * 86400);
  EXPECT_TRUE(from_file.allow_query_key);
  ASSERT_EQ(from_file.token.audiences.size(), 2u);

  ::setenv("KEYWARD_LISTEN", "127.0.0.1:1002", 1);
  ::setenv("KEYWARD_MAX_VALIDITY", "20d", 1);
  ::setenv("KEYWARD_ALLOW_QUERY_KEY", "false", 1);
  ::setenv("KEYWARD_TOKEN_AUDIENCE", "env-a", 1);
  const Config from_env = ParseServe({"--config", file});
  const Config from_flags =
      ParseServe({"--config", file, "--listen", "127.0.0.1:1003", "--max-validity", "30d",
                  "--allow-query-key", "--token-audience", "flag-a"});
  for (const char* name : {"KEYWARD_LISTEN", "KEYWARD_MAX_VALIDITY", "KEYWARD_ALLOW_QUERY_KEY",
                           "KEYWARD_TOKEN_AUDIENCE"}) {
    ::unsetenv(name);
  }
  EXPECT_EQ(from_env.listen, "127.0.0.1:1002");
  EXPECT_EQ(from_env.service.max_validity, 20 * 86400);
  EXPECT_FALSE(from_env.allow_query_key);
  ASSERT_EQ(from_env.token.audiences.size(), 1u);
  EXPECT_EQ(from_env.token.audiences[0].name, "env-a");

  EXPECT_EQ(from_flags.listen, "127.0.0.1:1003");
  EXPECT_EQ(from_flags.service.max_validity, 30 * 86400);
  EXPECT_TRUE(from_flags.allow_query_key);
  ASSERT_EQ(from_flags.token.audiences.size(), 1u);
  EXPECT_EQ(from_flags.token.audiences[0].name, "flag-a");

  // And with no file: the defaults.
  const Config none = ParseServe({});
  EXPECT_EQ(none.listen, Config().listen);
  EXPECT_FALSE(none.allow_query_key);
  EXPECT_TRUE(none.token.audiences.empty());
}

TEST_F(ConfigFileTest, OldThreadVariableWinsOverTheFile) {
  const std::string file = Write("network-threads = 3\nblocking-threads = 8\n");
  ::setenv("KEYWARD_THREADS", "5", 1);
  const Config c = ParseServe({"--config", file});
  ::unsetenv("KEYWARD_THREADS");
  EXPECT_EQ(c.network_threads, 5);
  EXPECT_EQ(c.blocking_threads, 8);
}

TEST_F(ConfigFileTest, ConfigVariableNamesTheFileAndTheFlagWins) {
  ::setenv("KEYWARD_CONFIG", Write("listen = 127.0.0.1:2001\n", "env.conf").c_str(), 1);
  const Config from_variable = ParseServe({});
  const Config from_flag =
      ParseServe({"--config", Write("listen = 127.0.0.1:2002\n", "flag.conf")});
  ::unsetenv("KEYWARD_CONFIG");
  EXPECT_EQ(from_variable.listen, "127.0.0.1:2001");
  EXPECT_EQ(from_flag.listen, "127.0.0.1:2002");
}

TEST_F(ConfigFileTest, AnotherCommandDoesNotReadIt) {
  ::setenv("KEYWARD_CONFIG", (dir_ / "missing.conf").c_str(), 1);
  CLI::App app;
  Config config;
  AddServeFlags(app.add_subcommand("serve"), config);
  bool ran = false;
  app.add_subcommand("version")->callback([&ran] { ran = true; });
  EXPECT_NO_THROW(app.parse(std::vector<std::string>{"version"}));
  ::unsetenv("KEYWARD_CONFIG");
  EXPECT_TRUE(ran);
}
// NOLINTEND(concurrency-mt-unsafe)

TEST_F(ConfigFileTest, HelpDoesNotReadIt) {
  EXPECT_THROW(ParseServe({"--config", (dir_ / "missing.conf").string(), "--help"}),
               CLI::CallForHelp);
}

TEST_F(ConfigFileTest, BadSettingsNameFileAndLine) {
  const auto error = [this](const std::string& text) {
    const std::string path = Write(text);
    const std::string message = ErrorOf({"--config", path});
    EXPECT_TRUE(message.starts_with(path + ":")) << message;
    return message.substr(std::min(message.size(), path.size()));
  };
  EXPECT_EQ(error("# settings\nlisten = 127.0.0.1:1\nlisen = 127.0.0.1:2\n"),
            ":3: unknown setting 'lisen' (the names are keyward serve's flags without their --)");
  EXPECT_THAT(error("--listen = 127.0.0.1:1\n"), HasSubstr(":1: unknown setting '--listen'"));
  EXPECT_THAT(error("help = true\n"), HasSubstr(":1: unknown setting 'help'"));
  EXPECT_EQ(error("config = /etc/other.conf\n"), ":1: config cannot be set in a config file");
  EXPECT_EQ(error("listen = 127.0.0.1:1\n\nlisten = 127.0.0.1:2\n"),
            ":3: listen is set again (line 1 set it); only a repeatable flag may be on several "
            "lines");
  // Two names of one setting are one setting.
  EXPECT_THAT(error("network-threads = 2\nthreads = 3\n"),
              HasSubstr(":2: threads is set again (line 1 set it)"));
  EXPECT_EQ(error("allow-query-key = yes\n"), ":1: allow-query-key takes true or false");
  EXPECT_EQ(error("allow-query-key = true\nallow-query-key = true\n"),
            ":2: allow-query-key is set again (line 1 set it); only a repeatable flag may be on "
            "several lines");
  // The option's own validator, with its own words.
  EXPECT_THAT(error("\nmax-validity = 3x\n"), HasSubstr(":2: max-validity: "));
  EXPECT_THAT(error("log-level = loud\n"), HasSubstr(":1: log-level: "));
  EXPECT_EQ(error("trusted-proxies = 10.0.0.1/8\n"),
            ":1: trusted-proxies: address range '10.0.0.1/8' has host bits set; did you mean "
            "10.0.0.0/8?");
  EXPECT_EQ(error("max-connections = many\n"), ":1: max-connections: not a whole number");
  EXPECT_THAT(error("token-audience = ok\ntoken-audience = two words\n"),
              HasSubstr(":2: token-audience: "));
  EXPECT_EQ(error("reveal = on\n"), ":1: reveal takes true or false");
  // A syntax error of the file, through --config.
  EXPECT_EQ(error("listen\n"), ":1: no '=': write name = value");
}

TEST_F(ConfigFileTest, ErrorsInTheFileCountEvenWhereAFlagWins) {
  // Every line's form and name are checked, also where the command line wins...
  EXPECT_THAT(ErrorOf({"--config", Write("listen = 1\nlisten = 2\n"), "--listen", "127.0.0.1:1"}),
              HasSubstr(":2: listen is set again"));
  EXPECT_THAT(ErrorOf({"--config", Write("lisen = 1\n"), "--listen", "127.0.0.1:1"}),
              HasSubstr(":1: unknown setting"));
  // ...but a value the command line replaces is not used, so its option does not check it.
  EXPECT_EQ(ErrorOf({"--config", Write("max-validity = 3x\n"), "--max-validity", "1d"}), "");
}

// The generated keyward.conf (cli/generate.h, installed as /etc/keyward/keyward.conf) with every
// `# name = default` line uncommented is a file that changes nothing: each default parses, an
// empty one (`db =`, `token-audience =`) included, and the result is the default server.
TEST_F(ConfigFileTest, TheGeneratedFileUncommentedChangesNothing) {
  CLI::App app;
  Config defaults;
  CLI::App* serve = app.add_subcommand("serve");
  AddServeFlags(serve, defaults);
  const Result<std::string> generated = ConfigTemplate(*serve, {});
  ASSERT_THAT(generated.status(), IsOk());
  const std::string& text = *generated;
  const std::regex setting("^# ([a-z][a-z0-9-]*) =( .*)?$");
  std::istringstream lines(text);
  std::string uncommented;
  int settings = 0;
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, setting) && serve->get_option_no_throw("--" + m[1].str())) {
      line = line.substr(2);
      ++settings;
    }
    uncommented += line + "\n";
  }
  EXPECT_GT(settings, 40) << text;
  const Config c = ParseServe({"--config", Write(uncommented)});
  EXPECT_THAT(Validate(c), IsOk());
  EXPECT_EQ(c.listen, defaults.listen);
  EXPECT_EQ(c.data_dir, defaults.data_dir);
  EXPECT_EQ(c.db, defaults.db);
  EXPECT_EQ(c.log_level, defaults.log_level);
  EXPECT_EQ(c.service.default_validity, defaults.service.default_validity);
  EXPECT_EQ(c.service.max_validity, defaults.service.max_validity);
  EXPECT_TRUE(c.token.audiences.empty());
  EXPECT_TRUE(c.token.gateway_audiences.empty());
  EXPECT_EQ(c.allow_query_key, defaults.allow_query_key);
  EXPECT_EQ(c.usage_counting, defaults.usage_counting);
  EXPECT_EQ(c.last_used_interval, defaults.last_used_interval);
}

}  // namespace
}  // namespace keyward
