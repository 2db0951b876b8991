// The token issuer's CLI (issue 14) against the real server: `keyward token issue` with a key,
// a key file and the session of `keyward login` prints a JWT with the contract's claims; its
// refusals print the RFC 6749 error's description with the CLI's exit codes; `signing-key list`,
// `rotate`, `rotate --now` and `export --format pulsar`, whose static key verifies the tokens;
// with the issuer off, each command says how to turn it on.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include "harness.h"
#include "jwt_util.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

constexpr char kIssuer[] = "http://issuer.keyward.test";
const std::vector<std::string> kIssuerFlags = {"--issuer",
                                               kIssuer,
                                               "--issuer-allow-http",
                                               "--token-audience",
                                               "pulsar",
                                               "--token-audience",
                                               "trino;typ=JWT",
                                               "--gateway-audience",
                                               "pulsar"};

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Seconds since the epoch of an RFC 3339 UTC time ("2026-12-07T02:00:00Z").
std::int64_t EpochOf(const std::string& rfc3339) {
  std::tm tm{};
  std::istringstream in(rfc3339);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  return static_cast<std::int64_t>(::timegm(&tm));
}

// "b a c" → {"a", "b", "c"}.
std::vector<std::string> SortedWords(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) words.push_back(w);
  std::sort(words.begin(), words.end());
  return words;
}

std::vector<std::string> SortedStrings(const json::value& array) {
  std::vector<std::string> out;
  for (const json::value& v : array.as_array()) out.emplace_back(v.as_string());
  std::sort(out.begin(), out.end());
  return out;
}

class TokenCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ServerProcess::Start(kIssuerFlags);
    ASSERT_GT(server_->port(), 0);
    home_ = MakeTempDir();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
    session_ = server_->Login("admin", kAdminPassword);
  }
  void TearDown() override {
    server_->Stop();
    ExpectNoSecretsIn({server_->log_path()});
    RemoveTree(home_);
  }

  // `keyward args…` against the server as a user whose home is home_, with `key` (when not
  // empty) as KEYWARD_APIKEY.
  ProcessResult Cli(const std::vector<std::string>& args, const std::string& key = "") {
    return RunKeyward(args, {{"HOME", home_},
                             {"XDG_CONFIG_HOME", ""},
                             {"KEYWARD_APIKEY", key},
                             {"KEYWARD_SERVER", url_}});
  }
  // Signs in with `keyward login`; the session it saved is recorded as a secret (`token issue`
  // sends it as a subject_token).
  void LoginWithCli() {
    ProcessResult r = RunKeyward({"login", "--server", url_, "-u", "admin", "--password-stdin"},
                                 {{"HOME", home_}, {"XDG_CONFIG_HOME", ""}, {"KEYWARD_APIKEY", ""}},
                                 std::string(kAdminPassword) + "\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json::value config = json::parse(ReadFile(home_ + "/.keyward/config"));
    RememberSecret(Str(config, "token"));
  }
  // A key of admin with `scopes` (and `duration`), recorded as a secret.
  std::string Key(const std::string& name, const std::vector<std::string>& scopes,
                  const std::string& duration = "24h", std::string* expiration = nullptr) {
    json::array list;
    for (const auto& s : scopes) list.emplace_back(s);
    HttpResult r = server_->As(session_, "POST", "/api/v1/users/me/apikeys",
                               {{"name", name}, {"duration", duration}, {"scopes", list}});
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return "";
    std::string key = Str(r.Json(), "token");
    RememberSecret(key);
    if (expiration != nullptr) *expiration = Str(r.Json(), "expiration");
    return key;
  }
  json::array SigningKeys() {
    HttpResult r = server_->As(session_, "GET", "/api/v1/signing-keys");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.Json().at("keys").as_array() : json::array();
  }
  json::value CurrentKey() {
    json::value current;
    for (const json::value& key : SigningKeys()) {
      if (Str(key, "state") == "current") {
        EXPECT_TRUE(current.is_null()) << "two current keys";
        current = key;
      }
    }
    EXPECT_FALSE(current.is_null()) << "no current key";
    return current;
  }
  std::vector<std::string> AdminTags() {
    return SortedStrings(server_->As(session_, "GET", "/api/v1/users/me").Json().at("tags"));
  }

  std::unique_ptr<ServerProcess> server_;
  std::string home_, url_, session_;
};

