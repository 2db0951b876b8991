// The CLI's pure parts: table layout, JSON/YAML output, the config file, exit codes, the grant
// flags of `apikey create`, how keys are printed, the token request's form and its errors, and
// how signing keys are printed and exported.
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
#include "cli/oauth_form.h"
#include "cli/output.h"
#include "cli/signing_key_output.h"
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
  EXPECT_EQ(ExitCodeFor(StatusCode::kFailedPrecondition), 9);
  EXPECT_EQ(ExitCodeFor(StatusCode::kInsufficientStorage), 10);
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
           "LAST USED", "RATE LIMIT"},
          {{"kw_a", "apikey", "2026-12-13T10:00:00Z", "presto-driver",
            "minerva:explain, minerva:query", "roles:id:data-dev", "10.0.0.0/8, 2001:db8::/32",
            "2026-12-06T10:00:00Z", "2026-12-06T11:00:00Z", "none"},
           {"kw_b", "apikey", "2026-12-07T10:00:00Z", "plain", "none", "all (live)", "anywhere",
            "2026-12-06T10:00:00Z", "never", "none"},
           {"kw_c", "apikey", "2027-01-01T00:00:00Z", "old", "full access (created before scopes)",
            "all (live)", "anywhere", "2026-01-01T00:00:00Z", "never", "none"}}));
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

TEST(OAuthFormTest, FormEncodingKeepsOnlyUnreservedBytes) {
  EXPECT_EQ(FormEncode({}), "");
  EXPECT_EQ(FormEncode({{"grant_type", "client_credentials"}, {"scope", "a:b c"}}),
            "grant_type=client_credentials&scope=a%3Ab+c");
  EXPECT_EQ(FormEncode({{"k", "AZaz09*-._~+/=&%\n"}}), "k=AZaz09*-._%7E%2B%2F%3D%26%25%0A");
  EXPECT_EQ(FormEncode({{"a b", ""}, {"é", "\x01"}}), "a+b=&%C3%A9=%01");
  // Every byte other than the 66 kept ones and the space is escaped.
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  const std::string encoded = FormEncode({{"x", all}});
  EXPECT_EQ(encoded.size(), 2 + 66 + 1 + 3 * (256 - 67));
}

