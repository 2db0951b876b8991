// Fuzz target: the key format of core/api_key.h.
//
// The input is a key candidate; its prefix is the part before the first '_' when that is a
// valid prefix, else "kw". Checked against independent reference code written here:
//   - IsWellFormedKey agrees with a reference (length, prefix, base62, checksum re-encoded);
//   - a well-formed key masks to prefix_ + 4 + "…" + 4, hashes the same both ways, and any one
//     changed character of its secret or checksum makes it malformed (CRC32 catches every
//     single-character substitution);
//   - a key built from the input's bytes with the reference checksum is well-formed;
//   - Crc32 equals a bitwise CRC-32; Base62Encode pads to its width and decodes back to the
//     input's value;
//   - MaskKey never shows more than 8 characters after the prefix.
#include <sodium.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/api_key.h"
#include "fuzz/fuzz_check.h"

namespace keyward {
namespace {

constexpr std::string_view kAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// CRC-32 as zlib computes it (reflected, polynomial 0xEDB88320), one bit at a time.
std::uint32_t ReferenceCrc32(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// The big-endian bytes of the number the base62 digits spell, without leading zero bytes.
std::string Base62Decode(std::string_view digits) {
  std::vector<std::uint8_t> num;
  for (char c : digits) {
    std::uint32_t carry = static_cast<std::uint32_t>(kAlphabet.find(c));
    for (auto it = num.rbegin(); it != num.rend(); ++it) {
      std::uint32_t cur = *it * 62u + carry;
      *it = static_cast<std::uint8_t>(cur & 0xFF);
      carry = cur >> 8;
    }
    for (; carry != 0; carry >>= 8) num.insert(num.begin(), static_cast<std::uint8_t>(carry));
  }
  return std::string(num.begin(), num.end());
}

std::string_view WithoutLeadingZeros(std::string_view bytes) {
  while (!bytes.empty() && bytes.front() == '\0') bytes.remove_prefix(1);
  return bytes;
}

bool AllBase62(std::string_view s) { return s.find_first_not_of(kAlphabet) == s.npos; }

// The checksum the format specifies: CRC32 of the secret as a number, in 6 base62 digits.
std::string ReferenceChecksum(std::string_view secret) {
  const std::uint32_t crc = ReferenceCrc32(secret);
  std::string digits;
  for (std::uint64_t v = crc; v != 0; v /= 62) digits.insert(digits.begin(), kAlphabet[v % 62]);
  digits.insert(0, kChecksumChars - digits.size(), '0');
  return digits;
}

bool ReferenceWellFormed(std::string_view key, std::string_view prefix) {
  if (key.size() != prefix.size() + 1 + kSecretChars + kChecksumChars) return false;
  if (!key.starts_with(prefix) || key[prefix.size()] != '_') return false;
  std::string_view body = key.substr(prefix.size() + 1);
  return AllBase62(body) &&
         ReferenceChecksum(body.substr(0, kSecretChars)) == body.substr(kSecretChars);
}

void CheckMask(std::string_view key) {
  const std::string masked = MaskKey(key);
  const auto sep = key.find('_');
  const std::string_view prefix = sep == key.npos ? "" : key.substr(0, sep + 1);
  const std::string_view rest = key.substr(prefix.size());
  FUZZ_CHECK(masked.starts_with(prefix));
  if (rest.size() < 12) {
    FUZZ_CHECK(masked.size() == prefix.size() + std::string_view("…").size());
  } else {
    FUZZ_CHECK(masked.size() == prefix.size() + 8 + std::string_view("…").size());
    FUZZ_CHECK(masked.ends_with(rest.substr(rest.size() - 4)));
  }
}

// Properties of a key the reference calls well-formed under `prefix`.
void CheckGoodKey(const std::string& key, std::string_view prefix) {
  FUZZ_CHECK(IsWellFormedKey(key, prefix));
  const std::string_view body = std::string_view(key).substr(prefix.size() + 1);
  FUZZ_CHECK(MaskKey(key) == std::string(prefix) + "_" + std::string(body.substr(0, 4)) + "…" +
                                 std::string(body.substr(body.size() - 4)));
  const KeyHash fast = HashKeyFast(key);
  FUZZ_CHECK(HashKey(key) == std::string(fast.data(), fast.size()));
  std::string changed = key;
  for (std::size_t i = prefix.size() + 1; i < changed.size(); ++i) {
    const char original = changed[i];
    changed[i] = kAlphabet[(kAlphabet.find(original) + 1 + i % 61) % 62];
    FUZZ_CHECK(!IsWellFormedKey(changed, prefix));
    changed[i] = original;
  }
  FUZZ_CHECK(!IsWellFormedKey(key + "0", prefix));
  FUZZ_CHECK(!IsWellFormedKey(std::string_view(key).substr(1), prefix));
}

void CheckBase62(std::string_view bytes) {
  bytes = bytes.substr(0, 40);
  const std::size_t width = bytes.empty() ? 0 : static_cast<unsigned char>(bytes[0]) % 64;
  const std::string digits = Base62Encode(bytes, width);
  FUZZ_CHECK(AllBase62(digits));
  FUZZ_CHECK(digits.size() >= std::max<std::size_t>(width, 1));
  if (digits.size() > std::max<std::size_t>(width, 1)) FUZZ_CHECK(digits.front() != '0');
  FUZZ_CHECK(Base62Decode(digits) == WithoutLeadingZeros(bytes));
}

}  // namespace
}  // namespace keyward

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward;
  static const bool crypto_ready = sodium_init() >= 0;
  FUZZ_CHECK(crypto_ready);
  const std::string input(reinterpret_cast<const char*>(data), size);

  FUZZ_CHECK(Crc32(input) == ReferenceCrc32(input));
  CheckBase62(input);
  CheckMask(input);

  std::string prefix = "kw";
  if (auto sep = input.find('_'); sep != input.npos && ValidateKeyPrefix(input.substr(0, sep)).ok())
    prefix = input.substr(0, sep);
  const bool well_formed = IsWellFormedKey(input, prefix);
  FUZZ_CHECK(well_formed == ReferenceWellFormed(input, prefix));
  if (well_formed) CheckGoodKey(input, prefix);

  // A key built from the input's bytes, with the reference checksum.
  if (!input.empty()) {
    std::string secret;
    for (std::size_t i = 0; i < kSecretChars; ++i) {
      secret.push_back(kAlphabet[static_cast<unsigned char>(input[i % input.size()]) % 62]);
    }
    CheckGoodKey(prefix + "_" + secret + ReferenceChecksum(secret), prefix);
  }

  const std::string fresh = GenerateKey(prefix);
  FUZZ_CHECK(ReferenceWellFormed(fresh, prefix));
  return 0;
}