// The JWT `token issue` printed for `key` (scopes tokens:issue, pulsar:consume,
// pulsar:produce): header and every claim of the contract, and a signature by the current key.
TEST_F(TokenCliTest, IssuePrintsAJwtWithTheContractsClaims) {
  const std::string key = Key("issuer", {"tokens:issue", "pulsar:produce", "pulsar:consume"});
  const std::int64_t before = Now();
  ProcessResult r = Cli({"token", "issue"}, key);
  const std::int64_t after = Now();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "machine output: no progress lines";
  ASSERT_FALSE(r.out.empty());
  ASSERT_EQ(r.out.back(), '\n');
  const std::string jwt = r.out.substr(0, r.out.size() - 1);
  EXPECT_EQ(std::count(jwt.begin(), jwt.end(), '.'), 2) << "the JWT alone on stdout: " << r.out;
  EXPECT_EQ(jwt.find(key), std::string::npos);

  const json::value current = CurrentKey();
  json::value header = JwtPart(jwt, 0);
  ASSERT_TRUE(header.is_object()) << jwt;
  EXPECT_EQ(header, json::value({{"alg", "ES256"}, {"kid", current.at("kid")}, {"typ", "at+jwt"}}))
      << header;
  json::value claims = JwtPart(jwt, 1);
  ASSERT_TRUE(claims.is_object()) << jwt;
  std::vector<std::string> names;
  for (const auto& [name, _] : claims.as_object()) names.emplace_back(name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"aud", "client_id", "exp", "iat", "iss", "jti", "nbf",
                                             "scope", "sub", "tags"}));
  EXPECT_EQ(Str(claims, "iss"), kIssuer);
  EXPECT_EQ(Str(claims, "sub"), "admin");
  EXPECT_EQ(claims.at("aud"), json::value("pulsar")) << "the default audience, one string";
  EXPECT_EQ(Str(claims, "client_id"), KeyIdOf(key));
  EXPECT_EQ(SortedWords(Str(claims, "scope")),
            (std::vector<std::string>{"pulsar:consume", "pulsar:produce"}))
      << "the key's service scopes, never Keyward's own";
  EXPECT_EQ(SortedStrings(claims.at("tags")), AdminTags()) << "the key's tags: its owner's, live";
  const std::int64_t iat = claims.at("iat").as_int64();
  EXPECT_EQ(claims.at("nbf").as_int64(), iat);
  EXPECT_LE(iat, after);
  EXPECT_GE(iat, before - 60) << "a few seconds back for clock skew, not more";
  const std::int64_t exp = claims.at("exp").as_int64();
  EXPECT_GE(exp, before + 600) << "the default ttl, 10 minutes";
  EXPECT_LE(exp, after + 600);
  EXPECT_EQ(Base64UrlDecode(Str(claims, "jti")).size(), 16u) << Str(claims, "jti");

  EXPECT_TRUE(JwtVerifiesWith(jwt, Base64Decode(Str(current, "public_key_spki"))));
  ProcessResult again = Cli({"token", "issue"}, key);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(Str(JwtPart(again.out.substr(0, again.out.size() - 1), 1), "jti"), Str(claims, "jti"));
  // Accepted where a gateway asks, in place of the key.
  EXPECT_EQ(Call(server_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + jwt}}).status,
            200);
}

