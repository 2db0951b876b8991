#include "app/config_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <system_error>
#include <utility>

namespace keyward {
namespace {

constexpr std::size_t kMaxFileSize = 1 << 20;

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kBlank = " \t\r\f\v";
  const std::size_t first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kBlank) - first + 1);
}

std::string At(std::string_view path, int line) {
  return std::string(path) + ":" + std::to_string(line) + ": ";
}

// The inside of `quoted` (which starts with '"'), its escapes undone; "" and `*error` set when
// it is not one well-formed quoted string.
std::string Unquote(std::string_view quoted, std::string* error) {
  std::string value;
  for (std::size_t i = 1; i < quoted.size(); ++i) {
    const char c = quoted[i];
    if (c == '"') {
      if (!Trim(quoted.substr(i + 1)).empty()) *error = "text after the closing quote";
      return value;
    }
    if (c == '\\') {
      if (i + 1 == quoted.size() || (quoted[i + 1] != '"' && quoted[i + 1] != '\\')) {
        *error = "in a quoted value only \\\" and \\\\ are escapes";
        return {};
      }
      ++i;
    }
    value += quoted[i];
  }
  *error = "no closing quote";
  return {};
}

// KEYWARD_LISTEN for "listen", KEYWARD_DATA_DIR for "data-dir".
std::string VariableOf(std::string_view long_name) {
  std::string name = "KEYWARD_";
  for (char c : long_name) {
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

// Whether the command line or the environment gave `option` a value.
bool SetElsewhere(const CLI::Option& option) {
  if (option.count() > 0) return true;
  for (const std::string& name : option.get_lnames()) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read at start-up, before any thread.
    const char* value = std::getenv(VariableOf(name).c_str());
    if (value != nullptr && *value != '\0') return true;
  }
  return false;
}

// Booleans: switches (`--allow-query-key`) and options of type bool (`--reveal`).
bool IsBoolean(const CLI::Option& option) {
  return option.get_expected_max() == 0 || option.get_type_name() == "BOOLEAN";
}

// Why `option` refused a value, from CLI11's `message`: its leading "--name: "s removed, and
// in place of "Could not convert: --name = <value>" (which repeats the value) what was expected.
std::string Reason(std::string message, const CLI::Option& option) {
  if (message.starts_with("Could not convert: ")) {
    const std::string& type = option.get_type_name();
    return type == "INT" || type == "UINT" ? "not a whole number" : "not a valid " + type;
  }
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (const std::string& name : option.get_lnames()) {
      const std::string prefix = "--" + name + ": ";
      if (message.starts_with(prefix)) {
        message.erase(0, prefix.size());
        stripped = true;
      }
    }
  }
  return message;
}

bool HelpAsked(const CLI::App* cmd) {
  for (const CLI::App* app = cmd; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* help : {app->get_help_ptr(), app->get_help_all_ptr()}) {
      if (help != nullptr && help->count() > 0) return true;
    }
  }
  return false;
}

}  // namespace

Result<std::vector<ConfigSetting>> ParseConfigText(std::string_view text, std::string_view path) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
  std::vector<ConfigSetting> settings;
  int number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = Trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    if (line.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument(At(path, number) + "a NUL byte: not a text file");
    }
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return Status::InvalidArgument(At(path, number) + "no '=': write name = value");
    }
    ConfigSetting setting{std::string(Trim(line.substr(0, equals))), "", number};
    if (setting.name.empty()) {
      return Status::InvalidArgument(At(path, number) + "no name before '='");
    }
    const std::string_view value = Trim(line.substr(equals + 1));
    if (value.starts_with('"')) {
      std::string error;
      setting.value = Unquote(value, &error);
      if (!error.empty()) {
        return Status::InvalidArgument(At(path, number) + setting.name + ": " + error);
      }
    } else {
      setting.value = value;
    }
    settings.push_back(std::move(setting));
  }
  return settings;
}

Result<std::vector<ConfigSetting>> ReadConfigFile(const std::string& path) {
  auto failed = [&path](int error) {
    return Status::InvalidArgument("cannot read config file " + path + ": " +
                                   std::generic_category().message(error));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failed(errno);
  std::string text;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return failed(error);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileSize) {
      ::close(fd);
      return Status::InvalidArgument("config file " + path + " is larger than 1 MB");
    }
  }
  ::close(fd);
  return ParseConfigText(text, path);
}

void ApplyConfigSettings(CLI::App* cmd, const std::vector<ConfigSetting>& settings,
                         std::string_view path) {
  auto fail = [path](int line, const std::string& what) {
    throw ConfigFileError(At(path, line) + what);
  };
  struct Seen {
    int line;
    bool set_elsewhere;
  };
  std::map<const CLI::Option*, Seen> seen;
  for (const ConfigSetting& s : settings) {
    if (s.name == "config") fail(s.line, "config cannot be set in a config file");
    CLI::Option* option =
        s.name.starts_with('-') ? nullptr : cmd->get_option_no_throw("--" + s.name);
    if (option == nullptr || option == cmd->get_help_ptr() || option == cmd->get_help_all_ptr()) {
      // Echoed only when it looks like a name: a pasted URL before its first '=' could hold a
      // password.
      const bool name_like =
          s.name.size() <= 64 && std::all_of(s.name.begin(), s.name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
          });
      fail(s.line, (name_like ? "unknown setting '" + s.name + "'"
                              : std::string("not a setting name before '='")) +
                       " (the names are keyward serve's flags without their --)");
    }
    const auto [at, first] = seen.try_emplace(option, Seen{s.line, SetElsewhere(*option)});
    if (!first && option->get_items_expected_max() <= 1) {
      fail(s.line, s.name + " is set again (line " + std::to_string(at->second.line) +
                       " set it); only a repeatable flag may be on several lines");
    }
    if (IsBoolean(*option) && s.value != "true" && s.value != "false") {
      fail(s.line, s.name + " takes true or false");
    }
    // An empty value leaves the setting at its default: the generated keyward.conf writes
    // `# db =` for a setting without one, and uncommenting it changes nothing.
    if (at->second.set_elsewhere || s.value.empty()) continue;
    try {
      option->add_result(s.value);
      option->run_callback();
    } catch (const CLI::ParseError& e) {
      fail(s.line, s.name + ": " + Reason(e.what(), *option));
    }
  }
}

CLI::Option* AddConfigFileOption(CLI::App* cmd) {
  return cmd
      ->add_option_function<std::string>(
          "--config",
          [cmd](const std::string& path) {
            if (!cmd->parsed() || HelpAsked(cmd)) return;
            auto settings = ReadConfigFile(path);
            if (!settings.ok()) throw ConfigFileError(settings.status().message());
            ApplyConfigSettings(cmd, *settings, path);
          },
          "read settings from FILE: one `name = value` a line, name a flag without its --; a flag "
          "or a KEYWARD_* variable wins over the file")
      ->type_name("FILE")
      ->envname("KEYWARD_CONFIG");
}

}  // namespace keyward
