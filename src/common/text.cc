#include "common/text.h"

namespace keyward {

std::string ReplaceControlCharacters(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out.push_back('?');
    } else if (c == 0xc2 && i + 1 < text.size() &&
               (static_cast<unsigned char>(text[i + 1]) & 0xe0) == 0x80) {
      out.push_back('?');  // C1: C2 80 … C2 9F
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace keyward
