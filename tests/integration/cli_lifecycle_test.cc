// Issue 15 from the command line, against the real server: apikey rotate (both secrets work
// during the grace), disable / enable, update, get --expiring-within, and webhook
// add|get|test|delete with a receiver in the test.
#include <gtest/gtest.h>

#include <ctime>
#include <regex>

#include "cli_fixture.h"
#include "webhook_receiver.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

std::string Rfc3339(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string First(const std::string& text, const std::string& pattern) {
  std::smatch m;
  return std::regex_search(text, m, std::regex(pattern)) ? m.str() : "";
}

class CliLifecycleTest : public CliTest {
 protected:
  int AuthStatus(const std::string& key) {
    return Call(server_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + key}}).status;
  }
  // The one full key a command printed.
  std::string TokenOf(const ProcessResult& r) {
    std::vector<std::string> tokens = TokensIn(r.out);
    EXPECT_EQ(tokens.size(), 1u) << r.out << r.err;
    return tokens.empty() ? "" : tokens[0];
  }
};

TEST_F(CliLifecycleTest, RotateKeepsBothSecretsDuringTheGrace) {
  LoginAsAdmin();
  ProcessResult created = Cli({"user", "apikey", "create", "-n", "ci", "-d", "7d"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string first = TokenOf(created);

  ProcessResult rotated = Cli({"user", "apikey", "rotate", "-n", "ci", "--grace", "1h"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  const std::string second = TokenOf(rotated);
  EXPECT_NE(second, first);
  EXPECT_NE(rotated.out.find(" | ci (rotating until "), std::string::npos) << rotated.out;
  const std::string until = First(
      rotated.err, "the old secret kw_\\S+ is accepted until \\d{4}-\\d\\d-\\d\\dT[0-9:]{8}Z\n");
  ASSERT_FALSE(until.empty()) << rotated.err;
  EXPECT_EQ(rotated.err.find(first), std::string::npos) << "the old secret is named masked";
  EXPECT_EQ(AuthStatus(first), 200);
  EXPECT_EQ(AuthStatus(second), 200);

  ProcessResult listed = Cli({"user", "apikey", "get"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("ci (rotating until " + until.substr(until.size() - 21, 20) + ")"),
            std::string::npos)
      << listed.out;

  // Grace 0: the secret just replaced stops at once; the first keeps its own grace.
  ProcessResult again =
      Cli({"user", "apikey", "rotate", "-n", "ci", "--grace", "0s", "-o", "json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  json::value key = json::parse(again.out);
  const std::string third(key.at("token").as_string());
  RememberSecret(third);
  EXPECT_EQ(key.at("name"), "ci");
  EXPECT_EQ(key.at("status"), "rotating");
  EXPECT_NE(again.err.find("the old secret is no longer accepted"), std::string::npos) << again.err;
  EXPECT_EQ(AuthStatus(third), 200);
  EXPECT_EQ(AuthStatus(second), 401);
  EXPECT_EQ(AuthStatus(first), 200);

  // Refused before anything is sent, or by the server.
  EXPECT_EQ(Cli({"user", "apikey", "rotate", "-n", "ci", "--grace", "soon"}).exit_code, 2);
  EXPECT_EQ(Cli({"user", "apikey", "rotate", "-n", "ci", "--retire-when-idle", "0s"}).exit_code, 2);
  EXPECT_EQ(Cli({"user", "apikey", "rotate", "-n", "ci", "--grace", "31d"}).exit_code, 2);
  EXPECT_EQ(Cli({"user", "apikey", "rotate", "-n", "nope"}).exit_code, 5);
}

TEST_F(CliLifecycleTest, DisableEnableAndUpdate) {
  LoginAsAdmin();
  ProcessResult created = Cli({"user", "apikey", "create", "-n", "ci", "-d", "7d", "--description",
                               "deploys", "--on-reuse", "revoke"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string token = TokenOf(created);

  ProcessResult disabled = Cli({"user", "apikey", "disable", "-n", "ci"});
  ASSERT_EQ(disabled.exit_code, 0) << disabled.err;
  EXPECT_NE(disabled.out.find(" ci (disabled) "), std::string::npos) << disabled.out;
  EXPECT_TRUE(TokensIn(disabled.out).empty()) << "masked";
  EXPECT_EQ(AuthStatus(token), 401);
  ProcessResult enabled = Cli({"user", "apikey", "enable", "-n", "ci"});
  ASSERT_EQ(enabled.exit_code, 0) << enabled.err;
  EXPECT_EQ(enabled.out.find("disabled"), std::string::npos) << enabled.out;
  EXPECT_EQ(AuthStatus(token), 200);

  const std::string soon = Rfc3339(std::time(nullptr) + 2 * 86400);
  ProcessResult updated = Cli({"user", "apikey", "update", "-n", "ci", "--rename", "ci-gitlab",
                               "--description", "deploys from GitLab", "--expires", soon,
                               "--idle-timeout", "30d", "--on-reuse", "keep", "-o", "json"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  json::value key = json::parse(updated.out);
  EXPECT_EQ(key.at("name"), "ci-gitlab");
  EXPECT_EQ(key.at("description"), "deploys from GitLab");
  EXPECT_EQ(key.at("expiration"), soon.c_str());
  EXPECT_EQ(key.at("idle_timeout"), "720h") << "the server's shortest form of 30d";
  EXPECT_EQ(key.at("on_reuse"), "keep");
  EXPECT_EQ(key.at("status"), "active");
  EXPECT_EQ(AuthStatus(token), 200) << "a new name keeps the secret";

  ProcessResult nothing = Cli({"user", "apikey", "update", "-n", "ci-gitlab"});
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_NE(nothing.err.find("nothing to change"), std::string::npos) << nothing.err;
  EXPECT_EQ(Cli({"user", "apikey", "update", "-n", "ci", "--description", "x"}).exit_code, 5);
  EXPECT_EQ(Cli({"user", "apikey", "update", "-n", "ci-gitlab", "--on-reuse", "maybe"}).exit_code,
            2);
  EXPECT_EQ(Cli({"user", "apikey", "update", "-n", "ci-gitlab", "--expires", "tomorrow"}).exit_code,
            2);
  EXPECT_EQ(Cli({"user", "apikey", "disable", "-n", "nope"}).exit_code, 5);
}

TEST_F(CliLifecycleTest, GetExpiringWithin) {
  LoginAsAdmin();
  ASSERT_EQ(Cli({"user", "apikey", "create", "-n", "soon", "-d", "2d"}).exit_code, 0);
  ASSERT_EQ(Cli({"user", "apikey", "create", "-n", "later", "-d", "30d"}).exit_code, 0);
  auto names = [](const std::string& out) {
    std::vector<std::string> v;
    const json::value keys = json::parse(out);
    for (const json::value& k : keys.as_array()) v.emplace_back(k.at("name").as_string());
    return v;
  };
  ProcessResult within = Cli({"user", "apikey", "get", "--expiring-within", "7d", "-o", "json"});
  ASSERT_EQ(within.exit_code, 0) << within.err;
  EXPECT_EQ(names(within.out), std::vector<std::string>{"soon"});
  ProcessResult table = Cli({"user", "apikey", "get", "--expiring-within", "7d"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(" soon "), std::string::npos);
  EXPECT_EQ(table.out.find("later"), std::string::npos);
  ProcessResult all = Cli({"user", "apikey", "get", "-o", "json"});
  EXPECT_EQ(names(all.out).size(), 2u);

  // A key that may list but not reveal gets the same filter, masked.
  std::string session = server_->Login("admin", kAdminPassword);
  HttpResult made =
      server_->As(session, "POST", "/api/v1/users/me/apikeys",
                  {{"name", "reader"}, {"duration", "30d"}, {"scopes", json::array{"keys:read"}}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string reader(made.Json().at("token").as_string());
  RememberSecret(reader);
  ProcessResult masked = Cli({"user", "apikey", "get", "--expiring-within", "7d", "-o", "json"},
                             {{"KEYWARD_APIKEY", reader}});
  ASSERT_EQ(masked.exit_code, 0) << masked.err;
  EXPECT_EQ(names(masked.out), std::vector<std::string>{"soon"});
  EXPECT_TRUE(TokensIn(masked.out).empty());

  EXPECT_EQ(Cli({"user", "apikey", "get", "--expiring-within", "soon"}).exit_code, 2);
}

class CliWebhookTest : public CliLifecycleTest {
 protected:
  std::vector<std::string> ServerArgs() const override { return {"--webhook-allow-private"}; }
};

TEST_F(CliWebhookTest, AddGetTestDelete) {
  WebhookReceiver receiver;
  LoginAsAdmin();
  const std::string url = receiver.Url("/keyward");
  ProcessResult added = Cli(
      {"webhook", "add", "--url", url, "--event", "key.created,key.rotated", "--user", "admin"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string id = First(added.out, "wh_[a-z0-9]+");
  const std::string secret = First(added.out, "whsec_[A-Za-z0-9+/=]+");
  ASSERT_FALSE(id.empty()) << added.out;
  ASSERT_FALSE(secret.empty()) << added.out;
  RememberSecret(secret);
  EXPECT_NE(added.err.find("WARN[0000] store the webhook's secret now"), std::string::npos)
      << added.err;
  EXPECT_EQ(added.err.find("whsec_"), std::string::npos);

  ProcessResult listed = Cli({"webhook", "get"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(id), std::string::npos);
  EXPECT_NE(listed.out.find("key.created, key.rotated"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("whsec_"), std::string::npos) << "shown once";
  ProcessResult as_json = Cli({"webhook", "get", "-o", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  json::value list = json::parse(as_json.out);
  ASSERT_EQ(list.as_array().size(), 1u);
  EXPECT_EQ(list.at(0).at("url"), url.c_str());
  EXPECT_FALSE(list.at(0).as_object().contains("secret"));

  ProcessResult tested = Cli({"webhook", "test", id, "-o", "json"});
  ASSERT_EQ(tested.exit_code, 0) << tested.err;
  json::value queued = json::parse(tested.out);
  EXPECT_EQ(queued.at("event_type"), "webhook.test");
  const std::string message(queued.at("message_id").as_string());
  ASSERT_TRUE(Eventually(
      [&] {
        for (const ReceivedHook& r : receiver.Received()) {
          if (r.MessageId() == message) return true;
        }
        return false;
      },
      std::chrono::seconds(15)))
      << "no delivery of " << message;
  json::value shown;
  ASSERT_TRUE(Eventually(
      [&] {
        ProcessResult r = Cli({"webhook", "get", id, "-o", "json"});
        if (r.exit_code != 0) return false;
        shown = json::parse(r.out);
        const json::array& d = shown.at("deliveries").as_array();
        return !d.empty() && d.at(0).at("state") == "delivered";
      },
      std::chrono::seconds(15)))
      << json::serialize(shown);
  EXPECT_EQ(shown.at("id"), id.c_str());
  ProcessResult table = Cli({"webhook", "get", id});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(message), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(" delivered "), std::string::npos) << table.out;

  // Not for keys without the webhooks scopes; unknown event types refused before sending.
  std::string session = server_->Login("admin", kAdminPassword);
  std::string reader = server_->NewScopedKey(session, "admin", "reader", {"keys:read"});
  EXPECT_EQ(Cli({"webhook", "get"}, {{"KEYWARD_APIKEY", reader}}).exit_code, 4);
  ProcessResult unknown = Cli({"webhook", "add", "--url", url, "--event", "key.exploded"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("key.exploded"), std::string::npos) << unknown.err;

  ASSERT_EQ(Cli({"webhook", "delete", id}).exit_code, 0);
  EXPECT_EQ(Cli({"webhook", "get", id}).exit_code, 5);
  EXPECT_EQ(Cli({"webhook", "test", id}).exit_code, 5);
}

// Private addresses are refused without --webhook-allow-private: a usage error, exit 2.
TEST_F(CliLifecycleTest, WebhookToLoopbackRefusedByDefault) {
  LoginAsAdmin();
  ProcessResult r = Cli({"webhook", "add", "--url", "http://127.0.0.1:9/keyward"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(First(r.out, "whsec_\\S+").empty());
}

// A server that keeps no copies of keys has no master key: webhooks cannot be added (exit 9),
// and rotate still shows the new secret, once.
class CliNoMasterKeyTest : public CliLifecycleTest {
 protected:
  std::vector<std::string> ServerArgs() const override {
    return {"--reveal=false", "--webhook-allow-private"};
  }
};

TEST_F(CliNoMasterKeyTest, WebhooksNeedTheMasterKeyRotateStillWorks) {
  LoginAsAdmin();
  ProcessResult r = Cli({"webhook", "add", "--url", "http://127.0.0.1:9/keyward"});
  EXPECT_EQ(r.exit_code, 9) << r.err;
  EXPECT_NE(r.err.find("master key"), std::string::npos) << r.err;

  ProcessResult created = Cli({"user", "apikey", "create", "-n", "once"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string first = TokenOf(created);
  ProcessResult rotated = Cli({"user", "apikey", "rotate", "-n", "once"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  const std::string second = TokenOf(rotated);
  EXPECT_NE(second, first);
  EXPECT_EQ(AuthStatus(first), 200) << "the default grace is 1h";
  EXPECT_EQ(AuthStatus(second), 200);
}

// Given its file, the master key is loaded with --reveal=false too: webhooks work, keys are still
// kept as hashes only.
class CliRevealOffWithMasterKeyTest : public CliLifecycleTest {
 protected:
  static std::string KeyFile() {
    static const std::string dir = MakeTempDir();
    return dir + "/master.key";
  }
  std::vector<std::string> ServerArgs() const override {
    return {"--reveal=false", "--master-key-file", KeyFile(), "--webhook-allow-private"};
  }
};

TEST_F(CliRevealOffWithMasterKeyTest, WebhooksWorkWhenTheMasterKeyFileIsGiven) {
  LoginAsAdmin();
  ProcessResult r = Cli({"webhook", "add", "--url", "http://127.0.0.1:9/keyward"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("whsec_"), std::string::npos) << r.out;
  ProcessResult created = Cli({"user", "apikey", "create", "-n", "hashed"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string token = TokenOf(created);
  ProcessResult listed = Cli({"user", "apikey", "get"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("hashed"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find(token), std::string::npos) << "reveal stays off: " << listed.out;
}

}  // namespace
}  // namespace keyward::testing
