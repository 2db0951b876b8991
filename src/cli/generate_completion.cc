// Bash and zsh completion from the App tree.
#include <string>
#include <vector>

#include "cli/generate.h"

namespace keyward {
namespace {

// `text` in single quotes for a shell (bash and zsh alike).
std::string Quote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Every command from `app` down, depth first.
void Walk(const CLI::App& app, std::vector<const CLI::App*>& out) {
  out.push_back(&app);
  for (const CLI::App* sub : VisibleSubcommands(app)) Walk(*sub, out);
}

// ---- bash ----

// One case of _keyward_spec: the subcommands, option names and value-taking options of `app`.
std::string BashSpec(const CLI::App& app) {
  std::vector<std::string> subs, options, valued;
  for (const CLI::App* sub : VisibleSubcommands(app)) subs.push_back(sub->get_name());
  for (const CLI::Option* o : VisibleOptions(app)) {
    if (!o->nonpositional()) continue;
    std::vector<std::string> names;
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : o->get_snames()) names.push_back("-" + s);
    for (const std::string& n : names) {
      options.push_back(n);
      if (TakesValue(*o)) valued.push_back(n);
    }
  }
  return "    " + Quote(CommandPath(app)) + ")\n      subs=" + Quote(Join(subs)) +
         "\n      opts=" + Quote(Join(options)) + "\n      valued=" + Quote(Join(valued)) + " ;;\n";
}

// The cases of _keyward_choices: "<command> <option>" -> the values it allows.
std::string BashChoices(const CLI::App& app) {
  std::string text;
  for (const CLI::Option* o : VisibleOptions(app)) {
    const std::vector<std::string> choices = Choices(*o);
    if (!o->nonpositional() || choices.empty()) continue;
    std::vector<std::string> keys;
    for (const std::string& l : o->get_lnames()) keys.push_back(CommandPath(app) + " --" + l);
    for (const std::string& s : o->get_snames()) keys.push_back(CommandPath(app) + " -" + s);
    std::string pattern;
    for (const std::string& k : keys) pattern += (pattern.empty() ? "" : " | ") + Quote(k);
    text += "    " + pattern + ") choices=" + Quote(Join(choices)) + " ;;\n";
  }
  return text;
}

constexpr const char* kBashMain = R"(
# The words before the cursor name a command (keyward user apikey); its subcommands and options
# complete, and an option's value its choices (or file names: -o default).
_keyward() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev= path=keyward i w subs opts valued choices=
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  # --name=value splits into --name, = and value (COMP_WORDBREAKS holds =).
  if [[ $prev == = ]] && ((COMP_CWORD > 1)); then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  elif [[ $cur == = ]]; then
    cur=
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    _keyward_spec "$path"
    case $w in
      -*)
        if [[ " $valued " == *" $w "* ]]; then
          ((i++))
          [[ ${COMP_WORDS[i]} == = ]] && ((i++))
        fi
        ;;
      *)
        [[ " $subs " == *" $w "* ]] && path="$path $w"
        ;;
    esac
  done
  _keyward_spec "$path"
  COMPREPLY=()
  if [[ " $valued " == *" $prev "* ]]; then
    _keyward_choices "$path $prev"
    [[ -n $choices ]] && mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur")
    return 0
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
  elif [[ -n $subs ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
  fi
  return 0
}

complete -o default -F _keyward keyward
)";

// ---- zsh ----

// `text` for the inside of an _arguments description or message: [ ] : \ escaped.
std::string ZshEscape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string ZshFunction(const CLI::App& app) {
  std::string name = "_" + CommandPath(app);
  for (char& c : name) {
    if (c == ' ' || c == '-') c = '_';
  }
  return name;
}

// ":message:action" for an option's value (the message its type) or a positional (its name).
std::string ZshValue(const CLI::Option& o) {
  const std::vector<std::string> choices = Choices(o);
  std::string action = "_files";
  if (!choices.empty()) {
    action = "(";
    for (const std::string& c : choices) action += (action.size() > 1 ? " " : "") + c;
    action += ")";
  }
  const std::string type = ValueName(o);
  if (choices.empty() && (type == "INT" || type == "UINT" || type == "FLOAT" || type == "DURATION"))
    action = "";
  return ":" + ZshEscape(o.nonpositional() ? type : o.get_name()) + ":" + action;
}

