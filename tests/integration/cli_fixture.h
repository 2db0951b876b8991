// The fixture of the CLI's integration tests (cli_test.cc, cli_grant_test.cc,
// cli_lifecycle_test.cc): a real server, and `keyward` run as a user whose home is a fresh
// folder.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"

namespace keyward::testing {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ServerProcess::Start(ServerArgs());
    ASSERT_GT(server_->port(), 0);
    home_ = MakeTempDir();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_->Stop();
    ExpectNoSecretsIn({server_->log_path()});
    RemoveTree(home_);
  }

  // Flags of the fixture's server besides the harness's own; a fixture may add some.
  virtual std::vector<std::string> ServerArgs() const { return {}; }

  // Runs `keyward args…` as a user whose home is home_ (config in home_/.keyward/config).
  ProcessResult Cli(const std::vector<std::string>& args,
                    std::map<std::string, std::string> env = {}, const std::string& input = "") {
    env.try_emplace("HOME", home_);
    env.try_emplace("XDG_CONFIG_HOME", "");
    env.try_emplace("KEYWARD_APIKEY", "");
    env.try_emplace("KEYWARD_SERVER", "");
    ProcessResult r = RunKeyward(args, env, input);
    for (const auto& token : TokensIn(r.out)) RememberSecret(token);
    return r;
  }

  static std::vector<std::string> TokensIn(const std::string& text) {
    std::vector<std::string> out;
    std::regex key("kw_[0-9A-Za-z]{49}");
    for (std::sregex_iterator it(text.begin(), text.end(), key), end; it != end; ++it) {
      out.push_back(it->str());
    }
    return out;
  }

  void LoginAsAdmin() {
    ProcessResult r = Cli({"login", "--server", url_, "-u", "admin", "--password-stdin"}, {},
                          std::string(kAdminPassword) + "\n");
    RememberSecret(kAdminPassword);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Keys of `user` as the API lists them, revealed.
  boost::json::value ApiKeys(const std::string& user) {
    std::string session = server_->Login("admin", kAdminPassword);
    return server_->As(session, "GET", "/api/v1/users/" + user + "/apikeys?reveal=true").Json();
  }

  std::unique_ptr<ServerProcess> server_;
  std::string home_;
  std::string url_;
};

}  // namespace keyward::testing
