// Man pages (troff, the man macros) from the App tree: keyward.1 and keyward-<sub>.1.
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/generate.h"

namespace keyward {
namespace {

// The code point of the UTF-8 sequence at text[i] and its length (a byte that starts no valid
// sequence counts as U+FFFD, one byte long).
std::pair<std::uint32_t, std::size_t> DecodeUtf8(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (length == 0 || i + length > text.size()) return {0xFFFD, 1};
  std::uint32_t code = lead & (0x7F >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {0xFFFD, 1};
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  return {code, length};
}

std::string Hex4(std::uint32_t code) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string hex;
  for (std::uint32_t c = code; c != 0 || hex.size() < 4; c >>= 4) hex.insert(0, 1, kDigits[c & 15]);
  return hex;
}

std::string Bold(std::string_view text) { return "\\fB" + TroffEscape(text) + "\\fR"; }
std::string Italic(std::string_view text) { return "\\fI" + TroffEscape(text) + "\\fR"; }

// "-o, --output FORMAT" in bold and italics, for a .TP tag.
std::string OptionTag(const CLI::Option& o) {
  if (!o.nonpositional()) {
    return Italic(o.get_name()) + (IsRepeatable(o) ? "\\ ..." : "");
  }
  std::string tag;
  for (const std::string& s : o.get_snames()) tag += (tag.empty() ? "" : ", ") + Bold("-" + s);
  for (const std::string& l : o.get_lnames()) tag += (tag.empty() ? "" : ", ") + Bold("--" + l);
  if (TakesValue(o)) tag += " " + Italic(ValueName(o));
  return tag;
}

// The text below an option's tag: its help, then (on a line of their own) its choices, default
// and variable.
std::string OptionBody(const CLI::Option& o) {
  std::string facts;
  const std::vector<std::string> choices = Choices(o);
  if (!choices.empty()) {
    std::string list;
    for (const std::string& c : choices) list += (list.empty() ? "" : ", ") + Bold(c);
    facts += "One of " + list + ".\n";
  }
  if (IsRepeatable(o)) facts += "May be given more than once.\n";
  if (const std::string value = DefaultValue(o); !value.empty()) {
    facts += "Default: " + Bold(value) + ".\n";
  }
  if (!o.get_envname().empty()) facts += "Environment: " + Bold(o.get_envname()) + ".\n";
  return TroffEscape(o.get_description()) + "\n" + (facts.empty() ? "" : ".br\n" + facts);
}

// The options of `app`, each a tagged paragraph; without --help when `help` is false.
std::string OptionList(const CLI::App& app, bool help = true) {
  std::string text;
  for (const CLI::Option* o : VisibleOptions(app)) {
    if (!help && o == app.get_help_ptr()) continue;
    text += ".TP\n" + OptionTag(*o) + "\n" + OptionBody(*o);
  }
  return text;
}

// A description as a sentence: with a full stop unless it ends in one (or ? or !).
std::string Sentence(std::string_view text) {
  const bool ends =
      !text.empty() && (text.back() == '.' || text.back() == '?' || text.back() == '!');
  return TroffEscape(text) + (ends || text.empty() ? "" : ".");
}

// "keyward user apikey create [OPTIONS] NAME", bold command, italic arguments.
std::string Usage(const CLI::App& app) {
  std::string line = Bold(CommandPath(app));
  if (!VisibleSubcommands(app).empty()) line += " " + Italic("COMMAND");
  line += " [" + Italic("OPTIONS") + "]";
  for (const CLI::Option* o : VisibleOptions(app)) {
    if (o->nonpositional()) continue;
    std::string name = Italic(o->get_name()) + (IsRepeatable(*o) ? "\\ ..." : "");
    line += " " + (o->get_required() ? name : "[" + name + "]");
  }
  return line;
}

// A footer (more help after the options) as lines kept as written.
std::string Footer(const CLI::App& app) {
  const std::string footer = app.get_footer();
  if (footer.find_first_not_of(" \n") == std::string::npos) return "";
  return ".PP\n.nf\n" + TroffEscape(footer) + "\n.fi\n";
}

// Every command under `app` (not `app` itself), depth first: a subsection each.
void NestedCommands(const CLI::App& app, std::string& text) {
  for (const CLI::App* sub : VisibleSubcommands(app)) {
    text += ".SS \"" + TroffEscape(CommandPath(*sub)) + "\"\n";
    text += Usage(*sub) + "\n.PP\n" + Sentence(sub->get_description()) + "\n";
    text += OptionList(*sub, /*help=*/false) + Footer(*sub);
    NestedCommands(*sub, text);
  }
}

// KEYWARD_* variable -> the options (command and flag) it sets, for `app` and below.
void Variables(const CLI::App& app, std::map<std::string, std::set<std::string>>& out) {
  for (const CLI::Option* o : VisibleOptions(app)) {
    if (o->get_envname().empty()) continue;
    const std::string flag = o->get_lnames().empty() ? o->get_name() : "--" + o->get_lnames()[0];
    out[o->get_envname()].insert(CommandPath(app) + " " + flag);
  }
  for (const CLI::App* sub : VisibleSubcommands(app)) Variables(*sub, out);
}

std::string Environment(const CLI::App& app) {
  std::map<std::string, std::set<std::string>> variables;
  Variables(app, variables);
  if (variables.empty()) return "";
  std::string text = ".SH ENVIRONMENT\nA flag on the command line wins over its variable.\n";
  for (const auto& [name, flags] : variables) {
    std::string list;
    for (const std::string& flag : flags) list += (list.empty() ? "" : ", ") + Bold(flag);
    text += ".TP\n" + Bold(name) + "\nThe value of " + list + ".\n";
  }
  return text;
}

std::string Header(const std::string& title, std::string_view version) {
  return ".\\\" Generated by `keyward generate man` from the keyward binary's own definitions.\n"
         ".TH " +
         TroffEscape(title) + " 1 \"\" \"" + TroffEscape("keyward " + std::string(version)) +
         "\" \"User Commands\"\n";
}

std::string PageName(const CLI::App& sub) { return "keyward-" + sub.get_name(); }

std::string RootPage(const CLI::App& root, std::string_view version) {
  std::string text = Header("KEYWARD", version);
  text += ".SH NAME\nkeyward \\- " + TroffEscape(root.get_description()) + "\n";
  text += ".SH SYNOPSIS\n" + Usage(root) + "\n";
  text += ".SH DESCRIPTION\n" + Sentence(root.get_description()) + "\n";
  text += "Each command has a page of its own, below.\n";
  text += ".SH COMMANDS\n";
  for (const CLI::App* sub : VisibleSubcommands(root)) {
    text += ".TP\n" + Bold(sub->get_name()) + "\n" + TroffEscape(sub->get_description()) +
            "; see \\fB" + TroffEscape(PageName(*sub)) + "\\fR(1).\n";
  }
  text += ".SH OPTIONS\n" + OptionList(root) + Environment(root);
  text += ".SH SEE ALSO\n";
  std::string see;
  for (const CLI::App* sub : VisibleSubcommands(root)) {
    see += (see.empty() ? "" : ",\n") + Bold(PageName(*sub)) + "(1)";
  }
  return text + see + "\n";
}

std::string CommandPage(const CLI::App& sub, std::string_view version) {
  std::string upper = PageName(sub);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string text = Header(upper, version);
  text += ".SH NAME\n" + TroffEscape(PageName(sub)) + " \\- " + TroffEscape(sub.get_description()) +
          "\n";
  text += ".SH SYNOPSIS\n" + Usage(sub) + "\n";
  for (const CLI::App* nested : VisibleSubcommands(sub)) {
    if (VisibleSubcommands(*nested).empty()) text += ".br\n" + Usage(*nested) + "\n";
  }
  text += ".SH DESCRIPTION\n" + Sentence(sub.get_description()) + "\n";
  if (!VisibleSubcommands(sub).empty()) {
    text +=
        "Its commands and their options are under \\fBCOMMANDS\\fR; each takes \\fB\\-h\\fR,"
        " \\fB\\-\\-help\\fR.\n";
  }
  text += ".SH OPTIONS\n" + OptionList(sub) + Footer(sub);
  if (!VisibleSubcommands(sub).empty()) {
    text += ".SH COMMANDS\n";
    NestedCommands(sub, text);
  }
  text += Environment(sub);
  text += ".SH SEE ALSO\n\\fBkeyward\\fR(1)\n";
  return text;
}

}  // namespace

std::string TroffEscape(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      const auto [code, length] = DecodeUtf8(text, i);
      out += "\\[u" + Hex4(code) + "]";
      i += length;
      continue;
    } else if (c == '\n' && i + 1 < text.size() && text[i + 1] == '\n') {
      out += "\n\\&";  // a blank line would be a paragraph break with a warning
    } else {
      out += c;
    }
    ++i;
  }
  return out;
}

std::map<std::string, std::string> ManPages(const CLI::App& root, std::string_view version) {
  std::map<std::string, std::string> pages;
  pages["keyward.1"] = RootPage(root, version);
  for (const CLI::App* sub : VisibleSubcommands(root)) {
    pages[PageName(*sub) + ".1"] = CommandPage(*sub, version);
  }
  return pages;
}

}  // namespace keyward
