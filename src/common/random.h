// Bytes and strings from the operating system's CSPRNG (libsodium's randombytes).
// Thread safe. InitCrypto() must have succeeded once before any call.
#pragma once

#include <cstddef>
#include <string>

namespace keyward {

// Initialises libsodium; false if it cannot (then nothing here may be used).
bool InitCrypto();

// `n` random bytes.
std::string RandomBytes(std::size_t n);

// `n` characters drawn uniformly from `alphabet` (no modulo bias).
std::string RandomString(std::size_t n, std::string_view alphabet);

// Overwrites `s` with zeros in a way the compiler cannot elide, then clears it.
void SecureWipe(std::string& s);

}  // namespace keyward
