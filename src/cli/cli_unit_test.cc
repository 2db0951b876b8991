// The CLI's pure parts: table layout, JSON/YAML output, the config file, exit codes.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "cli/config.h"
#include "cli/exit_code.h"
#include "cli/output.h"
#include "common/status_matchers.h"

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

}  // namespace
}  // namespace keyward
