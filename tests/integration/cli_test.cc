// The keyward CLI against the real server: golden output, the DataOS application-user flow,
// authorization, the config file, KEYWARD_APIKEY, and errors with their exit codes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <regex>

#include "cli_fixture.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

// Both columns and rows exactly as the DataOS page shows them.
TEST_F(CliTest, GoldenApikeyCreateAndGet) {
  LoginAsAdmin();
  ProcessResult created = Cli({"user", "apikey", "create", "-n", "presto-driver", "-d", "7d"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.err,
            "INFO[0000] 🔑 user apikey create...\n"
            "INFO[0000] 🔑 user apikey create...complete\n");
  json::value keys = ApiKeys("admin");
  ASSERT_EQ(keys.as_array().size(), 1u);
  std::string token(keys.at(0).at("token").as_string());
  std::string expiration(keys.at(0).at("expiration").as_string());
  ASSERT_EQ(token.size(), 52u);
  const std::string table =
      "\n"
      "                        TOKEN                         |  TYPE  |      EXPIRATION      |"
      "     NAME      \n"
      "------------------------------------------------------|--------|----------------------|"
      "---------------\n"
      " " +
      token + " | apikey | " + expiration + " | presto-driver \n";
  EXPECT_EQ(created.out, table);

  ProcessResult listed = Cli({"user", "apikey", "get"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.err,
            "INFO[0000] 🔑 user apikey get...\n"
            "INFO[0000] 🔑 user apikey get...complete\n");
  EXPECT_EQ(listed.out, table);
}

TEST_F(CliTest, JsonAndYamlOutputRoundTripTheFields) {
  LoginAsAdmin();
  ASSERT_EQ(Cli({"user", "apikey", "create", "-n", "one"}).exit_code, 0);
  ASSERT_EQ(Cli({"user", "apikey", "create", "-n", "two: yes", "-d", "30m"}).exit_code, 0);
  json::value api = ApiKeys("admin");

  ProcessResult as_json = Cli({"user", "apikey", "get", "-o", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(as_json.err, "") << "machine output only";
  EXPECT_EQ(json::parse(as_json.out), api);

  ProcessResult as_yaml = Cli({"user", "apikey", "get", "-o", "yaml"});
  ASSERT_EQ(as_yaml.exit_code, 0) << as_yaml.err;
  EXPECT_EQ(as_yaml.err, "");
  YAML::Node yaml = YAML::Load(as_yaml.out);
  ASSERT_EQ(yaml.size(), api.as_array().size());
  for (std::size_t i = 0; i < yaml.size(); ++i) {
    for (const char* field : {"name", "type", "expiration", "created", "token"}) {
      EXPECT_EQ(yaml[i][field].as<std::string>(), std::string(api.at(i).at(field).as_string()))
          << field;
    }
    EXPECT_TRUE(yaml[i]["last_used"].IsNull());
  }
}

// The application-user flow of the DataOS documentation, end to end.
TEST_F(CliTest, ApplicationUserFlow) {
  LoginAsAdmin();
  ProcessResult user = Cli(
      {"user", "create", "-n", "lakesearch_app_token", "-t", "application", "-u", "lakesearchapi"});
  ASSERT_EQ(user.exit_code, 0) << user.err;
  EXPECT_NE(user.out.find("lakesearchapi"), std::string::npos);
  ProcessResult tag = Cli({"user", "tag", "add", "-i", "lakesearchapi", "-t", "roles:id:data-dev"});
  ASSERT_EQ(tag.exit_code, 0) << tag.err;
  EXPECT_NE(tag.out.find("roles:id:data-dev"), std::string::npos);
  ProcessResult key = Cli({"user", "apikey", "create", "-d", "9999h", "-n", "lakesearch_app_api",
                           "-i", "lakesearchapi"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::vector<std::string> tokens = TokensIn(key.out);
  ASSERT_EQ(tokens.size(), 1u) << key.out;

  ProcessResult listed = Cli({"user", "apikey", "get", "-i", "lakesearchapi"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("lakesearch_app_api"), std::string::npos);
  EXPECT_NE(listed.out.find(tokens[0]), std::string::npos);

  HttpResult me = server_->As(tokens[0], "GET", "/api/v1/users/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.Json().at("id").as_string(), "lakesearchapi");
  EXPECT_EQ(me.Json().at("tags").at(0).as_string(), "roles:id:data-dev");

  ProcessResult deleted =
      Cli({"user", "apikey", "delete", "-n", "lakesearch_app_api", "-i", "lakesearchapi"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(server_->As(tokens[0], "GET", "/api/v1/users/me").status, 401);
  ProcessResult after = Cli({"user", "apikey", "get", "-i", "lakesearchapi", "-o", "json"});
  EXPECT_EQ(json::parse(after.out).as_array().size(), 0u);
}

TEST_F(CliTest, NonOperatorCannotActForOthers) {
  std::string session = server_->Login("admin", kAdminPassword);
  ASSERT_EQ(server_
                ->As(session, "POST", "/api/v1/users",
                     {{"id", "carol"}, {"name", "Carol"}, {"password", "carol-password"}})
                .status,
            201);
  RememberSecret("carol-password");
  ProcessResult login =
      Cli({"login", "--server", url_, "-u", "carol", "--password-stdin"}, {}, "carol-password\n");
  ASSERT_EQ(login.exit_code, 0) << login.err;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"user", "apikey", "get", "-i", "admin"},
        std::vector<std::string>{"user", "apikey", "create", "-i", "admin"},
        std::vector<std::string>{"user", "apikey", "delete", "-n", "x", "-i", "admin"},
        std::vector<std::string>{"user", "get", "-i", "admin"},
        std::vector<std::string>{"user", "tag", "add", "-i", "carol", "-t", "roles:id:operator"}}) {
    ProcessResult r = Cli(args);
    EXPECT_NE(r.exit_code, 0) << args[2];
    std::regex one_error_line("^INFO\\[0000\\] [^\n]*\nERRO\\[0000\\] [^\n]+\n$");
    EXPECT_TRUE(std::regex_match(r.err, one_error_line)) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(Cli({"user", "apikey", "get", "-i", "admin"}).exit_code, 5);
  EXPECT_EQ(Cli({"user", "get", "-i", "admin"}).exit_code, 4);
}

TEST_F(CliTest, ConfigFileIsOwnerOnlyAndRefusedWhenOpen) {
  LoginAsAdmin();
  std::string config = home_ + "/.keyward/config";
  struct stat st {};
  ASSERT_EQ(::stat(config.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ::chmod(config.c_str(), 0644);
  ProcessResult r = Cli({"user", "get"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
  ::chmod(config.c_str(), 0600);
  EXPECT_EQ(Cli({"user", "get"}).exit_code, 0);
}

TEST_F(CliTest, XdgConfigHomeIsHonoured) {
  std::string xdg = home_ + "/xdg";
  ProcessResult r = Cli({"login", "--server", url_, "-u", "admin", "--password-stdin"},
                        {{"XDG_CONFIG_HOME", xdg}}, std::string(kAdminPassword) + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(xdg + "/keyward/config"));
  EXPECT_FALSE(std::filesystem::exists(home_ + "/.keyward/config"));
}

TEST_F(CliTest, ApikeyFromEnvironmentNeedsNoLogin) {
  std::string session = server_->Login("admin", kAdminPassword);
  HttpResult key = server_->As(session, "POST", "/api/v1/users/me/apikeys", {{"name", "ci"}});
  std::string token(key.Json().at("token").as_string());
  RememberSecret(token);
  ProcessResult r =
      Cli({"user", "get", "-o", "json"}, {{"KEYWARD_APIKEY", token}, {"KEYWARD_SERVER", url_}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("id").as_string(), "admin");
  EXPECT_FALSE(std::filesystem::exists(home_ + "/.keyward/config"));
}

TEST_F(CliTest, ErrorsHaveAMessageAndTheirExitCode) {
  LoginAsAdmin();
  ProcessResult bad_duration = Cli({"user", "apikey", "create", "-d", "soon"});
  EXPECT_EQ(bad_duration.exit_code, 2);
  EXPECT_NE(bad_duration.err.find("invalid duration \"soon\""), std::string::npos);
  ProcessResult over_max = Cli({"user", "apikey", "create", "-d", "10000h"});
  EXPECT_EQ(over_max.exit_code, 2);
  EXPECT_NE(over_max.err.find("maximum"), std::string::npos) << over_max.err;

  ProcessResult no_name = Cli({"user", "apikey", "delete"});
  EXPECT_EQ(no_name.exit_code, 2);
  EXPECT_NE(no_name.err.find("--name is required"), std::string::npos) << no_name.err;
  EXPECT_EQ(std::count(no_name.err.begin(), no_name.err.end(), '\n'), 1);

  ProcessResult unknown = Cli({"user", "get", "-i", "nobody"});
  EXPECT_EQ(unknown.exit_code, 5);
  EXPECT_NE(unknown.err.find("no such user"), std::string::npos);
  EXPECT_EQ(Cli({"user", "apikey", "get", "-i", "nobody"}).exit_code, 5);

  ASSERT_EQ(Cli({"user", "apikey", "create", "-n", "twice"}).exit_code, 0);
  EXPECT_EQ(Cli({"user", "apikey", "create", "-n", "twice"}).exit_code, 6);
  EXPECT_EQ(Cli({"user", "apikey", "get", "-o", "xml"}).exit_code, 2);
  EXPECT_EQ(Cli({"user", "create", "-n", "x", "-t", "robot", "-u", "x"}).exit_code, 2);
}

TEST_F(CliTest, UnreachableServerIsNamed) {
  ProcessResult r = Cli({"user", "get"}, {{"KEYWARD_SERVER", "http://127.0.0.1:1"}});
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_NE(r.err.find("cannot reach http://127.0.0.1:1"), std::string::npos) << r.err;
}

TEST_F(CliTest, WithoutLoginTheCallerIsTold) {
  ProcessResult r = Cli({"user", "apikey", "get"}, {{"KEYWARD_SERVER", url_}});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("keyward login"), std::string::npos) << r.err;
  ProcessResult wrong =
      Cli({"login", "--server", url_, "-u", "admin", "--password-stdin"}, {}, "not-the-password\n");
  EXPECT_EQ(wrong.exit_code, 3);
  EXPECT_NE(wrong.err.find("wrong username or password"), std::string::npos) << wrong.err;
  ProcessResult no_password = Cli({"login", "--server", url_, "-u", "admin"});
  EXPECT_EQ(no_password.exit_code, 2);
  EXPECT_NE(no_password.err.find("--password-stdin"), std::string::npos);
}

TEST_F(CliTest, LogoutRevokesTheSession) {
  LoginAsAdmin();
  ASSERT_EQ(Cli({"user", "get"}).exit_code, 0);
  std::string config = ReadFile(home_ + "/.keyward/config");
  std::string session = TokensIn(config).at(0);
  ASSERT_EQ(Cli({"logout"}).exit_code, 0);
  EXPECT_EQ(server_->As(session, "GET", "/api/v1/users/me").status, 401);
  EXPECT_EQ(Cli({"user", "get"}).exit_code, 3);
}

TEST_F(CliTest, RevealOffServerShowsMaskedTokens) {
  server_->Stop();
  server_ = ServerProcess::Start({"--reveal=false"});
  url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  LoginAsAdmin();
  ProcessResult created = Cli({"user", "apikey", "create", "-n", "once"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  ASSERT_EQ(TokensIn(created.out).size(), 1u) << "create shows the key once, in full";
  std::string token = TokensIn(created.out)[0];
  ProcessResult listed = Cli({"user", "apikey", "get"});
  ASSERT_EQ(listed.exit_code, 0);
  EXPECT_EQ(listed.out.find(token), std::string::npos);
  EXPECT_NE(listed.out.find("kw_" + token.substr(3, 4) + "…" + token.substr(48)), std::string::npos)
      << listed.out;
}

TEST_F(CliTest, HelpAndVersion) {
  ProcessResult help = Cli({"user", "apikey", "create", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* text : {"--duration", "--scope", "--tag", "--allow-from", "keys:write",
                           "Default: no scopes", "wide"}) {
    EXPECT_NE(help.out.find(text), std::string::npos) << text << "\n" << help.out;
  }
  ProcessResult version = Cli({"version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(version.out.starts_with("keyward ")) << version.out;
  EXPECT_EQ(Cli({}).exit_code, 2);
}

}  // namespace
}  // namespace keyward::testing
