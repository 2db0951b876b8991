#include "store/store_factory.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "store/sqlite/sqlite_store.h"

namespace keyward {
namespace {

constexpr std::string_view kDatabaseFile = "keyward.db";

// Case-insensitive, as URL schemes are.
bool HasScheme(std::string_view url, std::string_view scheme) {
  return url.size() >= scheme.size() &&
         std::equal(scheme.begin(), scheme.end(), url.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options) {
  // The URL may carry a password: none of the messages below quotes it.
  if (!options.db_url.empty()) {
    if (HasScheme(options.db_url, "postgresql://") || HasScheme(options.db_url, "postgres://")) {
      return Status::InvalidArgument("PostgreSQL support is not built yet");
    }
    return Status::InvalidArgument("unsupported --db URL; use postgresql://…");
  }
  if (options.data_dir.empty()) return Status::InvalidArgument("the data folder is not set");
  std::error_code error;
  if (!std::filesystem::is_directory(options.data_dir, error)) {
    return Status::InvalidArgument("the data folder does not exist: " + options.data_dir);
  }
  std::filesystem::path path = std::filesystem::path(options.data_dir) / kDatabaseFile;
  return OpenSqliteStore(path.string());
}

}  // namespace keyward
