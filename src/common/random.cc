#include "common/random.h"

#include <sodium.h>

namespace keyward {

bool InitCrypto() { return sodium_init() >= 0; }

std::string RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string RandomString(std::size_t n, std::string_view alphabet) {
  std::string out;
  out.reserve(n);
  const auto size = static_cast<std::uint32_t>(alphabet.size());
  for (std::size_t i = 0; i < n; ++i) out.push_back(alphabet[randombytes_uniform(size)]);
  return out;
}

void SecureWipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

}  // namespace keyward
