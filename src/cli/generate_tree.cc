// The App tree as the generators (cli/generate.h) read it.
#include <string>
#include <vector>

#include "cli/generate.h"

namespace keyward {
namespace {

// "TEXT:{debug,info,warn}" -> "TEXT", "{debug,info,warn}".
std::vector<std::string> TypeParts(const CLI::Option& option) {
  std::vector<std::string> parts;
  const std::string full = option.get_type_name();
  std::size_t begin = 0;
  while (begin <= full.size()) {
    // A set's items may hold ':' themselves: a part that opens with '{' runs to its '}'.
    std::size_t end = full[begin] == '{' ? full.find('}', begin) : begin;
    end = full.find(':', end == std::string::npos ? begin : end);
    if (end == std::string::npos) end = full.size();
    if (end > begin) parts.push_back(full.substr(begin, end - begin));
    begin = end + 1;
  }
  return parts;
}

}  // namespace

std::vector<const CLI::App*> VisibleSubcommands(const CLI::App& app) {
  return app.get_subcommands(
      [](const CLI::App* sub) { return !sub->get_name().empty() && !sub->get_group().empty(); });
}

std::vector<const CLI::Option*> VisibleOptions(const CLI::App& app) {
  std::vector<const CLI::Option*> options = app.get_options(
      [](const CLI::Option* o) { return !o->get_group().empty() && o->nonpositional(); });
  for (const CLI::Option* o : app.get_options(
           [](const CLI::Option* p) { return !p->get_group().empty() && !p->nonpositional(); })) {
    options.push_back(o);
  }
  return options;
}

bool TakesValue(const CLI::Option& option) { return option.get_items_expected_max() > 0; }

bool IsRepeatable(const CLI::Option& option) {
  return TakesValue(option) && option.get_expected_max() > 1;
}

std::vector<std::string> Choices(const CLI::Option& option) {
  std::vector<std::string> choices;
  for (const std::string& part : TypeParts(option)) {
    if (part.size() < 2 || part.front() != '{' || part.back() != '}') continue;
    std::size_t begin = 1;
    while (begin < part.size()) {
      std::size_t end = part.find(',', begin);
      if (end == std::string::npos) end = part.size() - 1;
      if (end > begin) choices.push_back(part.substr(begin, end - begin));
      begin = end + 1;
    }
  }
  return choices;
}

std::string ValueName(const CLI::Option& option) {
  if (!TakesValue(option)) return "";
  // The last part that is not a set: "TEXT:FILE" -> "FILE" (a check's name says more).
  std::string name;
  for (const std::string& part : TypeParts(option)) {
    if (!part.empty() && part.front() != '{') name = part;
  }
  return name.empty() ? "VALUE" : name;
}

std::string DefaultValue(const CLI::Option& option) {
  std::string value = option.get_default_str();
  if (ValueName(option) != "BOOLEAN") return value;
  if (value == "1") return "true";
  if (value == "0") return "false";
  return value;
}

std::string CommandPath(const CLI::App& app) {
  std::string path = app.get_name();
  for (const CLI::App* parent = app.get_parent(); parent != nullptr;
       parent = parent->get_parent()) {
    path.insert(0, parent->get_name() + " ");
  }
  return path;
}

}  // namespace keyward
