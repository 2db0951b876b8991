#include "core/password.h"

#include <sodium.h>

namespace keyward {
namespace {

constexpr unsigned long long kOps = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t kMem = crypto_pwhash_MEMLIMIT_INTERACTIVE;

const std::string& DummyHash() {
  static const std::string hash = [] {
    char out[crypto_pwhash_STRBYTES];
    static constexpr std::string_view kDummy = "keyward-dummy-password";
    if (crypto_pwhash_str(out, kDummy.data(), kDummy.size(), kOps, kMem) != 0) return std::string();
    return std::string(out);
  }();
  return hash;
}

}  // namespace

Status ValidatePassword(std::string_view password) {
  if (password.size() < 8) return Status::InvalidArgument("password must be at least 8 characters");
  if (password.size() > 1024) return Status::InvalidArgument("password is longer than 1024 bytes");
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), kOps, kMem) != 0) {
    return Status::Internal("argon2id: out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view password, std::string_view hash) {
  bool usable = hash.size() < crypto_pwhash_STRBYTES && hash.starts_with("$argon2id$");
  std::string h(usable ? hash : std::string_view(DummyHash()));
  bool match = crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
  return usable && match;
}

}  // namespace keyward
