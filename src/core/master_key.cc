#include "core/master_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

#include "common/random.h"

namespace keyward {
namespace {

constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

Result<std::string> ReadAll(int fd) {
  std::string data;
  char buf[256];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0)
      return Status::Internal(std::string("read master key: ") +
                              std::generic_category().message(errno));
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > 4096) return Status::InvalidArgument("master key file is too large");
  }
  return data;
}

Result<std::string> Decode(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (text.size() == MasterKey::kBytes) return text;
  std::string raw(MasterKey::kBytes, '\0');
  std::size_t len = 0;
  if (text.size() != 2 * MasterKey::kBytes ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), text.data(),
                     text.size(), nullptr, &len, nullptr) != 0 ||
      len != MasterKey::kBytes) {
    SecureWipe(text);
    return Status::InvalidArgument("master key file must hold 64 hex characters");
  }
  SecureWipe(text);
  return raw;
}

// Writes a fresh key to a temporary file, then links it into place, so that a reader never
// sees a half-written file. nullopt when another process created `path` first: read theirs.
Result<std::optional<std::string>> CreateKeyFile(const std::string& path) {
  const std::string tmp = path + ".tmp-" + RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Internal("create master key file " + path + ": " +
                            std::generic_category().message(errno));
  }
  std::string raw = RandomBytes(MasterKey::kBytes);
  std::string hex(2 * MasterKey::kBytes + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  hex.back() = '\n';
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  SecureWipe(hex);
  const bool linked = ok && ::link(tmp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked) return std::optional<std::string>(std::move(raw));
  SecureWipe(raw);
  if (ok && link_errno == EEXIST) return std::optional<std::string>();
  return Status::Internal("write master key file " + path);
}

}  // namespace

Result<MasterKey> MasterKey::LoadOrCreate(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    KW_ASSIGN_OR_RETURN(std::optional<std::string> raw, CreateKeyFile(path));
    if (raw) return MasterKey(std::move(*raw));
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // another node made it first
  }
  if (fd < 0)
    return Status::Internal("open master key file " + path + ": " +
                            std::generic_category().message(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return Status::InvalidArgument("master key file " + path +
                                   " must be readable by its owner only (chmod 600)");
  }
  auto text = ReadAll(fd);
  ::close(fd);
  if (!text.ok()) return text.status();
  KW_ASSIGN_OR_RETURN(std::string raw, Decode(std::move(text).value()));
  return MasterKey(std::move(raw));
}

MasterKey MasterKey::FromBytes(std::string_view bytes) { return MasterKey(std::string(bytes)); }

MasterKey::MasterKey(MasterKey&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

MasterKey& MasterKey::operator=(MasterKey&& other) noexcept {
  if (this != &other) {
    SecureWipe(bytes_);
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

MasterKey::~MasterKey() { SecureWipe(bytes_); }

std::string MasterKey::Seal(std::string_view plaintext, std::string_view associated) const {
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonce, &written, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(associated.data()),
      associated.size(), nullptr, nonce, reinterpret_cast<const unsigned char*>(bytes_.data()));
  out.resize(kNonce + written);
  return out;
}

Result<std::string> MasterKey::Open(std::string_view sealed, std::string_view associated) const {
  if (sealed.size() < kNonce + kTag) return Status::Internal("sealed key is truncated");
  std::string out(sealed.size() - kNonce - kTag, '\0');
  unsigned long long written = 0;
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &written, nullptr, nonce + kNonce,
          sealed.size() - kNonce, reinterpret_cast<const unsigned char*>(associated.data()),
          associated.size(), nonce, reinterpret_cast<const unsigned char*>(bytes_.data())) != 0) {
    return Status::Internal("sealed key does not open: tampered, moved or wrong master key");
  }
  out.resize(written);
  return out;
}

std::string MasterKey::DeriveKey(std::string_view purpose) const {
  const std::string input = "keyward/" + std::string(purpose);
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(bytes_.data()),
                              bytes_.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size());
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  sodium_memzero(&state, sizeof state);
  return out;
}

}  // namespace keyward
