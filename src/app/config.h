// Everything `keyward serve` can be told, typed, each default in one place: the fields of the
// service layer, the cache and the transport keep theirs in their own structs
// (service/options.h, service/key_cache.h, http/server.h); the fields here are the server's
// own. `keyward serve` fills it from flags and KEYWARD_* variables (app/serve_flags.h); the
// composition root (app/server_app.h) builds the server from it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/cpus.h"
#include "common/status.h"
#include "core/grant.h"
#include "http/server.h"
#include "service/key_cache.h"
#include "service/options.h"
#include "service/token_options.h"

namespace keyward {

struct Config {
  // host:port to listen on; port 0 picks a free one.
  std::string listen = "127.0.0.1:8080";
  // Folder of the SQLite database and the default master key file; created mode 0700.
  std::string data_dir = "./var";
  // postgresql://… to keep the store in PostgreSQL; empty: SQLite in `data_dir`.
  std::string db;
  // The master key file; empty: <data_dir>/master.key. Created mode 0600 if missing.
  std::string master_key_file;
  // Key prefix, validities, reveal, sign-in throttling, expiry warnings, housekeeping.
  ServiceOptions service;
  // Webhook deliveries (--webhook-…).
  WebhookOptions webhooks;
  // The token issuer (--issuer …): off while token.issuer is empty.
  TokenOptions token;
  // The verification cache: its size and how long an entry is trusted.
  KeyCacheOptions cache;
  // How often keys' last-used times (and usage counts) are written to the store, in one batch.
  std::chrono::milliseconds last_used_interval{5'000};
  // Issue 16: count every presentation of a key per hour (false only for benchmarks' comparison).
  bool usage_counting = true;
  // How many nodes share each key's rate limit (service/rate_limiter.h); every node of a cluster
  // must be given the number of nodes.
  int rate_limit_nodes = 1;
  // Accept a key in a ?apikey= query parameter (keys then reach URLs and access logs).
  bool allow_query_key = false;
  // Proxies whose X-Forwarded-For / X-Real-IP name the client (api/client_address.h): the
  // address the audit log records and key address limits check. Empty: the TCP peer, always.
  std::vector<Cidr> trusted_proxies;
  // Issue 17: the clients (api/client_address.h) that may read /metrics; empty: everyone.
  // Others get 403. Its counters change when a canary key is tried: restrict it while canaries
  // are in use.
  std::vector<Cidr> metrics_allow;
  // Every limit of the transport: sizes, timeouts, connections.
  http::Limits limits;
  // PEM certificate chain and its private key: both set, HTTPS only; both empty, plain HTTP.
  std::string tls_cert;
  std::string tls_key;
  // Threads running the network (one io_context each); 0: one per CPU this process may use.
  int network_threads = 0;
  // Threads for blocking work, the store and password hashing; 0: 2 per usable CPU, at least 4.
  int blocking_threads = 0;
  // Tasks the blocking pool holds (queued and running) before it refuses more with 503.
  std::size_t blocking_queue = 4096;
  // "debug", "info" or "warn".
  std::string log_level = "info";
  // Log lines as "text" or "json" (common/log.h).
  std::string log_format = "text";
  // One line per request answered (api/request_log.h); off by default: it costs /auth a write.
  bool access_log = false;
};

// OK, or InvalidArgument naming the flag when `config` cannot be served: a bad key prefix, a
// default validity longer than the maximum, no connection allowed, half a TLS configuration,
// several nodes (`db`) without a shared master key while keys can be revealed or tokens issued,
// and with --issuer: an issuer that is not an https:// (or, with --issuer-allow-http, http://)
// URL without trailing slash, query or fragment, no --token-audience, a --gateway-audience that
// is not a --token-audience, a --token-ttl outside 60s..1h, a --signing-key-rotation not longer
// than --signing-key-prepublish; a --housekeeping-interval outside 1s..1h, an
// --expiry-warnings threshold under 1s, a --webhook-timeout outside 1s..60s, a
// --webhook-retry-min outside 1s..1h, a --webhook-retry-for outside 10s..7d, --webhook-workers
// outside 1..32, a --usage-retention under 1h, --rate-limit-nodes outside 1..1000.
Status Validate(const Config& config);

// --expiry-warnings: a comma-separated list of durations, each at least 1s ("7d,1d"), or "none"
// (no warnings: empty). Sorted largest first, duplicates dropped. InvalidArgument naming the
// entry that is not a duration otherwise (CLI11 prefixes the flag).
Result<std::vector<std::int64_t>> ParseExpiryWarnings(std::string_view text);

// One --token-audience value, "NAME" or "NAME;typ=JWT" (or ";typ=at+jwt", the default): NAME is
// 1 to 200 printable ASCII characters without space, ';' or ','. InvalidArgument otherwise.
Result<TokenAudience> ParseTokenAudience(std::string_view text);

// The thread counts of `config` once 0 (automatic) is resolved against the CPUs this process
// may use: network threads one per CPU (more would only take turns, which costs /auth its tail
// latency), blocking threads 2 per CPU and at least 4.
struct ThreadCounts {
  int network = 1;
  int blocking = 4;
  // For the start-up line: "one per usable CPU: <why>", or empty when `config` set the count.
  std::string network_reason;
};
ThreadCounts ResolveThreads(const Config& config, const UsableCpus& cpus);

}  // namespace keyward
