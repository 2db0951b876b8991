// The CLI and key grants (issue 13) against the real server: apikey create -s/--tag/--allow-from,
// apikey get -o wide/json/yaml, refusals with the server's message and exit code, keys made
// before scopes flagged, and a key without keys:reveal listing keys masked.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <regex>
#include <sstream>

#include "cli_fixture.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

// The cells of each row of a table the CLI printed, trimmed: the header first, no rule.
std::vector<std::vector<std::string>> TableCells(const std::string& table) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.starts_with("---")) continue;
    std::vector<std::string> cells;
    std::istringstream cols(line);
    for (std::string cell; std::getline(cols, cell, '|');) {
      auto begin = cell.find_first_not_of(' ');
      auto end = cell.find_last_not_of(' ');
      cells.push_back(begin == std::string::npos ? "" : cell.substr(begin, end - begin + 1));
    }
    rows.push_back(cells);
  }
  return rows;
}

const json::value& KeyNamed(const json::value& keys, std::string_view name) {
  for (const json::value& key : keys.as_array()) {
    if (key.at("name").as_string() == name) return key;
  }
  ADD_FAILURE() << "no key " << name;
  static const json::value none;
  return none;
}

const std::vector<std::string> kPlainHeader = {"TOKEN", "TYPE", "EXPIRATION", "NAME"};

