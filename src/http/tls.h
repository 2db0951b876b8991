// TLS for the transport: the OpenSSL server context made from a PEM certificate chain and its
// private key, with the protocol versions and ciphers the server accepts:
//
// - TLS 1.2 and TLS 1.3 only; an older ClientHello gets a protocol_version alert.
// - TLS 1.2: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only (kTls12Ciphers), in the
//   server's order. TLS 1.3: its three standard suites (kTls13Ciphers), which all qualify.
// - No compression, no renegotiation.
//
// Thread safety: a context is immutable once made and may be shared by every network thread
// (each connection makes its own SSL object from it).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "common/status.h"
#include "http/server.h"

namespace keyward::http {

inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* kTls13Ciphers =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// Loads `files`. InvalidArgument, naming the file, when one cannot be read, holds no PEM
// certificate or key (an encrypted key counts as none: there is no one to type its
// passphrase), or the key does not belong to the first certificate of the chain.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext(const TlsFiles& files);

}  // namespace keyward::http
