// The generators of cli/generate.h on a small App tree; tests/integration/generated_test.cc
// renders and runs what the real binary generates.
#include "cli/generate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keyward {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// keyward serve (a few settings of each kind) and keyward user apikey create|delete.
struct Tree {
  std::string listen = "127.0.0.1:8080", data_dir = "./var", level = "info", name;
  bool reveal = true, allow_query = false;
  std::vector<std::string> audiences;
  std::string config;
  CLI::App root{"Keyward: API keys", "keyward"};

  Tree() {
    CLI::App* serve = root.add_subcommand("serve", "Run the server");
    serve->add_option("--config", config, "settings file")->envname("KEYWARD_CONFIG");
    serve->add_option("--listen", listen, "host:port to listen on")
        ->envname("KEYWARD_LISTEN")
        ->capture_default_str();
    serve->add_option("--data-dir", data_dir, "folder for the database")->capture_default_str();
    serve->add_option("--log-level", level, "debug, info or warn")
        ->check(CLI::IsMember({"debug", "info", "warn"}))
        ->capture_default_str();
    serve->add_option("--reveal", reveal, "keep keys encrypted")->capture_default_str();
    serve->add_flag("--allow-query-key", allow_query, "accept ?apikey=");
    serve->add_option("--token-audience", audiences, "an audience (repeatable)");
    serve->add_option("--secret", name, "hidden")->group("");
    CLI::App* user = root.add_subcommand("user", "Manage users");
    CLI::App* apikey = user->add_subcommand("apikey", "Manage a user's keys");
    CLI::App* create = apikey->add_subcommand("create", "Create a key");
    create->add_option("-o,--output", level, "table, json or yaml")
        ->check(CLI::IsMember({"table", "json", "yaml"}));
    create->add_option("name", name, "the key's name")->required();
    apikey->add_subcommand("delete", "Delete a key");
    root.add_subcommand("hidden-command", "hidden")->group("");
  }
  const CLI::App& Serve() const { return *root.get_subcommand("serve"); }
};

TEST(TroffEscapeTest, EscapesWhatTroffWouldRead) {
  EXPECT_EQ(TroffEscape("a-b"), "a\\-b");
  EXPECT_EQ(TroffEscape("C:\\dir"), "C:\\edir");
  EXPECT_EQ(TroffEscape(".TH x"), "\\&.TH x");
  EXPECT_EQ(TroffEscape("'quoted"), "\\&'quoted");
  EXPECT_EQ(TroffEscape("one\n.two\n'three"), "one\n\\&.two\n\\&'three");
  EXPECT_EQ(TroffEscape("mid.dot it's"), "mid.dot it's");
  EXPECT_EQ(TroffEscape("<prefix>_…"), "<prefix>_\\[u2026]");
  EXPECT_EQ(TroffEscape("é"), "\\[u00E9]");
  EXPECT_EQ(TroffEscape("a\n\nb"), "a\n\\&\nb");
  EXPECT_EQ(TroffEscape(std::string("bad\xff")), "bad\\[uFFFD]");
}

TEST(ManPagesTest, OnePageForTheRootAndEachCommandNoHidden) {
  Tree t;
  const auto pages = ManPages(t.root, "1.2.3");
  ASSERT_EQ(pages.size(), 3u);
  const std::string& user = pages.at("keyward-user.1");
  EXPECT_THAT(user, HasSubstr(".TH KEYWARD\\-USER 1 \"\" \"keyward 1.2.3\""));
  EXPECT_THAT(user, HasSubstr(".SH NAME\nkeyward\\-user \\- Manage users\n"));
  EXPECT_THAT(user, HasSubstr(".SS \"keyward user apikey create\""));
  EXPECT_THAT(user, HasSubstr("\\fB\\-o\\fR, \\fB\\-\\-output\\fR \\fITEXT\\fR"));
  EXPECT_THAT(user, HasSubstr("One of \\fBtable\\fR, \\fBjson\\fR, \\fByaml\\fR."));
  EXPECT_THAT(user, HasSubstr(".SH SEE ALSO\n\\fBkeyward\\fR(1)"));
  const std::string& serve = pages.at("keyward-serve.1");
  EXPECT_THAT(serve, HasSubstr("Default: \\fB127.0.0.1:8080\\fR."));
  EXPECT_THAT(serve, HasSubstr(".SH ENVIRONMENT"));
  EXPECT_THAT(serve, HasSubstr("\\fBKEYWARD_LISTEN\\fR\nThe value of \\fBkeyward serve "
                               "\\-\\-listen\\fR."));
  EXPECT_THAT(serve, Not(HasSubstr("secret")));
  EXPECT_THAT(pages.at("keyward.1"), HasSubstr("\\fBkeyward\\-serve\\fR(1)"));
  EXPECT_THAT(pages.at("keyward.1"), Not(HasSubstr("hidden-command")));
}