// -o json is the token endpoint's answer; --audience picks another audience with its typ,
// --scope narrows; --key-file is a credential like KEYWARD_APIKEY; a key expiring before the
// token's lifetime ends caps exp.
TEST_F(TokenCliTest, JsonOutputAudienceScopeKeyFileAndExpiryCap) {
  std::string expiration;
  const std::string key =
      Key("short", {"tokens:issue", "pulsar:produce", "pulsar:consume"}, "5m", &expiration);
  ProcessResult r = Cli(
      {"token", "issue", "-o", "json", "--audience", "trino", "--scope", "pulsar:produce"}, key);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  json::value body = json::parse(r.out);
  std::vector<std::string> names;
  for (const auto& [name, _] : body.as_object()) names.emplace_back(name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"access_token", "expires_in", "issued_token_type",
                                             "scope", "token_type"}));
  EXPECT_EQ(Str(body, "token_type"), "Bearer");
  EXPECT_EQ(Str(body, "issued_token_type"), "urn:ietf:params:oauth:token-type:access_token");
  EXPECT_EQ(Str(body, "scope"), "pulsar:produce");
  const std::int64_t expires_in = body.at("expires_in").as_int64();
  EXPECT_GT(expires_in, 0);
  EXPECT_LE(expires_in, 300) << "never past the key's expiry";
  const std::string jwt = Str(body, "access_token");
  EXPECT_EQ(Str(JwtPart(jwt, 0), "typ"), "JWT") << "trino;typ=JWT";
  json::value claims = JwtPart(jwt, 1);
  EXPECT_EQ(claims.at("aud"), json::value("trino"));
  EXPECT_EQ(Str(claims, "scope"), "pulsar:produce");
  EXPECT_EQ(claims.at("exp").as_int64(), EpochOf(expiration)) << expiration;
  // trino is not a --gateway-audience: /auth does not take its tokens.
  EXPECT_EQ(Call(server_->port(), "GET", "/auth", "", {{"Authorization", "Bearer " + jwt}}).status,
            401);

  const std::string key_file = home_ + "/pulsar.key";
  std::ofstream(key_file) << key << "\n";
  ProcessResult from_file = Cli({"token", "issue", "--key-file", key_file});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(Str(JwtPart(from_file.out.substr(0, from_file.out.size() - 1), 1), "client_id"),
            KeyIdOf(key));
  ProcessResult missing = Cli({"token", "issue", "--key-file", home_ + "/none"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("cannot read --key-file"), std::string::npos) << missing.err;
}

