#include "http/tls.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <system_error>

namespace keyward::http {
namespace {

namespace ssl = boost::asio::ssl;

// The reasons OpenSSL queued for the call that just failed, oldest first and each once;
// empties the queue. `mismatch` tells whether one was that a key does not match a certificate.
std::string TakeOpenSslErrors(bool* mismatch = nullptr) {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    if (mismatch != nullptr && ERR_GET_LIB(e) == ERR_LIB_X509 &&
        (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
         ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH)) {
      *mismatch = true;
    }
    const char* reason = ERR_reason_error_string(e);
    const std::string text = reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", e);
    if (out.find(text) != std::string::npos) continue;
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// OpenSSL's own message for a missing file is "system lib"; say what is wrong first.
Status CheckReadable(const std::string& what, const std::string& path) {
  if (path.empty()) return Status::InvalidArgument(fmt::format("no {} file given", what));
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    return Status::InvalidArgument(fmt::format("cannot read the {} file {}: {}", what, path,
                                               std::generic_category().message(errno)));
  }
  std::fclose(file);
  return Status::Ok();
}

// Refuses to ask for a passphrase (OpenSSL would prompt on the terminal).
int NoPassphrase(char*, int, int, void*) { return 0; }

}  // namespace

Result<std::unique_ptr<ssl::context>> MakeTlsContext(const TlsFiles& files) {
  KW_RETURN_IF_ERROR(CheckReadable("TLS certificate", files.cert_chain));
  KW_RETURN_IF_ERROR(CheckReadable("TLS key", files.key));
  std::unique_ptr<ssl::context> context;
  try {
    context = std::make_unique<ssl::context>(ssl::context::tls_server);
  } catch (const std::exception& e) {  // SSL_CTX_new failed: out of memory
    return Status::Internal(std::string("cannot create a TLS context: ") + e.what());
  }
  SSL_CTX* ctx = context->native_handle();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Ciphers) != 1) {
    return Status::Internal("cannot configure TLS: " + TakeOpenSslErrors());
  }
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_default_passwd_cb(ctx, NoPassphrase);

  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_chain.c_str()) != 1) {
    return Status::InvalidArgument(fmt::format("cannot load the TLS certificate chain from {}: {}",
                                               files.cert_chain, TakeOpenSslErrors()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    bool mismatch = false;
    const std::string errors = TakeOpenSslErrors(&mismatch);
    if (mismatch) {
      return Status::InvalidArgument(
          fmt::format("the TLS key in {} does not belong to the certificate in {}: {}", files.key,
                      files.cert_chain, errors));
    }
    return Status::InvalidArgument(fmt::format(
        "cannot load the TLS key from {} (it must be a PEM private key, not encrypted): {}",
        files.key, errors));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::InvalidArgument(
        fmt::format("the TLS key in {} does not belong to the certificate in {}: {}", files.key,
                    files.cert_chain, TakeOpenSslErrors()));
  }
  return context;
}

}  // namespace keyward::http
