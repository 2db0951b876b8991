#include "app/serve_flags.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <system_error>
#include <vector>

#include "api/client_address.h"
#include "app/config_file.h"
#include "core/duration.h"

namespace keyward {
namespace {

// A validator that accepts what ParseDuration reads, with its message otherwise.
CLI::Validator DurationCheck() {
  return CLI::Validator(
      [](std::string& text) {
        auto seconds = ParseDuration(text);
        return seconds.ok() ? std::string() : seconds.status().message();
      },
      "", "DURATION");
}

// A duration flag for a field in seconds; --help shows the field's default ("24h").
CLI::Option* AddDuration(CLI::App* cmd, const char* name, std::int64_t& seconds, const char* env,
                         const char* help) {
  return cmd
      ->add_option_function<std::string>(
          name, [&seconds](const std::string& text) { seconds = ParseDuration(text).value(); },
          help)
      ->check(DurationCheck())
      ->type_name("DURATION")
      ->envname(env)
      ->default_str(FormatDuration(seconds));
}

// The same for a field in milliseconds, given in whole seconds or more.
CLI::Option* AddDuration(CLI::App* cmd, const char* name, std::chrono::milliseconds& duration,
                         const char* env, const char* help) {
  return cmd
      ->add_option_function<std::string>(
          name,
          [&duration](const std::string& text) {
            duration = std::chrono::seconds(ParseDuration(text).value());
          },
          help)
      ->check(DurationCheck())
      ->type_name("DURATION")
      ->envname(env)
      ->default_str(
          FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(duration).count()));
}

template <typename T>
CLI::Option* AddValue(CLI::App* cmd, const char* name, T& value, const char* env,
                      const char* help) {
  return cmd->add_option(name, value, help)->envname(env)->capture_default_str();
}

// `old_name`'s value into `value` when the variable is set and `new_name` is not (the option
// then reads `new_name`, and a flag wins over both). A value that is not a whole number is a
// usage error, as the option's own would be.
void OldVariable(const char* old_name, const char* new_name, int& value) {
  const char* text = std::getenv(old_name);
  if (text == nullptr || std::getenv(new_name) != nullptr) return;
  const std::string_view digits(text);
  int parsed = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
  if (ec != std::errc() || end != digits.data() + digits.size() || parsed < 0) {
    throw CLI::ValidationError(old_name,
                               "must be a whole number, not '" + std::string(digits) + "'");
  }
  value = parsed;
}

void AddStoreFlags(CLI::App* cmd, Config& c) {
  AddValue(cmd, "--listen", c.listen, "KEYWARD_LISTEN", "host:port to listen on");
  AddValue(cmd, "--data-dir", c.data_dir, "KEYWARD_DATA_DIR",
           "folder for the SQLite database and the master key (created mode 0700)");
  AddValue(cmd, "--db", c.db, "KEYWARD_DB", "postgresql://… to keep the store in PostgreSQL");
  AddValue(cmd, "--master-key-file", c.master_key_file, "KEYWARD_MASTER_KEY_FILE",
           "master key file (default <data-dir>/master.key; created mode 0600 if missing)");
}

void AddKeyFlags(CLI::App* cmd, Config& c) {
  AddValue(cmd, "--key-prefix", c.service.key_prefix, "KEYWARD_KEY_PREFIX",
           "prefix of new keys: <prefix>_…");
  AddDuration(cmd, "--default-validity", c.service.default_validity, "KEYWARD_DEFAULT_VALIDITY",
              "validity of a key created without -d");
  AddDuration(cmd, "--max-validity", c.service.max_validity, "KEYWARD_MAX_VALIDITY",
              "longest validity a key may be given");
  AddDuration(cmd, "--session-validity", c.service.session_validity, "KEYWARD_SESSION_VALIDITY",
              "validity of a sign-in session");
  AddValue(cmd, "--reveal", c.service.reveal, "KEYWARD_REVEAL",
           "keep keys encrypted so owners can reveal them later (false: hash only, shown once)");
  AddDuration(cmd, "--cache-ttl", c.cache.ttl, "KEYWARD_CACHE_TTL",
              "longest time a verified key is trusted from memory before the store is read again");
  // A tenth as many unknown keys as known ones, and at least 1024.
  cmd->add_option_function<std::size_t>(
         "--cache-size",
         [&c](std::size_t size) {
           c.cache.max_entries = size;
           c.cache.max_negative = std::max<std::size_t>(size / 10, 1024);
         },
         "verified keys kept in memory (a tenth as many unknown keys are remembered too)")
      ->envname("KEYWARD_CACHE_SIZE")
      ->default_str(std::to_string(c.cache.max_entries));
  AddDuration(cmd, "--last-used-interval", c.last_used_interval, "KEYWARD_LAST_USED_INTERVAL",
              "how often keys' last-used times and usage counts are written to the store, in one "
              "batch");
  cmd->add_flag("--allow-query-key", c.allow_query_key,
                "accept a key in a ?apikey= query parameter (it then appears in URLs and logs)")
      ->envname("KEYWARD_ALLOW_QUERY_KEY");
  cmd->add_option_function<std::string>(
         "--trusted-proxies",
         [&c](const std::string& text) { c.trusted_proxies = ParseTrustedProxies(text).value(); },
         "CIDRs of proxies whose X-Forwarded-For / X-Real-IP name the client (comma-separated; "
         "default none: the TCP peer is the client)")
      ->check(CLI::Validator(
          [](std::string& text) {
            auto cidrs = ParseTrustedProxies(text);
            return cidrs.ok() ? std::string() : cidrs.status().message();
          },
          "", "CIDR,…"))
      ->type_name("CIDR,…")
      ->envname("KEYWARD_TRUSTED_PROXIES");
  cmd->add_option_function<std::string>(
         "--metrics-allow",
         [&c](const std::string& text) {
           c.metrics_allow = ParseCidrList(text, "--metrics-allow").value();
         },
         "CIDRs of the clients that may read /metrics (comma-separated; default everyone); "
         "others get 403")
      ->check(CLI::Validator(
          [](std::string& text) {
            auto cidrs = ParseCidrList(text, "--metrics-allow");
            return cidrs.ok() ? std::string() : cidrs.status().message();
          },
          "", "CIDR,…"))
      ->type_name("CIDR,…")
      ->envname("KEYWARD_METRICS_ALLOW");
}

void AddTransportFlags(CLI::App* cmd, Config& c) {
  AddDuration(cmd, "--header-timeout", c.limits.header_timeout, "KEYWARD_HEADER_TIMEOUT",
              "a client must send a request's headers and body within this; slower ones are cut "
              "off");
  AddDuration(cmd, "--idle-timeout", c.limits.idle_timeout, "KEYWARD_IDLE_TIMEOUT",
              "a kept-alive connection with no new request for this long is closed");
  AddValue(cmd, "--max-connections", c.limits.max_connections, "KEYWARD_MAX_CONNECTIONS",
           "open connections at most; further ones are accepted and closed at once");
  AddValue(cmd, "--tls-cert", c.tls_cert, "KEYWARD_TLS_CERT",
           "PEM certificate chain (server certificate first): serve HTTPS only, TLS 1.2 and 1.3; "
           "needs --tls-key");
  AddValue(cmd, "--tls-key", c.tls_key, "KEYWARD_TLS_KEY",
           "PEM private key of --tls-cert (not encrypted)");
  // One option per setting, its old name a second spelling: a name on the command line wins over
  // any variable, and of two the last counts. The old variables count where the new is unset.
  AddValue(cmd, "--network-threads,--threads", c.network_threads, "KEYWARD_NETWORK_THREADS",
           "network threads (0: one per CPU this process may use, after taskset and cgroup "
           "cpu.max); old names --threads, KEYWARD_THREADS")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  AddValue(cmd, "--blocking-threads,--workers", c.blocking_threads, "KEYWARD_BLOCKING_THREADS",
           "threads for blocking work, the store and password hashing (0: 2 per usable CPU, at "
           "least 4); old names --workers, KEYWARD_WORKERS")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->preparse_callback([&c](std::size_t /*args*/) {
    OldVariable("KEYWARD_THREADS", "KEYWARD_NETWORK_THREADS", c.network_threads);
    OldVariable("KEYWARD_WORKERS", "KEYWARD_BLOCKING_THREADS", c.blocking_threads);
  });
  AddValue(cmd, "--log-level", c.log_level, "KEYWARD_LOG_LEVEL", "debug, info or warn")
      ->check(CLI::IsMember({"debug", "info", "warn"}));
  AddValue(cmd, "--log-format", c.log_format, "KEYWARD_LOG_FORMAT",
           "log lines as text or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option_function<std::string>(
         "--access-log", [&c](const std::string& text) { c.access_log = text == "on"; },
         "one log line per request (id, method, route, status, latency, user, key name): on or "
         "off")
      ->check(CLI::IsMember({"on", "off"}))
      ->envname("KEYWARD_ACCESS_LOG")
      ->default_str(c.access_log ? "on" : "off");
}

// A validator that accepts what ParseTokenAudience reads, with its message otherwise.
CLI::Validator AudienceCheck() {
  return CLI::Validator(
      [](std::string& text) {
        auto audience = ParseTokenAudience(text);
        return audience.ok() ? std::string() : audience.status().message();
      },
      "", "NAME[;typ=JWT]");
}

// The token issuer's flags (service/token_options.h); Validate checks how they combine. The
// list flags repeat, and their variables are comma-separated.
void AddTokenFlags(CLI::App* cmd, Config& c) {
  TokenOptions& t = c.token;
  AddValue(cmd, "--issuer", t.issuer, "KEYWARD_ISSUER",
           "turn the OAuth2/OIDC token issuer on: its exact URL (https://…, no trailing slash)");
  cmd->add_flag("--issuer-allow-http", t.issuer_allow_http,
                "allow an http:// --issuer (tests and local trials only)")
      ->envname("KEYWARD_ISSUER_ALLOW_HTTP");
  cmd->add_option_function<std::vector<std::string>>(
         "--token-audience",
         [&t](const std::vector<std::string>& names) {
           t.audiences.clear();
           for (const std::string& name : names) {
             t.audiences.push_back(ParseTokenAudience(name).value());
           }
         },
         "an audience tokens may be issued for (repeatable; the first is the default; ;typ=JWT "
         "makes its tokens' typ JWT instead of at+jwt); required with --issuer")
      ->check(AudienceCheck())
      ->delimiter(',')
      ->type_name("NAME[;typ=JWT]")
      ->envname("KEYWARD_TOKEN_AUDIENCE");
  cmd->add_option("--gateway-audience", t.gateway_audiences,
                  "an audience whose tokens /auth and /api/v1/authorize accept in place of a key "
                  "(repeatable; each must be a --token-audience)")
      ->delimiter(',')
      ->type_name("NAME")
      ->envname("KEYWARD_GATEWAY_AUDIENCE");
  AddDuration(cmd, "--token-ttl", t.ttl, "KEYWARD_TOKEN_TTL",
              "lifetime of an issued token, 60s to 1h (never past its key's expiry)");
  cmd->add_option_function<std::string>(
         "--token-alg",
         [&t](const std::string& name) {
           t.alg = name == "RS256" ? token::Alg::kRS256 : token::Alg::kES256;
         },
         "signature algorithm of new signing keys")
      ->check(CLI::IsMember({"ES256", "RS256"}))
      ->envname("KEYWARD_TOKEN_ALG")
      ->default_str(t.alg == token::Alg::kRS256 ? "RS256" : "ES256");
  AddDuration(cmd, "--signing-key-rotation", t.rotation, "KEYWARD_SIGNING_KEY_ROTATION",
              "how long a signing key signs before the next one takes over");
  AddDuration(cmd, "--signing-key-prepublish", t.prepublish, "KEYWARD_SIGNING_KEY_PREPUBLISH",
              "how long the next signing key is in the JWKS before it signs");
}

// A duration flag for a field in milliseconds held as a number (whole seconds or more).
CLI::Option* AddMillis(CLI::App* cmd, const char* name, std::int64_t& millis, const char* env,
                       const char* help) {
  return cmd
      ->add_option_function<std::string>(
          name, [&millis](const std::string& text) { millis = ParseDuration(text).value() * 1000; },
          help)
      ->check(DurationCheck())
      ->type_name("DURATION")
      ->envname(env)
      ->default_str(FormatDuration(millis / 1000));
}

// Issue 15: expiry warnings, the housekeeper and webhook deliveries (service/options.h);
// Validate checks the ranges.
void AddLifecycleFlags(CLI::App* cmd, Config& c) {
  std::string warnings;
  for (std::int64_t within : c.service.expiry_warnings) {
    // Whole days as days ("7d,1d", as the docs write it), anything else as FormatDuration says.
    warnings +=
        (warnings.empty() ? "" : ",") +
        (within % 86400 == 0 ? std::to_string(within / 86400) + "d" : FormatDuration(within));
  }
  cmd->add_option_function<std::string>(
         "--expiry-warnings",
         [&c](const std::string& text) {
           c.service.expiry_warnings = ParseExpiryWarnings(text).value();
         },
         "announce key.expiring this long before a key expires, once per threshold (comma list "
         "of durations; none: no warnings)")
      ->check(CLI::Validator(
          [](std::string& text) {
            auto list = ParseExpiryWarnings(text);
            return list.ok() ? std::string() : list.status().message();
          },
          "", "DURATION,…"))
      ->type_name("DURATION,…")
      ->envname("KEYWARD_EXPIRY_WARNINGS")
      ->default_str(warnings.empty() ? "none" : warnings);
  AddMillis(cmd, "--housekeeping-interval", c.service.housekeeping_interval_ms,
            "KEYWARD_HOUSEKEEPING_INTERVAL",
            "how often expiry warnings, idle revocations and pruning are looked for (1s to 1h)");
  WebhookOptions& w = c.webhooks;
  cmd->add_flag("--webhook-allow-private", w.allow_private,
                "deliver webhooks to loopback, private, link-local and metadata addresses too")
      ->envname("KEYWARD_WEBHOOK_ALLOW_PRIVATE");
  cmd->add_flag("--webhook-require-https", w.require_https,
                "refuse webhook URLs that are not https://")
      ->envname("KEYWARD_WEBHOOK_REQUIRE_HTTPS");
  AddMillis(cmd, "--webhook-timeout", w.timeout_ms, "KEYWARD_WEBHOOK_TIMEOUT",
            "one webhook delivery attempt, connect and answer (1s to 60s)");
  AddDuration(cmd, "--webhook-retry-min", w.retry_min, "KEYWARD_WEBHOOK_RETRY_MIN",
              "wait before the first retry of a failed delivery, doubled for each later one, at "
              "most 1h (1s to 1h)");
  AddDuration(cmd, "--webhook-retry-for", w.retry_for, "KEYWARD_WEBHOOK_RETRY_FOR",
              "a delivery still failing this long after its event is given up (10s to 7d)");
  AddValue(cmd, "--webhook-workers", w.workers, "KEYWARD_WEBHOOK_WORKERS",
           "webhook deliveries attempted at once (1 to 32)");
}

// Issue 16: usage history and rate limits (docs/usage-and-limits.md); Validate checks the ranges.
void AddUsageFlags(CLI::App* cmd, Config& c) {
  AddDuration(cmd, "--usage-retention", c.service.usage_retention, "KEYWARD_USAGE_RETENTION",
              "hours of key usage older than this are deleted (at least 1h)");
  AddValue(cmd, "--usage-counting", c.usage_counting, "KEYWARD_USAGE_COUNTING",
           "count every use of a key per hour (false: no usage history; for benchmarks)");
  AddValue(cmd, "--rate-limit-nodes", c.rate_limit_nodes, "KEYWARD_RATE_LIMIT_NODES",
           "how many nodes share each key's rate limit: each enforces its share (1 to 1000; give "
           "every node of a cluster the number of nodes)");
}

// Issue 17: leak reports (docs/leaks.md); Validate checks the range.
void AddLeakFlags(CLI::App* cmd, Config& c) {
  cmd->add_option_function<std::string>(
         "--leak-action",
         [&c](const std::string& text) {
           c.service.leak_action = text == "disable" ? LeakAction::kDisable : LeakAction::kRevoke;
         },
         "what a leak report (POST /api/v1/leaks) does to a live key: revoke (delete) or disable")
      ->check(CLI::IsMember({"revoke", "disable"}))
      ->envname("KEYWARD_LEAK_ACTION")
      ->default_str("revoke");
  AddValue(cmd, "--leak-reports-per-minute", c.service.leak_reports_per_minute,
           "KEYWARD_LEAK_REPORTS_PER_MINUTE",
           "leak reports one client address may send per minute, all at once at most (1 to "
           "10000); more get 429 with Retry-After");
}

// Issue 19: the sign-in throttle (docs/api.md, "Sign-in throttling"); Validate checks the ranges.
void AddSignInFlags(CLI::App* cmd, Config& c) {
  AddValue(cmd, "--login-free-failures", c.service.login_free_failures,
           "KEYWARD_LOGIN_FREE_FAILURES",
           "failed sign-ins for one user name before each further attempt waits out a backoff "
           "(0 to 1000)");
  AddValue(cmd, "--login-free-failures-per-address", c.service.login_free_failures_per_address,
           "KEYWARD_LOGIN_FREE_FAILURES_PER_ADDRESS",
           "failed sign-ins from one client address before its attempts wait out a backoff (0 to "
           "100000)");
  AddDuration(cmd, "--login-max-backoff", c.service.login_max_backoff, "KEYWARD_LOGIN_MAX_BACKOFF",
              "longest backoff after failed sign-ins, which doubles from 1s (1s to 1d)");
}

}  // namespace

void AddServeFlags(CLI::App* cmd, Config& config) {
  AddConfigFileOption(cmd);  // first: its callback applies the file before the others run
  AddStoreFlags(cmd, config);
  AddKeyFlags(cmd, config);
  AddTransportFlags(cmd, config);
  AddTokenFlags(cmd, config);
  AddLifecycleFlags(cmd, config);
  AddUsageFlags(cmd, config);
  AddLeakFlags(cmd, config);
  AddSignInFlags(cmd, config);
}

}  // namespace keyward
