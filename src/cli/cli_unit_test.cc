// The CLI's pure parts: table layout, JSON/YAML output, the config file, exit codes, the grant
// flags of `apikey create` and how keys are printed.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "cli/command.h"
#include "cli/config.h"
#include "cli/exit_code.h"
#include "cli/key_output.h"
#include "cli/output.h"
#include "common/status_matchers.h"
#include "core/grant.h"

namespace keyward {
namespace {

TEST(OutputTest, TableLooksLikeTheDataOsCli) {
  std::string table = RenderTable({"TOKEN", "TYPE", "EXPIRATION", "NAME"},
                                  {{"kw_abc", "apikey", "2023-08-10T23:00:00Z", "token_x"},
                                   {"kw_defgh", "apikey", "2023-06-19T08:00:00Z", "n"}});
  EXPECT_EQ(table,
            "\n"
            "  TOKEN   |  TYPE  |      EXPIRATION      |  NAME   \n"
            "----------|--------|----------------------|---------\n"
            " kw_abc   | apikey | 2023-08-10T23:00:00Z | token_x \n"
            " kw_defgh | apikey | 2023-06-19T08:00:00Z | n       \n");
}

TEST(OutputTest, WidthCountsCharactersNotBytes) {
  EXPECT_EQ(DisplayWidth("kw_Ab…9x"), 8u);
  std::string table = RenderTable({"A"}, {{"é"}, {"ab"}});
  EXPECT_EQ(table, "\n A  \n----\n é  \n ab \n");
}

TEST(OutputTest, ProgressLines) {
  EXPECT_EQ(InfoLine("🔑 user apikey get..."), "INFO[0000] 🔑 user apikey get...");
  EXPECT_EQ(WarnLine("mind"), "WARN[0000] mind");
  EXPECT_EQ(ErrorLine("boom"), "ERRO[0000] boom");
}

TEST(OutputTest, JsonAndYamlRoundTrip) {
  boost::json::value keys = boost::json::parse(
      R"([{"name":"a: b","type":"apikey","expiration":"2023-08-10T23:00:00Z","last_used":null,)"
      R"("token":"kw_x"},{"name":"yes","type":"apikey","expiration":"x","last_used":null,"token":"0"}])");
  EXPECT_EQ(boost::json::parse(RenderJson(keys)), keys);
  YAML::Node yaml = YAML::Load(RenderYaml(keys));
  ASSERT_TRUE(yaml.IsSequence());
  ASSERT_EQ(yaml.size(), 2u);
  EXPECT_EQ(yaml[0]["name"].as<std::string>(), "a: b");
  EXPECT_EQ(yaml[0]["expiration"].as<std::string>(), "2023-08-10T23:00:00Z");
  EXPECT_TRUE(yaml[0]["last_used"].IsNull());
  EXPECT_EQ(yaml[1]["name"].as<std::string>(), "yes");
  EXPECT_EQ(yaml[1]["token"].as<std::string>(), "0");
}

TEST(ExitCodeTest, OneCodePerKind) {
  EXPECT_EQ(ExitCodeFor(StatusCode::kOk), 0);
  EXPECT_EQ(ExitCodeFor(StatusCode::kInternal), 1);
  EXPECT_EQ(ExitCodeFor(StatusCode::kInvalidArgument), 2);
  EXPECT_EQ(ExitCodeFor(StatusCode::kUnauthenticated), 3);
  EXPECT_EQ(ExitCodeFor(StatusCode::kPermissionDenied), 4);
  EXPECT_EQ(ExitCodeFor(StatusCode::kNotFound), 5);
  EXPECT_EQ(ExitCodeFor(StatusCode::kAlreadyExists), 6);
  EXPECT_EQ(ExitCodeFor(StatusCode::kUnavailable), 7);
  EXPECT_EQ(ExitCodeFor(StatusCode::kResourceExhausted), 8);
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "kw-cfg-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

// NOLINTBEGIN(concurrency-mt-unsafe): the test runs on one thread.
TEST_F(ConfigTest, PathHonoursXdgConfigHome) {
  ::setenv("XDG_CONFIG_HOME", "/x/y", 1);
  EXPECT_EQ(ConfigPath(), "/x/y/keyward/config");
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", "/home/z", 1);
  EXPECT_EQ(ConfigPath(), "/home/z/.keyward/config");
}
// NOLINTEND(concurrency-mt-unsafe)

TEST_F(ConfigTest, SavedOwnerOnlyAndLoadsBack) {
  std::string path = dir_ + "/sub/config";
  ASSERT_THAT(SaveConfig(path, {"http://127.0.0.1:1", "kw_token"}), IsOk());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = LoadConfig(path);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->server, "http://127.0.0.1:1");
  EXPECT_EQ(loaded->token, "kw_token");
}

TEST_F(ConfigTest, MissingFileIsEmptyReadableFileIsRefused) {
  auto missing = LoadConfig(dir_ + "/none");
  ASSERT_THAT(missing, IsOk());
  EXPECT_TRUE(missing->token.empty());
  std::string path = dir_ + "/config";
  std::ofstream(path) << R"({"server":"http://a","token":"t"})";
  ::chmod(path.c_str(), 0644);
  auto refused = LoadConfig(path);
  ASSERT_THAT(refused, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(refused.status().message().find("chmod 600"), std::string::npos);
  ::chmod(path.c_str(), 0600);
  EXPECT_THAT(LoadConfig(path), IsOk());
  std::ofstream(path) << "not json";
  EXPECT_THAT(LoadConfig(path), StatusIs(StatusCode::kInvalidArgument));
}

// `apikey create` with the grant flags of `parse`, as CLI11 parses a command line.
GrantFlags ParseGrant(const std::string& args) {
  CLI::App app;
  GrantFlags flags;
  AddGrantFlags(&app, flags);
  app.parse(args, false);
  return flags;
}

TEST(GrantFlagsTest, RepeatedAndCommaSeparatedBothWork) {
  GrantFlags f = ParseGrant(
      "-s minerva:query -s keys:read,authorize --scope pulsar:produce --tag roles:id:a "
      "--tag roles:id:b,roles:id:c --allow-from 10.0.0.0/8,2001:db8::/32 --allow-from 127.0.0.1");
  EXPECT_EQ(f.scopes, (std::vector<std::string>{"minerva:query", "keys:read", "authorize",
                                                "pulsar:produce"}));
  EXPECT_EQ(f.tags, (std::vector<std::string>{"roles:id:a", "roles:id:b", "roles:id:c"}));
  EXPECT_EQ(f.allowed_from, (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32", "127.0.0.1"}));
  EXPECT_EQ(
      boost::json::value(KeyCreateBody("presto-driver", "7d", f)),
      boost::json::parse(R"({"name":"presto-driver","duration":"7d",)"
                         R"("scopes":["minerva:query","keys:read","authorize","pulsar:produce"],)"
                         R"("tags":["roles:id:a","roles:id:b","roles:id:c"],)"
                         R"("allowed_addresses":["10.0.0.0/8","2001:db8::/32","127.0.0.1"]})"));
}

TEST(GrantFlagsTest, ListsAreSentOnlyWhenGiven) {
  EXPECT_EQ(boost::json::value(KeyCreateBody("", "", ParseGrant(""))), boost::json::parse("{}"));
  EXPECT_EQ(boost::json::value(KeyCreateBody("ci", "", ParseGrant("-s keys:read"))),
            boost::json::parse(R"({"name":"ci","scopes":["keys:read"]})"))
      << "no --tag: the owner's tags, live; no --allow-from: anywhere";
  // Spaces around commas are dropped, as are empty entries.
  EXPECT_EQ(boost::json::value(KeyCreateBody("", "", ParseGrant("--tag 'a, b,' -s ' x '"))),
            boost::json::parse(R"({"scopes":["x"],"tags":["a","b"]})"));
}

TEST(GrantFlagsTest, HelpExplainsEveryKeywardScopeAndTheDefault) {
  CLI::App app("Create an API key", "create");
  GrantFlags flags;
  AddGrantFlags(&app, flags);
  std::string help = app.help();
  for (std::string_view scope : kKeywardScopes) {
    ASSERT_FALSE(ScopeMeaning(scope).empty()) << scope;
    EXPECT_NE(help.find("  " + std::string(scope) + " "), std::string::npos) << scope;
    EXPECT_NE(help.find(ScopeMeaning(scope)), std::string::npos) << scope;
  }
  EXPECT_EQ(ScopeMeaning("minerva:query"), "");
  for (const char* words :
       {"--scope", "--tag", "--allow-from", "Default: no scopes",
        "default: all of the owner's tags, live", "default: anywhere", "-s minerva:query"}) {
    EXPECT_NE(help.find(words), std::string::npos) << words << "\n" << help;
  }
}

TEST(KeyOutputTest, WideFormatIsParsed) {
  EXPECT_EQ(ParseOutputFormat("wide"), OutputFormat::kWide);
  EXPECT_EQ(ParseOutputFormat("table"), OutputFormat::kTable);
}

// A scoped key, a key with defaults, and one made before scopes, as the server lists them.
boost::json::value ThreeKeys() {
  return boost::json::parse(
      R"([{"name":"presto-driver","type":"apikey","expiration":"2026-12-13T10:00:00Z",)"
      R"("created":"2026-12-06T10:00:00Z","last_used":"2026-12-06T11:00:00Z","token":"kw_a",)"
      R"("scopes":["minerva:explain","minerva:query"],"tags":["roles:id:data-dev"],)"
      R"("allowed_addresses":["10.0.0.0/8","2001:db8::/32"],"full_access":false},)"
      R"({"name":"plain","type":"apikey","expiration":"2026-12-07T10:00:00Z",)"
      R"("created":"2026-12-06T10:00:00Z","last_used":null,"token":"kw_b",)"
      R"("scopes":[],"tags":null,"allowed_addresses":[],"full_access":false},)"
      R"({"name":"old","type":"apikey","expiration":"2027-01-01T00:00:00Z",)"
      R"("created":"2026-01-01T00:00:00Z","last_used":null,"token":"kw_c",)"
      R"("scopes":[],"tags":null,"allowed_addresses":[],"full_access":true}])");
}

TEST(KeyOutputTest, PlainTableKeepsTheSeedsFourColumns) {
  EXPECT_EQ(RenderKeys(ThreeKeys(), OutputFormat::kTable),
            RenderTable({"TOKEN", "TYPE", "EXPIRATION", "NAME"},
                        {{"kw_a", "apikey", "2026-12-13T10:00:00Z", "presto-driver"},
                         {"kw_b", "apikey", "2026-12-07T10:00:00Z", "plain"},
                         {"kw_c", "apikey", "2027-01-01T00:00:00Z", "old"}}));
}

TEST(KeyOutputTest, WideTableAddsTheGrantCreatedAndLastUsed) {
  EXPECT_EQ(
      RenderKeys(ThreeKeys(), OutputFormat::kWide),
      RenderTable(
          {"TOKEN", "TYPE", "EXPIRATION", "NAME", "SCOPES", "TAGS", "ALLOWED FROM", "CREATED",
           "LAST USED"},
          {{"kw_a", "apikey", "2026-12-13T10:00:00Z", "presto-driver",
            "minerva:explain, minerva:query", "roles:id:data-dev", "10.0.0.0/8, 2001:db8::/32",
            "2026-12-06T10:00:00Z", "2026-12-06T11:00:00Z"},
           {"kw_b", "apikey", "2026-12-07T10:00:00Z", "plain", "none", "all (live)", "anywhere",
            "2026-12-06T10:00:00Z", "never"},
           {"kw_c", "apikey", "2027-01-01T00:00:00Z", "old", "full access (created before scopes)",
            "all (live)", "anywhere", "2026-01-01T00:00:00Z", "never"}}));
  // An empty tag subset presents no tags.
  boost::json::value no_tags = ThreeKeys().at(1);
  no_tags.as_object()["tags"] = boost::json::array();
  EXPECT_NE(RenderKeys(no_tags, OutputFormat::kWide).find("| none   | none "), std::string::npos)
      << RenderKeys(no_tags, OutputFormat::kWide);
}

TEST(KeyOutputTest, MachineOutputIsTheApiObjectsUnchanged) {
  EXPECT_EQ(boost::json::parse(RenderKeys(ThreeKeys(), OutputFormat::kJson)), ThreeKeys());
  YAML::Node yaml = YAML::Load(RenderKeys(ThreeKeys(), OutputFormat::kYaml));
  ASSERT_EQ(yaml.size(), 3u);
  EXPECT_EQ(yaml[0]["scopes"][1].as<std::string>(), "minerva:query");
  EXPECT_EQ(yaml[0]["allowed_addresses"][1].as<std::string>(), "2001:db8::/32");
  EXPECT_TRUE(yaml[1]["tags"].IsNull());
  EXPECT_TRUE(yaml[2]["full_access"].as<bool>());
}

TEST(KeyOutputTest, FullAccessKeysAreNamedInANote) {
  EXPECT_EQ(FullAccessNote(ThreeKeys()),
            "WARN[0000] full access (created before scopes): old. Such a key can do everything "
            "its owner can; replace it with a key that has only the scopes it needs (keyward "
            "user apikey create -s SCOPE), then delete it.\n");
  boost::json::value two = ThreeKeys();
  two.as_array()[0].as_object()["full_access"] = true;
  EXPECT_NE(FullAccessNote(two).find("): presto-driver, old. "), std::string::npos);
  EXPECT_EQ(FullAccessNote(ThreeKeys().at(0)), "") << "one key, as create answers";
  EXPECT_EQ(FullAccessNote(boost::json::array()), "");
}

}  // namespace
}  // namespace keyward
