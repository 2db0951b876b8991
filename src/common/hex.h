// Hex encoding of bytes (hashes in JSON, in NOTIFY payloads, in the scanner's requests). Pure
// functions, thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keyward {

// Two lower-case hex digits per byte of `bytes`: "\x01\xab" → "01ab".
std::string ToHex(std::string_view bytes);

// The bytes `hex` spells, two digits (0-9, a-f, A-F) each; nullopt for an odd length or any
// other character. "" → "".
std::optional<std::string> FromHex(std::string_view hex);

}  // namespace keyward