// The _arguments specs of `app`'s options and positionals, one a line.
std::string ZshSpecs(const CLI::App& app) {
  std::string text;
  for (const CLI::Option* o : VisibleOptions(app)) {
    const std::string help = "[" + ZshEscape(o->get_description()) + "]";
    if (!o->nonpositional()) {
      text += "    " + Quote((IsRepeatable(*o) ? "*" : "") + ZshValue(*o)) + " \\\n";
      continue;
    }
    std::vector<std::string> names;
    for (const std::string& s : o->get_snames()) names.push_back("-" + s);
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    const std::string value = TakesValue(*o) ? ZshValue(*o) : "";
    const bool repeat = IsRepeatable(*o);
    for (const std::string& n : names) {
      const std::string suffix = !TakesValue(*o) ? "" : n.size() == 2 ? "+" : "=";
      // Spellings of one option exclude each other, unless it repeats.
      const std::string exclude = repeat ? "*" : names.size() > 1 ? "(" + Join(names) + ")" : "";
      std::string spec = exclude;
      spec.append(n).append(suffix).append(help).append(value);
      text.append("    ").append(Quote(spec)).append(" \\\n");
    }
  }
  return text;
}

std::string ZshDefinition(const CLI::App& app) {
  const std::vector<const CLI::App*> subs = VisibleSubcommands(app);
  std::string text = ZshFunction(app) + "() {\n";
  if (subs.empty()) {
    return text + "  _arguments -s -S \\\n" + ZshSpecs(app) + "    && return 0\n  return 1\n}\n";
  }
  text += "  local curcontext=$curcontext state state_descr line ret=1\n";
  text += "  typeset -A opt_args\n";
  text += "  _arguments -s -S -C \\\n" + ZshSpecs(app);
  text += "    ': :->command' \\\n    '*:: :->argument' && ret=0\n";
  text += "  case $state in\n    command)\n      local -a commands=(\n";
  for (const CLI::App* sub : subs) {
    text += "        " + Quote(sub->get_name() + ":" + ZshEscape(sub->get_description())) + "\n";
  }
  text += "      )\n      _describe -t commands " + Quote(CommandPath(app) + " command") +
          " commands && ret=0\n      ;;\n    argument)\n      curcontext=${curcontext%:*:*}:" +
          ZshFunction(app).substr(1) + "-$words[1]:\n      case $words[1] in\n";
  for (const CLI::App* sub : subs) {
    text += "        " + Quote(sub->get_name()) + ") " + ZshFunction(*sub) + " && ret=0 ;;\n";
  }
  return text + "      esac\n      ;;\n  esac\n  return ret\n}\n";
}

}  // namespace

std::string BashCompletion(const CLI::App& root) {
  std::vector<const CLI::App*> commands;
  Walk(root, commands);
  std::string text =
      "# bash completion for keyward, generated by `keyward generate bash-completion` from the\n"
      "# binary's own definitions.\n\n"
      "# Sets subs, opts and valued for the command \"$1\".\n"
      "_keyward_spec() {\n  subs= opts= valued=\n  case $1 in\n";
  for (const CLI::App* app : commands) text += BashSpec(*app);
  text += "  esac\n}\n\n# Sets choices for \"<command> <option>\".\n_keyward_choices() {\n";
  text += "  choices=\n  case $1 in\n";
  for (const CLI::App* app : commands) text += BashChoices(*app);
  text += "  esac\n}\n";
  return text + kBashMain;
}

std::string ZshCompletion(const CLI::App& root) {
  std::vector<const CLI::App*> commands;
  Walk(root, commands);
  std::string text =
      "#compdef keyward\n"
      "# zsh completion for keyward, generated by `keyward generate zsh-completion` from the\n"
      "# binary's own definitions.\n\n";
  // Leaves first, so that each function is defined before the one that calls it is read
  // (zsh does not need it, a reader does).
  for (auto it = commands.rbegin(); it != commands.rend(); ++it) {
    text += ZshDefinition(**it) + "\n";
  }
  return text + "_keyward \"$@\"\n";
}

}  // namespace keyward
