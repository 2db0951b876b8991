// AddCommands: `keyward COMMAND …` builds only COMMAND's group, and that group is exactly what
// the whole tree has under the same name (same options, same help); anything else builds all.
#include "app/commands.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <set>
#include <string>
#include <vector>

namespace keyward {
namespace {

std::vector<std::string> Names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  return names;
}

const CLI::App* Find(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands({}))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

// Every option and subcommand under `app`, with its help, as text to compare.
std::string Tree(const CLI::App& app) {
  std::string text = app.help();
  for (const CLI::App* sub : app.get_subcommands({})) text += "\n" + Tree(*sub);
  return text;
}

TEST(AddCommandsTest, ANamedCommandBuildsItsOwnGroupOnlyAndTheSameAsTheWholeTree) {
  int exit_code = 0;
  CLI::App all{"keyward", "keyward"};
  AddCommands(all, &exit_code, "");
  const std::vector<std::string> every = Names(all);
  ASSERT_GE(every.size(), 12u);  // serve … version, generate
  for (const std::string& name : every) {
    SCOPED_TRACE(name);
    CLI::App one{"keyward", "keyward"};
    AddCommands(one, &exit_code, name);
    const std::vector<std::string> built = Names(one);
    if (name == "generate") {  // it reads every command: never built alone
      EXPECT_EQ(built, every);
      continue;
    }
    EXPECT_LE(built.size(), 2u) << "more than the named command's group was built";
    ASSERT_NE(Find(one, name), nullptr);
    for (const std::string& sibling : built) {
      // login/logout and backup/restore are added together; each is as in the whole tree.
      const CLI::App* in_all = Find(all, sibling);
      ASSERT_NE(in_all, nullptr) << sibling;
      EXPECT_EQ(Tree(*Find(one, sibling)), Tree(*in_all)) << sibling;
    }
  }
}

TEST(AddCommandsTest, AnythingButACommandNameBuildsTheWholeTree) {
  int exit_code = 0;
  CLI::App all{"keyward", "keyward"};
  AddCommands(all, &exit_code, "");
  for (const char* first : {"--help", "-h", "--help-all", "scna", "user=x", "Scan", "generate"}) {
    SCOPED_TRACE(first);
    CLI::App app{"keyward", "keyward"};
    AddCommands(app, &exit_code, first);
    EXPECT_EQ(Names(app), Names(all));
  }
}

}  // namespace
}  // namespace keyward
