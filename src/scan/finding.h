// One key found by `keyward scan`: where it is and, after --check, what the server said of it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace keyward::scan {

struct Finding {
  std::string path;        // as given or found under a folder argument; "-" for standard input
  std::string commit;      // --git: the commit that added the blob; "" otherwise
  std::size_t line = 0;    // 1-based; lines end at '\n'
  std::size_t column = 0;  // 1-based, in bytes from the line's start
  std::size_t utf16_column = 0;  // 1-based, in UTF-16 code units (SARIF); invalid UTF-8 bytes
                                 // count one each
  std::size_t length = 0;        // bytes the match covers (49 + prefix + 1 or 3)
  std::string key;           // the key itself: hashed for --check or masked, never printed or sent
  std::optional<bool> live;  // --check: a live key of the server
  std::optional<bool> revoked;  // --revoke: revoked by this scan
};

// What a scan produced: findings in the order found, and the errors met on the way (a path
// that could not be read, git failing), each one line naming the path, never file content.
struct ScanResult {
  std::vector<Finding> findings;
  std::vector<std::string> errors;
};

}  // namespace keyward::scan
