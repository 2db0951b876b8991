#include "core/api_key.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <vector>

#include "common/random.h"

namespace keyward {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool IsBase62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// The digit value of a base62 character (which IsBase62 accepted).
std::uint64_t Base62Value(char c) {
  const std::uint64_t u = static_cast<unsigned char>(c);
  if (c <= '9') return u - '0';
  if (c <= 'Z') return u - 'A' + 10;
  return u - 'a' + 36;
}

}  // namespace

Status ValidateKeyPrefix(std::string_view prefix) {
  bool ok = !prefix.empty() && prefix.size() <= 16 &&
            std::all_of(prefix.begin(), prefix.end(),
                        [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
  if (!ok) return Status::InvalidArgument("key prefix must be 1-16 characters of a-z or 0-9");
  return Status::Ok();
}

std::string Base62Encode(std::string_view bytes, std::size_t width) {
  // Big-endian base conversion by repeated division; inputs are at most 32 bytes.
  std::vector<std::uint8_t> num(bytes.begin(), bytes.end());
  std::string out;
  out.reserve(width);
  bool zero = false;
  while (!zero) {
    std::uint32_t rem = 0;
    zero = true;
    for (auto& d : num) {
      std::uint32_t cur = (rem << 8) | d;
      d = static_cast<std::uint8_t>(cur / 62);
      rem = cur % 62;
      if (d != 0) zero = false;
    }
    out.push_back(kBase62[rem]);
  }
  while (out.size() < width) out.push_back('0');
  std::reverse(out.begin(), out.end());
  return out;
}

std::uint32_t Crc32(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
  return static_cast<std::uint32_t>(crc);
}

namespace {

std::string Checksum(std::string_view secret) {
  std::uint32_t crc = Crc32(secret);
  std::string be(4, '\0');
  for (int i = 0; i < 4; ++i) be[i] = static_cast<char>((crc >> (24 - 8 * i)) & 0xFF);
  return Base62Encode(be, kChecksumChars);
}

}  // namespace

std::string GenerateKey(std::string_view prefix) {
  std::string raw = RandomBytes(32);
  std::string secret = Base62Encode(raw, kSecretChars);
  SecureWipe(raw);
  std::string key;
  key.reserve(prefix.size() + 1 + kSecretChars + kChecksumChars);
  key.append(prefix).push_back('_');
  key.append(secret).append(Checksum(secret));
  SecureWipe(secret);
  return key;
}

bool HasKeyShape(std::string_view key, std::string_view prefix) {
  return key.size() == prefix.size() + 1 + kSecretChars + kChecksumChars &&
         key.substr(0, prefix.size()) == prefix && key[prefix.size()] == '_';
}

bool IsWellFormedKey(std::string_view key, std::string_view prefix) {
  if (!HasKeyShape(key, prefix)) return false;
  std::string_view body = key.substr(prefix.size() + 1);
  bool chars_ok = true;
  for (char c : body) chars_ok &= IsBase62(c);
  if (!chars_ok) return false;
  // Decode the 6 checksum characters (at most 62^6 < 2^36) and compare with the CRC: no
  // allocation, which matters on the hot path.
  std::uint64_t got = 0;
  for (char c : body.substr(kSecretChars)) got = got * 62 + Base62Value(c);
  return got == Crc32(body.substr(0, kSecretChars));
}

namespace {

// OpenSSL 3's one-shot SHA256() looks the algorithm up and allocates a context on every call,
// which costs more than hashing a key. The algorithm is fetched once, and each thread keeps its
// context.
struct DigestContextFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

const EVP_MD* Sha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md;
}

}  // namespace

KeyHash HashKeyFast(std::string_view key) {
  thread_local const std::unique_ptr<EVP_MD_CTX, DigestContextFree> ctx(EVP_MD_CTX_new());
  KeyHash digest{};
  unsigned int size = 0;
  if (ctx == nullptr || Sha256() == nullptr ||
      EVP_DigestInit_ex2(ctx.get(), Sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), key.data(), key.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(digest.data()), &size) != 1 ||
      size != digest.size()) {
    throw std::runtime_error("SHA-256 is not available from OpenSSL");
  }
  return digest;
}

std::string HashKey(std::string_view key) {
  KeyHash digest = HashKeyFast(key);
  return std::string(digest.data(), digest.size());
}

std::string MaskKey(std::string_view key) {
  auto sep = key.find('_');
  std::string_view prefix = sep == std::string_view::npos ? "" : key.substr(0, sep + 1);
  std::string_view rest = key.substr(prefix.size());
  if (rest.size() < 12) return std::string(prefix) + "…";
  return std::string(prefix) + std::string(rest.substr(0, 4)) + "…" +
         std::string(rest.substr(rest.size() - 4));
}

}  // namespace keyward
