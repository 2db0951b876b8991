// The key format: "<prefix>_<secret><checksum>".
//
//   prefix    server setting, 1-16 characters of [a-z0-9] (default "kw")
//   secret    32 bytes from the OS CSPRNG, base62, always 43 characters
//   checksum  CRC32 of the 43 secret characters, base62, always 6 characters
//
// So a key is prefix + 50 characters, all URL- and shell-safe. The checksum lets a typo or a
// random string be rejected before any lookup, and lets a scanner find leaked keys. Pure
// functions, thread safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace keyward {

inline constexpr std::size_t kSecretChars = 43;
inline constexpr std::size_t kChecksumChars = 6;

// InvalidArgument unless 1-16 characters of [a-z0-9].
Status ValidateKeyPrefix(std::string_view prefix);

// A fresh key with the given (valid) prefix.
std::string GenerateKey(std::string_view prefix);

// True when `key` is "<prefix>_" followed by 43 + 6 base62 characters whose checksum matches.
// Runs in time independent of where a mismatch is, and never touches a store.
bool IsWellFormedKey(std::string_view key, std::string_view prefix);
// The cheap part of IsWellFormedKey: the length, the prefix and the '_'. For a hot path that
// looks the key's hash up first and checks the rest only when the lookup finds nothing.
bool HasKeyShape(std::string_view key, std::string_view prefix);

// SHA-256 of the key, 32 raw bytes: the lookup handle the store keeps.
std::string HashKey(std::string_view key);
// The same into a caller's buffer, without allocating (the hot path).
using KeyHash = std::array<char, 32>;
KeyHash HashKeyFast(std::string_view key);

// "kw_AbCd…9xYz": prefix, first 4 and last 4 characters after it. Safe to show and log.
std::string MaskKey(std::string_view key);

// Helpers exposed for tests and tools.
std::string Base62Encode(std::string_view bytes, std::size_t width);
std::uint32_t Crc32(std::string_view data);

}  // namespace keyward