// -s, --tag and --allow-from, repeated and comma-separated, reach the server; the plain table
// keeps four columns, -o wide shows the grant, json and yaml carry it.
TEST_F(CliTest, ScopedKeyIsCreatedAndShown) {
  LoginAsAdmin();
  ProcessResult created =
      Cli({"user", "apikey", "create", "-n", "presto-driver", "-d", "7d", "-s", "minerva:query",
           "-s", "minerva:explain,keys:read", "--tag", "roles:id:operator", "--allow-from",
           "10.0.0.0/8,2001:db8::/32", "--allow-from", "127.0.0.1"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.err,
            "INFO[0000] 🔑 user apikey create...\n"
            "INFO[0000] 🔑 user apikey create...complete\n");
  EXPECT_EQ(TableCells(created.out).at(0), kPlainHeader);
  ASSERT_EQ(Cli({"user", "apikey", "create", "-n", "plain"}).exit_code, 0);

  json::value api = ApiKeys("admin");
  const json::value& driver = KeyNamed(api, "presto-driver");
  EXPECT_EQ(driver.at("scopes"), json::parse(R"(["keys:read","minerva:explain","minerva:query"])"));
  EXPECT_EQ(driver.at("tags"), json::parse(R"(["roles:id:operator"])"));
  EXPECT_EQ(driver.at("allowed_addresses"),
            json::parse(R"(["10.0.0.0/8","127.0.0.1/32","2001:db8::/32"])"));
  EXPECT_EQ(driver.at("full_access"), json::value(false));
  const json::value& plain = KeyNamed(api, "plain");
  EXPECT_EQ(plain.at("scopes"), json::array()) << "default: no scopes";
  EXPECT_TRUE(plain.at("tags").is_null()) << "no --tag: all of the owner's, live";
  EXPECT_EQ(plain.at("allowed_addresses"), json::array());

  ProcessResult wide = Cli({"user", "apikey", "get", "-o", "wide"});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_EQ(wide.err,
            "INFO[0000] 🔑 user apikey get...\n"
            "INFO[0000] 🔑 user apikey get...complete\n");
  auto cells = TableCells(wide.out);
  ASSERT_EQ(cells.size(), 3u) << wide.out;
  EXPECT_EQ(cells[0],
            (std::vector<std::string>{"TOKEN", "TYPE", "EXPIRATION", "NAME", "SCOPES", "TAGS",
                                      "ALLOWED FROM", "CREATED", "LAST USED", "RATE LIMIT"}));
  for (const auto& row : {cells[1], cells[2]}) {
    const json::value& key = KeyNamed(api, row.at(3));
    EXPECT_EQ(row.at(0), key.at("token").as_string());
    EXPECT_EQ(row.at(7), key.at("created").as_string());
    EXPECT_EQ(row.at(8), "never");
    EXPECT_EQ(row.at(9), "none");
  }
  auto driver_row = cells[1].at(3) == "presto-driver" ? cells[1] : cells[2];
  auto plain_row = cells[1].at(3) == "plain" ? cells[1] : cells[2];
  EXPECT_EQ(driver_row.at(4), "keys:read, minerva:explain, minerva:query");
  EXPECT_EQ(driver_row.at(5), "roles:id:operator");
  EXPECT_EQ(driver_row.at(6), "10.0.0.0/8, 127.0.0.1/32, 2001:db8::/32");
  EXPECT_EQ(plain_row.at(4), "none");
  EXPECT_EQ(plain_row.at(5), "all (live)");
  EXPECT_EQ(plain_row.at(6), "anywhere");

  ProcessResult listed = Cli({"user", "apikey", "get"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(TableCells(listed.out).at(0), kPlainHeader);
  ProcessResult as_json = Cli({"user", "apikey", "get", "-o", "json"});
  EXPECT_EQ(json::parse(as_json.out), api);
  YAML::Node yaml = YAML::Load(Cli({"user", "apikey", "get", "-o", "yaml"}).out);
  ASSERT_EQ(yaml.size(), 2u);
  for (std::size_t i = 0; i < yaml.size(); ++i) {
    const json::value& key = KeyNamed(api, yaml[i]["name"].as<std::string>());
    EXPECT_EQ(yaml[i]["scopes"].size(), key.at("scopes").as_array().size());
    EXPECT_EQ(yaml[i]["tags"].IsNull(), key.at("tags").is_null());
    EXPECT_EQ(yaml[i]["allowed_addresses"].size(), key.at("allowed_addresses").as_array().size());
    EXPECT_FALSE(yaml[i]["full_access"].as<bool>());
  }
}

// A refusal from the server is its message on one ERRO line and the exit code of its kind:
// 403 (more than the creator or the owner may give) is 4, 400 (a malformed entry) is 2.
TEST_F(CliTest, RefusedGrantsPrintTheServersMessage) {
  LoginAsAdmin();
  std::string session = server_->Login("admin", kAdminPassword);
  ASSERT_EQ(
      server_->As(session, "POST", "/api/v1/users", {{"id", "carol"}, {"name", "Carol"}}).status,
      201);
  HttpResult maker = server_->As(session, "POST", "/api/v1/users/me/apikeys",
                                 {{"name", "maker"}, {"scopes", json::array{"keys:write"}}});
  ASSERT_EQ(maker.status, 201) << maker.body;
  std::string maker_token(maker.Json().at("token").as_string());
  RememberSecret(maker_token);
  const std::map<std::string, std::string> as_maker = {{"KEYWARD_APIKEY", maker_token},
                                                       {"KEYWARD_SERVER", url_}};
  struct Refusal {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    int exit_code;
    std::string message;
  };
  const std::vector<Refusal> refusals = {
      {{"-i", "carol", "-s", "users:write"}, {}, 4, "scope users:write needs an operator owner"},
      {{"--tag", "team:z"}, {}, 4, "tag team:z is not one of admin's tags"},
      {{"-s", "audit:read"}, as_maker, 4, "scope audit:read is not in the creating key's grant"},
      {{"-d", "9999h"}, as_maker, 4, "duration 9999h outlives the creating key"},
      {{"-s", "keys:reed"}, {}, 2, "keys:reed"},
      {{"--allow-from", "10.0.0.0/33"}, {}, 2, "10.0.0.0/33"},
  };
  std::regex one_error_line("^INFO\\[0000\\] [^\n]*\nERRO\\[0000\\] user apikey create: [^\n]+\n$");
  for (const Refusal& refusal : refusals) {
    std::vector<std::string> args = {"user", "apikey", "create", "-n", "refused"};
    args.insert(args.end(), refusal.args.begin(), refusal.args.end());
    ProcessResult r = Cli(args, refusal.env);
    EXPECT_EQ(r.exit_code, refusal.exit_code) << refusal.message << "\n" << r.err;
    EXPECT_NE(r.err.find(refusal.message), std::string::npos) << r.err;
    EXPECT_TRUE(std::regex_match(r.err, one_error_line)) << r.err;
    EXPECT_EQ(r.out, "");
  }
  json::value admin_keys = ApiKeys("admin");
  ASSERT_EQ(admin_keys.as_array().size(), 1u) << "nothing refused was stored";
  EXPECT_EQ(admin_keys.at(0).at("name").as_string(), "maker");
  EXPECT_EQ(ApiKeys("carol").as_array().size(), 0u);
}

// A key made before scopes (V003 marks those full_access) is flagged in tables, with a note on
// standard error naming it; machine output only carries the field.
TEST_F(CliTest, KeysMadeBeforeScopesAreFlagged) {
  LoginAsAdmin();
  ASSERT_EQ(Cli({"user", "apikey", "create", "-n", "old"}).exit_code, 0);
  ASSERT_EQ(Cli({"user", "apikey", "create", "-n", "new", "-s", "keys:read"}).exit_code, 0);
  SqliteExec(server_->data_dir() + "/keyward.db",
             "UPDATE api_keys SET full_access = 1 WHERE name = 'old'");

  ProcessResult listed = Cli({"user", "apikey", "get"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(TableCells(listed.out).at(0), kPlainHeader);
  std::regex note(
      "^INFO\\[0000\\] [^\n]*\nWARN\\[0000\\] full access \\(created before scopes\\): old\\. "
      "[^\n]*replace it[^\n]*\nINFO\\[0000\\] [^\n]*complete\n$");
  EXPECT_TRUE(std::regex_match(listed.err, note)) << listed.err;

  ProcessResult wide = Cli({"user", "apikey", "get", "-o", "wide"});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_TRUE(std::regex_match(wide.err, note)) << wide.err;
  for (const auto& row : TableCells(wide.out)) {
    if (row.at(3) == "old") {
      EXPECT_EQ(row.at(4), "full access (created before scopes)");
    } else if (row.at(3) == "new") {
      EXPECT_EQ(row.at(4), "keys:read");
    }
  }

  ProcessResult as_json = Cli({"user", "apikey", "get", "-o", "json"});
  EXPECT_EQ(as_json.err, "");
  json::value keys = json::parse(as_json.out);
  EXPECT_EQ(KeyNamed(keys, "old").at("full_access"), json::value(true));
  EXPECT_EQ(KeyNamed(keys, "new").at("full_access"), json::value(false));
}

// A key may list keys with keys:read alone: `apikey get` then shows them masked. Without
// keys:read the server's refusal is the answer.
TEST_F(CliTest, KeyWithoutRevealListsMasked) {
  std::string session = server_->Login("admin", kAdminPassword);
  std::string tokens[2];
  const char* names[2] = {"lister", "bare"};
  for (int i = 0; i < 2; ++i) {
    json::value body = {{"name", names[i]}};
    if (i == 0) body.as_object()["scopes"] = json::array{"keys:read"};
    HttpResult key = server_->As(session, "POST", "/api/v1/users/me/apikeys", body);
    ASSERT_EQ(key.status, 201) << key.body;
    tokens[i] = std::string(key.Json().at("token").as_string());
    RememberSecret(tokens[i]);
  }
  ProcessResult listed =
      Cli({"user", "apikey", "get"}, {{"KEYWARD_APIKEY", tokens[0]}, {"KEYWARD_SERVER", url_}});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(TokensIn(listed.out).empty()) << listed.out;
  for (const std::string& token : tokens) {
    std::string masked = "kw_" + token.substr(3, 4) + "…" + token.substr(48);
    EXPECT_NE(listed.out.find(masked), std::string::npos) << masked << "\n" << listed.out;
  }

  ProcessResult refused =
      Cli({"user", "apikey", "get"}, {{"KEYWARD_APIKEY", tokens[1]}, {"KEYWARD_SERVER", url_}});
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_NE(refused.err.find("this API key lacks the scope keys:read"), std::string::npos)
      << refused.err;
  EXPECT_EQ(refused.out, "");
}

}  // namespace
}  // namespace keyward::testing
