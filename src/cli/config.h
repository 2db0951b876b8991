// The CLI's config file: the server URL and the session of the last `keyward login`.
//
// Path: $XDG_CONFIG_HOME/keyward/config when XDG_CONFIG_HOME is set, else ~/.keyward/config.
// JSON, written atomically with mode 0600 in a folder of mode 0700. A file that group or
// others may read is refused (it may hold a session). Not thread safe; the CLI is one thread.
#pragma once

#include <string>

#include "common/status.h"

namespace keyward {

struct CliConfig {
  std::string server;  // e.g. "http://127.0.0.1:8080"; empty when unset
  std::string token;   // session token; empty when signed out
};

// Where the config lives for this user and environment.
std::string ConfigPath();

// The config, or an empty one when the file does not exist. InvalidArgument when the file is
// readable by others or malformed.
Result<CliConfig> LoadConfig(const std::string& path);

// Writes `config` to `path` (mode 0600, folder 0700). Internal on I/O errors.
Status SaveConfig(const std::string& path, const CliConfig& config);

}  // namespace keyward
