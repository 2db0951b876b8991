// Text from outside (a client's User-Agent, an address) made safe to keep and to print.
#pragma once

#include <string>
#include <string_view>

namespace keyward {

// `text` (UTF-8) with every control character made '?': C0 (below U+0020), DEL (U+007F) and C1
// (U+0080–U+009F, UTF-8 C2 80–C2 9F), which terminals take as escape sequences. Other bytes
// are kept as they are.
std::string ReplaceControlCharacters(std::string_view text);

}  // namespace keyward
