// The master key and the sealing of keys for later reveal.
//
// A stored key is sealed with XChaCha20-Poly1305 (libsodium) under the 32-byte master key, with
// the key's SHA-256 hash as associated data: a sealed value copied onto another key's row does
// not open. The master key lives in a file (mode 0600), never in the database. Thread safe
// after construction; the key material is wiped on destruction.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace keyward {

class MasterKey {
 public:
  static constexpr std::size_t kBytes = 32;

  // Reads the key file (64 hex characters, or 32 raw bytes), creating it with a fresh random
  // key and mode 0600 when it does not exist. InvalidArgument if the file is malformed or can
  // be read by anyone but its owner; Internal on I/O errors.
  static Result<MasterKey> LoadOrCreate(const std::string& path);
  // For tests.
  static MasterKey FromBytes(std::string_view bytes);

  MasterKey(MasterKey&& other) noexcept;
  MasterKey& operator=(MasterKey&& other) noexcept;
  MasterKey(const MasterKey&) = delete;
  MasterKey& operator=(const MasterKey&) = delete;
  ~MasterKey();

  // nonce || ciphertext+tag of `plaintext`, bound to `associated`.
  std::string Seal(std::string_view plaintext, std::string_view associated) const;
  // The plaintext, or Internal when the value was tampered with, moved or sealed under
  // another master key.
  Result<std::string> Open(std::string_view sealed, std::string_view associated) const;
  // A 32-byte key of its own for `purpose` (such as "sign-in throttle"): HMAC-SHA-256 of
  // "keyward/" + purpose under the master key. The same on every node given the same master
  // key; telling nothing of the master key or of another purpose's key.
  std::string DeriveKey(std::string_view purpose) const;

 private:
  explicit MasterKey(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
};

}  // namespace keyward