TEST(OAuthFormTest, TokenExchangeNamesTheSubjectsKind) {
  EXPECT_EQ(TokenExchangeForm("kw_key", true, "", {}),
            (FormFields{{"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
                        {"subject_token", "kw_key"},
                        {"subject_token_type", "urn:keyward:params:oauth:token-type:api_key"}}));
  FormFields session = TokenExchangeForm("s3ss10n", false, "pulsar",
                                         {"minerva:query", "pulsar:produce, pulsar:consume", ""});
  EXPECT_EQ(session.at(2).second, "urn:ietf:params:oauth:token-type:access_token");
  EXPECT_EQ(session.at(3), (std::pair<std::string, std::string>{"audience", "pulsar"}));
  EXPECT_EQ(session.at(4), (std::pair<std::string, std::string>{
                               "scope", "minerva:query pulsar:produce pulsar:consume"}));
  EXPECT_EQ(session.size(), 5u);
}

TEST(OAuthFormTest, RfcErrorsBecomeStatusesWithTheirDescription) {
  auto status = [](const char* body) { return OAuthErrorStatus(boost::json::parse(body)); };
  auto unauthorized =
      status(R"({"error":"unauthorized_client","error_description":"the key lacks tokens:issue"})");
  ASSERT_TRUE(unauthorized.has_value());
  EXPECT_EQ(unauthorized->code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(unauthorized->message(), "the key lacks tokens:issue (unauthorized_client)");
  EXPECT_EQ(ExitCodeFor(unauthorized->code()), 4);
  EXPECT_EQ(status(R"({"error":"invalid_client"})")->code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(status(R"({"error":"invalid_client"})")->message(), "invalid_client");
  EXPECT_EQ(status(R"({"error":"temporarily_unavailable"})")->code(), StatusCode::kUnavailable);
  auto limited = status(
      R"({"error":"rate_limited","error_description":"the key's rate limit (10 per 1s) is used up; retry in 1s"})");
  EXPECT_EQ(limited->code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ExitCodeFor(limited->code()), 8);
  // A refused subject_token (RFC 8693 §2.2.2) is a bad credential: exit 3, as invalid_client.
  auto subject = status(
      R"({"error":"invalid_request","error_description":"subject_token is invalid, expired or revoked"})");
  EXPECT_EQ(subject->code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(ExitCodeFor(subject->code()), 3);
  EXPECT_EQ(status(R"({"error":"invalid_request","error_description":"scope is bad"})")->code(),
            StatusCode::kInvalidArgument);
  for (const char* code : {"invalid_request", "invalid_scope", "invalid_target",
                           "unsupported_grant_type", "invalid_grant", "something_new"}) {
    std::string body = std::string(R"({"error":")") + code + R"("})";
    EXPECT_EQ(status(body.c_str())->code(), StatusCode::kInvalidArgument) << code;
  }
  // Keyward's own error shape, and anything else, is not an RFC 6749 error.
  EXPECT_FALSE(status(R"({"error":{"code":"not_found","message":"off"}})").has_value());
  EXPECT_FALSE(status(R"({"error":""})").has_value());
  EXPECT_FALSE(status(R"([1])").has_value());
}

// A next, a current and a retired key, as GET /api/v1/signing-keys lists them.
boost::json::value SigningKeys() {
  return boost::json::parse(
      R"([{"kid":"n1","alg":"ES256","generation":3,"state":"next",)"
      R"("created_at":"2026-12-07T01:00:00Z","activates_at":"2026-12-07T02:00:00Z",)"
      R"("signs_until":null,"published_until":null,"public_key_spki":"AAAA","jwk":{}},)"
      R"({"kid":"c1","alg":"ES256","generation":2,"state":"current",)"
      R"("created_at":"2026-11-07T01:00:00Z","activates_at":"2026-11-07T02:00:00Z",)"
      R"("signs_until":"2026-12-07T02:00:00Z","published_until":null,)"
      R"("public_key_spki":"MFkwEwYHKoZIzj0CAQ==","jwk":{}},)"
      R"({"kid":"r1","alg":"ES256","generation":1,"state":"retired",)"
      R"("created_at":"2026-10-07T01:00:00Z","activates_at":"2026-10-07T02:00:00Z",)"
      R"("signs_until":"2026-11-07T02:00:00Z","published_until":"2026-11-07T02:11:05Z",)"
      R"("public_key_spki":"AAAA","jwk":{}}])");
}

TEST(SigningKeyOutputTest, TableAndWideTable) {
  EXPECT_EQ(
      RenderSigningKeys(SigningKeys(), OutputFormat::kTable),
      RenderTable({"KID", "ALG", "STATE", "SIGNS FROM", "PUBLISHED UNTIL"},
                  {{"n1", "ES256", "next", "2026-12-07T02:00:00Z", "-"},
                   {"c1", "ES256", "current", "2026-11-07T02:00:00Z", "-"},
                   {"r1", "ES256", "retired", "2026-10-07T02:00:00Z", "2026-11-07T02:11:05Z"}}));
  EXPECT_EQ(RenderSigningKeys(SigningKeys().at(1), OutputFormat::kWide),
            RenderTable({"KID", "ALG", "STATE", "SIGNS FROM", "PUBLISHED UNTIL", "GENERATION",
                         "CREATED", "SIGNS UNTIL"},
                        {{"c1", "ES256", "current", "2026-11-07T02:00:00Z", "-", "2",
                          "2026-11-07T01:00:00Z", "2026-12-07T02:00:00Z"}}));
  EXPECT_EQ(boost::json::parse(RenderSigningKeys(SigningKeys(), OutputFormat::kJson)),
            SigningKeys());
}

TEST(SigningKeyOutputTest, PulsarExportIsTheCurrentKey) {
  auto lines = PulsarStaticKey(SigningKeys());
  ASSERT_THAT(lines, IsOk());
  EXPECT_EQ(*lines,
            "# Keyward signing key c1, current since 2026-11-07T02:00:00Z; replace these lines "
            "after each rotation\n"
            "tokenPublicKey=data:;base64,MFkwEwYHKoZIzj0CAQ==\n"
            "tokenPublicAlg=ES256\n");
  EXPECT_EQ(PulsarRotationCaveat(SigningKeys()),
            "WARN[0000] the static key does not follow rotations: update the broker after each "
            "(this key signs until 2026-12-07T02:00:00Z), or use Pulsar's OpenID Connect "
            "provider, which reads the JWKS\n");
  boost::json::value no_current = SigningKeys();
  no_current.as_array().erase(no_current.as_array().begin() + 1);
  EXPECT_THAT(PulsarStaticKey(no_current), StatusIs(StatusCode::kNotFound));
  boost::json::value bad = SigningKeys();
  bad.as_array()[1].as_object()["public_key_spki"] = "not base64!";
  EXPECT_THAT(PulsarStaticKey(bad), StatusIs(StatusCode::kInternal));
  bad.as_array()[1].as_object()["public_key_spki"] = "AAAA";
  bad.as_array()[1].as_object()["alg"] = "none";
  EXPECT_THAT(PulsarStaticKey(bad), StatusIs(StatusCode::kInternal));
}

}  // namespace
}  // namespace keyward
