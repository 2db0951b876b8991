// Runs the shell examples of README.md's "Using the API" section, in order, against a real
// server: each command must exit 0 and print JSON that is not an error (or nothing, for
// DELETE). The examples name http://127.0.0.1:8080, PASSWORD and $SESSION; the test points
// them at its own server and sign-in.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "harness.h"

namespace keyward::testing {
namespace {

// The ```sh blocks between `## <section>` and the next `## ` heading.
std::vector<std::string> ShellBlocks(const std::string& markdown, const std::string& section) {
  std::vector<std::string> blocks;
  auto start = markdown.find("## " + section);
  if (start == std::string::npos) return blocks;
  auto end = markdown.find("\n## ", start + 3);
  std::string text =
      markdown.substr(start, end == std::string::npos ? std::string::npos : end - start);
  std::regex block("```sh\n([\\s\\S]*?)```");
  for (std::sregex_iterator it(text.begin(), text.end(), block), last; it != last; ++it) {
    blocks.push_back((*it)[1]);
  }
  return blocks;
}

// Shell commands of a block: lines joined across trailing backslashes, comments dropped.
std::vector<std::string> Commands(const std::string& block) {
  std::vector<std::string> out;
  std::istringstream in(block);
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (!line.empty() && line.back() == '\\') {
      current += line.substr(0, line.size() - 1);
      continue;
    }
    out.push_back(current + line);
    current.clear();
  }
  return out;
}

// Runs one example with bash, `keyward` on PATH, and the given environment.
ProcessResult RunShell(const std::string& command, std::map<std::string, std::string> env = {}) {
  std::string bin_dir = std::filesystem::path(KeywardBinary()).parent_path().string();
  env["PATH"] = bin_dir + ":" + std::getenv("PATH");
  return RunProcess({"bash", "-c", command}, env);
}

// The example with the documented server address pointed at the test's server.
std::string Localize(const std::string& command, std::uint16_t port) {
  return std::regex_replace(command, std::regex("http://127\\.0\\.0\\.1:8080"),
                            "http://127.0.0.1:" + std::to_string(port));
}

TEST(ReadmeExamples, UsingTheApiRunsAsWritten) {
  std::string readme = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/README.md");
  std::vector<std::string> blocks = ShellBlocks(readme, "Using the API");
  ASSERT_GE(blocks.size(), 3u) << "README lost its API examples";
  auto server = ServerProcess::Start();
  std::string session = server->Login("admin", kAdminPassword);
  // NOLINTNEXTLINE(concurrency-mt-unsafe): set before any thread of this test starts.
  ::setenv("SESSION", session.c_str(), 1);
  int ran = 0;
  for (const auto& block : blocks) {
    for (std::string command : Commands(block)) {
      command = Localize(command, server->port());
      command = std::regex_replace(command, std::regex("\"PASSWORD\""),
                                   std::string("\"") + kAdminPassword + "\"");
      auto [code, output, err] = RunShell(command);
      ++ran;
      EXPECT_EQ(code, 0) << command << "\n" << output;
      if (command.find("-X DELETE") != std::string::npos) {
        EXPECT_EQ(output, "") << command;
        continue;
      }
      boost::system::error_code ec;
      auto value = boost::json::parse(output, ec);
      ASSERT_FALSE(ec) << command << "\nprinted: " << output;
      EXPECT_FALSE(value.is_object() && value.as_object().contains("error")) << command << "\n"
                                                                             << output;
      if (value.is_object() && value.as_object().contains("token")) {
        RememberSecret(std::string(value.at("token").as_string()));
      }
    }
  }
  EXPECT_GE(ran, 6);
  server->Stop();
  ExpectNoSecretsIn({server->log_path()});
}

// The webhook examples: their URL pointed at a closed port of this host (which the server may
// call with --webhook-allow-private; deliveries there fail, as they may), and their example id
// at the id the example's `webhook add` printed.
constexpr const char* kExampleWebhookUrl = "https://hooks.example.com/keyward";
constexpr const char* kExampleWebhookId = "wh_0123456789abcdefghij";

TEST(ReadmeExamples, CommandLineRunsAsWritten) {
  std::string readme = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/README.md");
  std::vector<std::string> blocks = ShellBlocks(readme, "Command line");
  ASSERT_GE(blocks.size(), 6u) << "README lost its command line examples";
  auto server = ServerProcess::Start({"--webhook-allow-private"});
  std::string home = MakeTempDir();
  // $KEY in the examples: an API key of the admin's, made for the test.
  std::string session = server->Login("admin", kAdminPassword);
  HttpResult key = server->As(session, "POST", "/api/v1/users/me/apikeys", {{"name", "for-ci"}});
  ASSERT_EQ(key.status, 201);
  std::string api_key(key.Json().at("token").as_string());
  RememberSecret(api_key);
  std::map<std::string, std::string> env = {
      {"HOME", home},         {"XDG_CONFIG_HOME", ""},      {"KEYWARD_SERVER", ""},
      {"KEYWARD_APIKEY", ""}, {"PASSWORD", kAdminPassword}, {"KEY", api_key}};
  std::set<std::string> commands_seen;
  std::string webhook_id = kExampleWebhookId;
  for (const auto& block : blocks) {
    for (const std::string& example : Commands(block)) {
      std::string command = Localize(example, server->port());
      command =
          std::regex_replace(command, std::regex(kExampleWebhookUrl), "http://127.0.0.1:9/keyward");
      command = std::regex_replace(command, std::regex(kExampleWebhookId), webhook_id);
      ProcessResult r = RunShell(command, env);
      EXPECT_EQ(r.exit_code, 0) << example << "\n" << r.err;
      std::smatch m;
      const std::regex webhook_secret("whsec_[A-Za-z0-9+/=]+");
      for (std::sregex_iterator it(r.out.begin(), r.out.end(), webhook_secret), end; it != end;
           ++it) {
        RememberSecret(it->str());
      }
      if (example.find("webhook add") != std::string::npos &&
          std::regex_search(r.out, m, std::regex("wh_[a-z0-9]+"))) {
        webhook_id = m.str();
      }
      if (std::regex_search(
              example, m, std::regex("keyward ((user (apikey |tag )?|audit |webhook )?[a-z]+)"))) {
        commands_seen.insert(m[1]);
      }
      if (example.find("-o json") != std::string::npos) {
        boost::system::error_code ec;
        boost::json::parse(r.out, ec);
        EXPECT_FALSE(ec) << example << " printed " << r.out;
      }
      if (example.find("apikey get -i lakesearchapi") != std::string::npos) {
        EXPECT_NE(r.out.find("lakesearch_app_api"), std::string::npos) << r.out;
      }
    }
  }
  // Every command of the CLI has an example.
  for (const char* command : {"login",
                              "logout",
                              "version",
                              "user get",
                              "user create",
                              "user delete",
                              "user tag add",
                              "user tag delete",
                              "user apikey get",
                              "user apikey create",
                              "user apikey delete",
                              "user apikey rotate",
                              "user apikey disable",
                              "user apikey enable",
                              "user apikey update",
                              "user apikey usage",
                              "audit get",
                              "webhook add",
                              "webhook get",
                              "webhook test",
                              "webhook delete"}) {
    EXPECT_TRUE(commands_seen.count(command)) << "README has no example of keyward " << command;
  }
  server->Stop();
  ExpectNoSecretsIn({server->log_path()});
  RemoveTree(home);
}

}  // namespace
}  // namespace keyward::testing
