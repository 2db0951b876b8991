// Runs the shell examples of README.md's "Using the API" section, in order, against a real
// server: each command must exit 0 and print JSON that is not an error (or nothing, for
// DELETE). The examples name http://127.0.0.1:8080, PASSWORD and $SESSION; the test points
// them at its own server and sign-in.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <regex>
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

std::pair<int, std::string> RunShell(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(
      ("bash -c '" + std::regex_replace(command, std::regex("'"), "'\\''") + "'").c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(ReadmeExamples, UsingTheApiRunsAsWritten) {
  std::string readme = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/README.md");
  std::vector<std::string> blocks = ShellBlocks(readme, "Using the API");
  ASSERT_GE(blocks.size(), 3u) << "README lost its API examples";
  auto server = ServerProcess::Start();
  std::string session = server->Login("admin", kAdminPassword);
  ::setenv("SESSION", session.c_str(), 1);
  const std::string base = "http://127.0.0.1:" + std::to_string(server->port());
  int ran = 0;
  for (const auto& block : blocks) {
    for (std::string command : Commands(block)) {
      command = std::regex_replace(command, std::regex("http://127\\.0\\.0\\.1:8080"), base);
      command = std::regex_replace(command, std::regex("\"PASSWORD\""),
                                   std::string("\"") + kAdminPassword + "\"");
      auto [code, output] = RunShell(command);
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

}  // namespace
}  // namespace keyward::testing
