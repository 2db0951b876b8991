// Runs the examples of docs/leaks.md's "Reporting a leaked key" section against a real server:
// its one ```sh block (curl; https://keyward.example.com pointed at the test server, $KEY a live
// key of the admin's named "deploy"), whose output must be the section's first ```json block;
// the key is then refused at /auth; and the key.leaked delivery a webhook receiver gets must have
// the type, the data members and the action, name and url of the section's second ```json block.
// (The other sections of the page belong to the scanner and canary tests.)
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "webhook_receiver.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

// The ````lang` blocks between the heading "## `title`" and the next "## " heading.
std::vector<std::string> SectionBlocks(const std::string& title, const std::string& lang) {
  const std::string page = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/leaks.md");
  const std::string heading = "\n## " + title + "\n";
  const std::size_t start = page.find(heading);
  if (start == std::string::npos) return {};
  std::string section = page.substr(start + heading.size());
  if (const std::size_t next = section.find("\n## "); next != std::string::npos) {
    section.resize(next);
  }
  std::vector<std::string> blocks;
  const std::regex block("(^|\n)```" + lang + "\n([\\s\\S]*?)\n```");
  for (std::sregex_iterator it(section.begin(), section.end(), block), end; it != end; ++it) {
    blocks.push_back((*it)[2].str());
  }
  return blocks;
}

std::set<std::string> Members(const json::object& object) {
  std::set<std::string> names;
  for (const auto& member : object) names.insert(std::string(member.key()));
  return names;
}

TEST(LeaksDoc, ReportingALeakedKeyRunsAsWritten) {
  const std::vector<std::string> shell = SectionBlocks("Reporting a leaked key", "sh");
  const std::vector<std::string> examples = SectionBlocks("Reporting a leaked key", "json");
  ASSERT_EQ(shell.size(), 1u) << "the section's curl example";
  ASSERT_EQ(examples.size(), 2u) << "the answer and the webhook payload";

  WebhookReceiver receiver;
  auto server = ServerProcess::Start({"--webhook-allow-private"});
  ASSERT_GT(server->port(), 0);
  const std::string session = server->Login("admin", kAdminPassword);
  HttpResult hook = server->As(session, "POST", "/api/v1/webhooks",
                               {{"url", receiver.Url()}, {"events", json::array{"key.leaked"}}});
  ASSERT_EQ(hook.status, 201) << hook.body;
  RememberSecret(std::string(hook.Json().at("secret").as_string()));
  const std::string key = server->NewKey(session, "admin", "deploy");
  ASSERT_FALSE(key.empty());

  std::string script = shell[0];
  const std::string host = "https://keyward.example.com";
  ASSERT_NE(script.find(host), std::string::npos);
  script.replace(script.find(host), host.size(),
                 "http://127.0.0.1:" + std::to_string(server->port()));
  ProcessResult ran = RunProcess({"bash", "-e", "-o", "pipefail", "-c", script},
                                 {{"KEY", key}, {"PATH", std::getenv("PATH")}});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(json::parse(ran.out), json::parse(examples[0])) << ran.out;
  EXPECT_EQ(Call(server->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + key}}).status,
            401);

  ASSERT_TRUE(receiver.WaitFor([](const std::vector<ReceivedHook>& got) { return !got.empty(); },
                               std::chrono::seconds(10)));
  const json::value delivered = receiver.Received().front().Json();
  const json::value documented = json::parse(examples[1]);
  ASSERT_TRUE(delivered.is_object());
  EXPECT_EQ(Members(delivered.as_object()), Members(documented.as_object()));
  EXPECT_EQ(delivered.at("type"), documented.at("type"));
  const json::object& data = delivered.at("data").as_object();
  const json::object& documented_data = documented.at("data").as_object();
  EXPECT_EQ(Members(data), Members(documented_data));
  for (const char* member : {"user", "key", "name", "action", "url"}) {
    EXPECT_EQ(data.at(member), documented_data.at(member)) << member;
  }
  EXPECT_EQ(data.at("reporter_address"), "127.0.0.1");
}

}  // namespace
}  // namespace keyward::testing