TEST(CompletionTest, BashKnowsCommandsOptionsAndChoices) {
  Tree t;
  const std::string bash = BashCompletion(t.root);
  EXPECT_THAT(bash, HasSubstr("'keyward user apikey')\n      subs='create delete'"));
  EXPECT_THAT(bash, HasSubstr("'keyward user apikey create -o') choices='table json yaml'"));
  EXPECT_THAT(bash, HasSubstr("complete -o default -F _keyward keyward"));
  EXPECT_THAT(bash, Not(HasSubstr("hidden-command")));
  EXPECT_THAT(bash, Not(HasSubstr("--secret")));
}

TEST(CompletionTest, ZshDefinesAFunctionPerCommand) {
  Tree t;
  const std::string zsh = ZshCompletion(t.root);
  EXPECT_EQ(zsh.rfind("#compdef keyward\n", 0), 0u);
  EXPECT_THAT(zsh, HasSubstr("_keyward_user_apikey_create() {"));
  EXPECT_THAT(zsh, HasSubstr("'(-o --output)-o+[table, json or yaml]:TEXT:(table json yaml)'"));
  EXPECT_THAT(zsh, HasSubstr("'*--token-audience=[an audience (repeatable)]:TEXT:_files'"));
  EXPECT_THAT(zsh, HasSubstr("'--listen=[host\\:port to listen on]:TEXT:_files'"));
  EXPECT_THAT(zsh, Not(HasSubstr("hidden-command")));
}

TEST(ConfigTemplateTest, EverySettingOnceCommentedAtItsDefault) {
  Tree t;
  const auto conf = ConfigTemplate(t.Serve(), {});
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  for (const char* name :
       {"listen", "data-dir", "log-level", "reveal", "allow-query-key", "token-audience"}) {
    EXPECT_EQ(Count(*conf, "\n# " + std::string(name) + " ="), 1u) << name;
  }
  EXPECT_THAT(*conf, HasSubstr("# host:port to listen on [KEYWARD_LISTEN]\n"
                               "# listen = 127.0.0.1:8080\n"));
  EXPECT_THAT(*conf, HasSubstr("\n# allow-query-key = false\n"));
  EXPECT_THAT(*conf, HasSubstr("\n# reveal = true\n"));  // not CLI11's "1"
  EXPECT_THAT(*conf, HasSubstr("\n# token-audience =\n"));
  EXPECT_THAT(*conf, HasSubstr("[one line per value]"));
  EXPECT_THAT(*conf, Not(HasSubstr("config =")));
  EXPECT_THAT(*conf, Not(HasSubstr("help =")));
  EXPECT_THAT(*conf, Not(HasSubstr("secret")));
}

TEST(ConfigTemplateTest, SetWritesTheLineUncommented) {
  Tree t;
  const auto conf = ConfigTemplate(
      t.Serve(),
      {{"data-dir", "/var/lib/keyward"}, {"token-audience", "a"}, {"token-audience", "b"}});
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  EXPECT_THAT(*conf, HasSubstr("\ndata-dir = /var/lib/keyward\n"));
  EXPECT_THAT(*conf, Not(HasSubstr("# data-dir =")));
  EXPECT_THAT(*conf, HasSubstr("\ntoken-audience = a\ntoken-audience = b\n"));
  // White space at the ends and a leading quote survive in double quotes.
  const auto quoted = ConfigTemplate(t.Serve(), {{"listen", " \"x\\ "}});
  ASSERT_TRUE(quoted.ok());
  EXPECT_THAT(*quoted, HasSubstr("\nlisten = \" \\\"x\\\\ \"\n"));
}

TEST(ConfigTemplateTest, RefusesWhatTheFileCouldNotHold) {
  Tree t;
  EXPECT_EQ(ConfigTemplate(t.Serve(), {{"nope", "1"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfigTemplate(t.Serve(), {{"config", "x"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfigTemplate(t.Serve(), {{"listen", "a\nb"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfigTemplate(t.Serve(), {{"listen", "a"}, {"listen", "b"}}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace keyward