// Signed in with `keyward login`, the session is exchanged (subject_token_type access_token):
// the token is the user's, with no scope.
TEST_F(TokenCliTest, IssueWithTheSessionOfLogin) {
  ProcessResult none = Cli({"token", "issue"});
  EXPECT_EQ(none.exit_code, 3) << "no credential: not signed in\n" << none.err;
  EXPECT_EQ(none.out, "");
  LoginWithCli();
  ProcessResult r = Cli({"token", "issue", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value body = json::parse(r.out);
  EXPECT_FALSE(body.as_object().contains("scope")) << "a session carries no service scope";
  json::value claims = JwtPart(Str(body, "access_token"), 1);
  EXPECT_EQ(Str(claims, "sub"), "admin");
  EXPECT_EQ(Str(claims, "iss"), kIssuer);
  EXPECT_FALSE(claims.as_object().contains("scope"));
  EXPECT_EQ(Str(claims, "client_id").size(), 24u);
}

// Each refusal: the RFC 6749 error's description and code on one ERRO line, nothing on stdout,
// and the CLI's exit code of its kind.
TEST_F(TokenCliTest, RefusalsPrintTheErrorDescriptionAndExitCode) {
  const std::string no_issue = Key("no-issue", {"pulsar:produce"});
  const std::string issuer = Key("issuer", {"tokens:issue", "pulsar:produce"});
  RememberSecret(WithTypo(issuer));  // sent as a subject_token too
  struct Refusal {
    std::string key;
    std::vector<std::string> args;
    int exit_code;
    std::string error;
  };
  const std::vector<Refusal> refusals = {
      {no_issue, {}, 4, "unauthorized_client"},
      {WithTypo(issuer), {}, 3, "invalid_request"},  // RFC 8693 §2.2.2: a refused subject
      {issuer, {"--scope", "keys:read"}, 2, "invalid_scope"},
      {issuer, {"--scope", "pulsar:consume"}, 2, "invalid_scope"},
      {issuer, {"--audience", "kafka"}, 2, "invalid_target"},
  };
  for (const Refusal& refusal : refusals) {
    std::vector<std::string> args = {"token", "issue"};
    args.insert(args.end(), refusal.args.begin(), refusal.args.end());
    ProcessResult r = Cli(args, refusal.key);
    SCOPED_TRACE(refusal.error);
    EXPECT_EQ(r.exit_code, refusal.exit_code) << r.err;
    EXPECT_EQ(r.out, "");
    // "ERRO[0000] token issue: <error_description> (<error>)", plus a sign-in hint for 401.
    const std::string prefix = "ERRO[0000] token issue: ";
    ASSERT_TRUE(r.err.starts_with(prefix)) << r.err;
    const auto code_at = r.err.find(" (" + refusal.error + ")");
    ASSERT_NE(code_at, std::string::npos) << r.err;
    EXPECT_GT(code_at, prefix.size()) << "an error_description precedes the code: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find(refusal.key), std::string::npos);
  }
}

// As an operator: list, rotate (a next key appears; a second one is refused), rotate --now
// (the new key is current at once), and export --format pulsar, whose key is the current one
// and verifies a token issued after it.
TEST_F(TokenCliTest, SigningKeysListRotateAndExport) {
  LoginWithCli();
  ProcessResult listed = Cli({"signing-key", "list", "-o", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.err, "");
  json::value keys = json::parse(listed.out);
  ASSERT_EQ(keys, json::value(SigningKeys())) << "the API's list itself";
  const json::value first = CurrentKey();
  const std::string first_kid = Str(first, "kid");

  ProcessResult table = Cli({"signing-key", "list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(" KID "), std::string::npos) << table.out;
  for (const char* header : {"ALG", "STATE", "SIGNS FROM", "PUBLISHED UNTIL"}) {
    EXPECT_NE(table.out.find(header), std::string::npos) << header << "\n" << table.out;
  }
  EXPECT_NE(table.out.find(" " + first_kid + " | ES256 | current "), std::string::npos)
      << table.out;
  ProcessResult wide = Cli({"signing-key", "list", "-o", "wide"});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_NE(wide.out.find("SIGNS UNTIL"), std::string::npos) << wide.out;

  ProcessResult rotated = Cli({"signing-key", "rotate", "-o", "json"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  json::value next = json::parse(rotated.out);
  EXPECT_EQ(Str(next, "state"), "next");
  EXPECT_NE(Str(next, "kid"), first_kid);
  EXPECT_EQ(Str(CurrentKey(), "kid"), first_kid) << "a next key does not sign yet";
  bool listed_next = false;
  for (const json::value& key : SigningKeys()) {
    if (Str(key, "kid") == Str(next, "kid")) listed_next = Str(key, "state") == "next";
  }
  EXPECT_TRUE(listed_next);
  ProcessResult pending = Cli({"signing-key", "rotate"});
  EXPECT_EQ(pending.exit_code, 6) << "a next key is already pending\n" << pending.err;

  ProcessResult now = Cli({"signing-key", "rotate", "--now", "-o", "json"});
  ASSERT_EQ(now.exit_code, 0) << now.err;
  const std::string new_kid = Str(json::parse(now.out), "kid");
  const json::value current = CurrentKey();
  EXPECT_EQ(Str(current, "kid"), new_kid) << "--now: the new key signs at once";
  for (const json::value& key : SigningKeys()) {
    if (Str(key, "kid") == first_kid) {
      EXPECT_EQ(Str(key, "state"), "retired");
    }
  }

  ProcessResult exported = Cli({"signing-key", "export", "--format", "pulsar"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::istringstream lines(exported.out);
  std::string comment, public_key, alg, extra;
  std::getline(lines, comment);
  std::getline(lines, public_key);
  std::getline(lines, alg);
  EXPECT_TRUE(comment.starts_with("# ")) << exported.out;
  EXPECT_NE(comment.find(new_kid), std::string::npos) << comment;
  EXPECT_EQ(alg, "tokenPublicAlg=ES256");
  EXPECT_FALSE(std::getline(lines, extra)) << exported.out;
  const std::string prefix = "tokenPublicKey=data:;base64,";
  ASSERT_TRUE(public_key.starts_with(prefix)) << public_key;
  const std::string spki = Base64Decode(public_key.substr(prefix.size()));
  ASSERT_FALSE(spki.empty()) << public_key;
  EXPECT_EQ(spki, Base64Decode(Str(current, "public_key_spki")));
  EXPECT_TRUE(SpkiMatchesJwk(spki, current.at("jwk")));
  bool in_jwks = false;
  HttpResult jwks = Call(server_->port(), "GET", "/.well-known/jwks.json");
  ASSERT_EQ(jwks.status, 200) << jwks.body;
  const json::value published = jwks.Json();  // kept: a range-for's temporary would die
  for (const json::value& jwk : published.at("keys").as_array()) {
    if (Str(jwk, "kid") == new_kid) in_jwks = SpkiMatchesJwk(spki, jwk);
  }
  EXPECT_TRUE(in_jwks) << "the exported key is the JWKS's key of that kid";
  EXPECT_NE(exported.err.find("WARN"), std::string::npos) << exported.err;
  EXPECT_NE(exported.err.find("does not follow rotations"), std::string::npos) << exported.err;

  // What a broker with that static key does: verify a token issued now.
  ProcessResult token = Cli({"token", "issue"}, Key("pulsar-client", {"tokens:issue"}));
  ASSERT_EQ(token.exit_code, 0) << token.err;
  const std::string jwt = token.out.substr(0, token.out.size() - 1);
  EXPECT_EQ(Str(JwtPart(jwt, 0), "kid"), new_kid);
  EXPECT_TRUE(JwtVerifiesWith(jwt, spki));
  EXPECT_FALSE(JwtVerifiesWith(jwt, Base64Decode(Str(first, "public_key_spki"))))
      << "the check itself tells keys apart";
}

// Rotation is an operator's: a key without users:write lists the keys but may not rotate.
TEST_F(TokenCliTest, RotateNeedsAnOperator) {
  const std::string reader = Key("reader", {"keys:read"});
  ProcessResult listed = Cli({"signing-key", "list"}, reader);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  ProcessResult refused = Cli({"signing-key", "rotate"}, reader);
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_EQ(refused.out, "");
  ProcessResult usage = Cli({"signing-key", "export", "--format", "pem"}, reader);
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
}

// With the issuer off (no --issuer), each command says how to turn it on: the server's 404,
// exit code 5.
TEST(TokenCliIssuerOffTest, CommandsSayHowToTurnTheIssuerOn) {
  auto server = ServerProcess::Start();
  ASSERT_GT(server->port(), 0);
  const std::string home = MakeTempDir();
  const std::string session = server->Login("admin", kAdminPassword);
  const std::string key = server->NewScopedKey(session, "me", "issuer", {"tokens:issue"});
  const std::map<std::string, std::string> env = {
      {"HOME", home},
      {"XDG_CONFIG_HOME", ""},
      {"KEYWARD_APIKEY", key},
      {"KEYWARD_SERVER", "http://127.0.0.1:" + std::to_string(server->port())}};
  for (const std::vector<std::string>& args : {std::vector<std::string>{"token", "issue"},
                                               {"signing-key", "list"},
                                               {"signing-key", "export", "--format", "pulsar"}}) {
    ProcessResult r = RunKeyward(args, env);
    SCOPED_TRACE(args.at(0) + " " + args.at(1));
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_NE(r.err.find("the token issuer is off: start keyward serve with --issuer URL"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out, "");
  }
  server->Stop();
  ExpectNoSecretsIn({server->log_path()});
  RemoveTree(home);
}

}  // namespace
}  // namespace keyward::testing
