#include "store/store_factory.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "store/postgres/postgres_store.h"
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
  // The URL may carry a password: none of the messages below quotes it, nor does the backend.
  if (!options.db_url.empty()) {
    if (HasScheme(options.db_url, "postgresql://") || HasScheme(options.db_url, "postgres://")) {
      // libpq knows the schemes in lower case only.
      std::string url = options.db_url;
      std::size_t scheme_end = url.find("://");
      std::transform(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(scheme_end),
                     url.begin(), [](unsigned char c) { return std::tolower(c); });
      return OpenPostgresStore(url);  // data_dir holds no database then
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
