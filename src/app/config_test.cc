// Config: its validation, thread counts, and the `keyward serve` flags that fill it.
#include "app/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "app/serve_flags.h"
#include "app/serve_flags_test_util.h"
#include "common/status_matchers.h"

namespace keyward {
namespace {

Config Parse(std::vector<std::string> args) { return ParseServeArgs(std::move(args)); }

TEST(ServeFlags, DefaultsAreConfigDefaults) {
  const Config parsed = Parse({});
  const Config defaults;
  EXPECT_EQ(parsed.service.default_validity, 24 * 3600);
  EXPECT_EQ(parsed.service.max_validity, defaults.service.max_validity);
  EXPECT_EQ(parsed.limits.idle_timeout, defaults.limits.idle_timeout);
  EXPECT_EQ(parsed.cache.max_negative, defaults.cache.max_negative);
  EXPECT_EQ(parsed.network_threads, 0);
}

TEST(ServeFlags, DurationsBecomeTyped) {
  const Config c = Parse({"--default-validity", "1d12h", "--header-timeout", "2s", "--idle-timeout",
                          "4s", "--cache-ttl", "1m", "--last-used-interval", "90s"});
  EXPECT_EQ(c.service.default_validity, 36 * 3600);
  EXPECT_EQ(c.limits.header_timeout, std::chrono::seconds(2));
  EXPECT_EQ(c.limits.idle_timeout, std::chrono::seconds(4));
  EXPECT_EQ(c.cache.ttl, 60);
  EXPECT_EQ(c.last_used_interval, std::chrono::seconds(90));
}

TEST(ServeFlags, BadDurationIsAUsageError) {
  EXPECT_THROW(Parse({"--max-validity", "3x"}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--idle-timeout", "0s"}), CLI::ValidationError);
}

TEST(ServeFlags, CacheSizeSetsTheNegativeCacheToo) {
  EXPECT_EQ(Parse({"--cache-size", "50000"}).cache.max_negative, 5000u);
  EXPECT_EQ(Parse({"--cache-size", "100"}).cache.max_negative, 1024u);
}

// NOLINTBEGIN(concurrency-mt-unsafe): setenv in a test that runs no other thread.
TEST(ServeFlags, TrustedProxiesAreCidrs) {
  EXPECT_TRUE(Parse({}).trusted_proxies.empty());
  const Config c = Parse({"--trusted-proxies", "10.0.0.0/8, 2001:db8::/32"});
  ASSERT_EQ(c.trusted_proxies.size(), 2u);
  EXPECT_EQ(c.trusted_proxies[1].ToString(), "2001:db8::/32");
  EXPECT_THROW(Parse({"--trusted-proxies", "10.0.0.0/33"}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--trusted-proxies", "10.0.0.1/8"}), CLI::ValidationError);
  ::setenv("KEYWARD_TRUSTED_PROXIES", "127.0.0.2", 1);
  const Config from_env = Parse({});
  ::unsetenv("KEYWARD_TRUSTED_PROXIES");
  ASSERT_EQ(from_env.trusted_proxies.size(), 1u);
  EXPECT_EQ(from_env.trusted_proxies[0].ToString(), "127.0.0.2/32");
}
// NOLINTEND(concurrency-mt-unsafe)

TEST(ServeFlags, MetricsAllowIsCidrs) {
  EXPECT_TRUE(Parse({}).metrics_allow.empty());
  const Config c = Parse({"--metrics-allow", "10.0.0.0/8,192.0.2.7"});
  ASSERT_EQ(c.metrics_allow.size(), 2u);
  EXPECT_EQ(c.metrics_allow[1].ToString(), "192.0.2.7/32");
  EXPECT_THROW(Parse({"--metrics-allow", "10.0.0.0/33"}), CLI::ValidationError);
}

TEST(ServeFlags, OldAndNewThreadNames) {
  EXPECT_EQ(Parse({"--threads", "3"}).network_threads, 3);
  EXPECT_EQ(Parse({"--network-threads", "2"}).network_threads, 2);
  EXPECT_EQ(Parse({"--workers", "7"}).blocking_threads, 7);
  EXPECT_EQ(Parse({"--blocking-threads", "5"}).blocking_threads, 5);
  // Both names are one option: the last one given counts.
  EXPECT_EQ(Parse({"--network-threads", "2", "--threads", "3"}).network_threads, 3);
  EXPECT_EQ(Parse({"--workers", "7", "--blocking-threads", "5"}).blocking_threads, 5);
}

// NOLINTBEGIN(concurrency-mt-unsafe): setenv in a test that runs no other thread.
TEST(ServeFlags, OldAndNewThreadVariables) {
  ::setenv("KEYWARD_THREADS", "5", 1);
  ::setenv("KEYWARD_WORKERS", "9", 1);
  Config old_names = Parse({});
  ::setenv("KEYWARD_NETWORK_THREADS", "2", 1);
  ::setenv("KEYWARD_BLOCKING_THREADS", "6", 1);
  Config both = Parse({});
  // A flag on the command line wins over every variable, under either of its names.
  Config flagged = Parse({"--threads", "3", "--workers", "4"});
  ::setenv("KEYWARD_THREADS", "many", 1);
  ::unsetenv("KEYWARD_NETWORK_THREADS");
  EXPECT_THROW(Parse({}), CLI::ValidationError);
  for (const char* name : {"KEYWARD_THREADS", "KEYWARD_WORKERS", "KEYWARD_NETWORK_THREADS",
                           "KEYWARD_BLOCKING_THREADS"}) {
    ::unsetenv(name);
  }
  EXPECT_EQ(old_names.network_threads, 5);
  EXPECT_EQ(old_names.blocking_threads, 9);
  EXPECT_EQ(both.network_threads, 2);
  EXPECT_EQ(both.blocking_threads, 6);
  EXPECT_EQ(flagged.network_threads, 3);
  EXPECT_EQ(flagged.blocking_threads, 4);
}
// NOLINTEND(concurrency-mt-unsafe)

TEST(ConfigValidate, NamesTheFlag) {
  EXPECT_THAT(Validate(Config()), IsOk());
  Config longer_default;
  longer_default.service.default_validity = longer_default.service.max_validity + 1;
  EXPECT_EQ(Validate(longer_default).message(), "--default-validity is longer than --max-validity");
  Config half_tls;
  half_tls.tls_cert = "cert.pem";
  EXPECT_EQ(Validate(half_tls).code(), StatusCode::kInvalidArgument);
  Config cluster;
  cluster.db = "postgresql://db/keyward";
  EXPECT_EQ(Validate(cluster).code(), StatusCode::kInvalidArgument);
  cluster.master_key_file = "/etc/keyward/master.key";
  EXPECT_THAT(Validate(cluster), IsOk());
  Config no_connections;
  no_connections.limits.max_connections = 0;
  EXPECT_EQ(Validate(no_connections).code(), StatusCode::kInvalidArgument);
  Config bad_prefix;
  bad_prefix.service.key_prefix = "Bad!";
  EXPECT_EQ(Validate(bad_prefix).code(), StatusCode::kInvalidArgument);
}

TEST(ServeFlags, TokenIssuerFlags) {
  const Config off = Parse({});
  EXPECT_TRUE(off.token.issuer.empty());
  EXPECT_EQ(off.token.ttl, 600);
  EXPECT_EQ(off.token.alg, token::Alg::kES256);
  const Config c = Parse({"--issuer", "https://keys.example.com", "--token-audience", "pulsar",
                          "--token-audience", "trino;typ=JWT", "--gateway-audience", "pulsar",
                          "--token-ttl", "5m", "--token-alg", "RS256", "--signing-key-rotation",
                          "7d", "--signing-key-prepublish", "2h"});
  EXPECT_EQ(c.token.issuer, "https://keys.example.com");
  ASSERT_EQ(c.token.audiences.size(), 2u);
  EXPECT_EQ(c.token.audiences[0].name, "pulsar");
  EXPECT_EQ(c.token.audiences[0].typ, "at+jwt");
  EXPECT_EQ(c.token.audiences[1].name, "trino");
  EXPECT_EQ(c.token.audiences[1].typ, "JWT");
  EXPECT_EQ(c.token.gateway_audiences, std::vector<std::string>{"pulsar"});
  EXPECT_EQ(c.token.ttl, 300);
  EXPECT_EQ(c.token.alg, token::Alg::kRS256);
  EXPECT_EQ(c.token.rotation, 7 * 86400);
  EXPECT_EQ(c.token.prepublish, 7200);
  EXPECT_THAT(Validate(c), IsOk());
  EXPECT_THROW(Parse({"--token-alg", "HS256"}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--token-audience", "two words"}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--token-audience", "a;typ=jwt"}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--token-audience", std::string(201, 'a')}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--token-ttl", "soon"}), CLI::ValidationError);
}

// NOLINTBEGIN(concurrency-mt-unsafe): setenv in a test that runs no other thread.
TEST(ServeFlags, TokenIssuerVariablesAreCommaSeparatedLists) {
  ::setenv("KEYWARD_ISSUER", "http://localhost:8080", 1);
  ::setenv("KEYWARD_ISSUER_ALLOW_HTTP", "true", 1);
  ::setenv("KEYWARD_TOKEN_AUDIENCE", "pulsar,trino;typ=JWT", 1);
  ::setenv("KEYWARD_GATEWAY_AUDIENCE", "trino", 1);
  ::setenv("KEYWARD_TOKEN_TTL", "1h", 1);
  const Config c = Parse({});
  for (const char* name : {"KEYWARD_ISSUER", "KEYWARD_ISSUER_ALLOW_HTTP", "KEYWARD_TOKEN_AUDIENCE",
                           "KEYWARD_GATEWAY_AUDIENCE", "KEYWARD_TOKEN_TTL"}) {
    ::unsetenv(name);
  }
  EXPECT_EQ(c.token.issuer, "http://localhost:8080");
  EXPECT_TRUE(c.token.issuer_allow_http);
  ASSERT_EQ(c.token.audiences.size(), 2u);
  EXPECT_EQ(c.token.audiences[1].name, "trino");
  EXPECT_EQ(c.token.audiences[1].typ, "JWT");
  EXPECT_EQ(c.token.gateway_audiences, std::vector<std::string>{"trino"});
  EXPECT_EQ(c.token.ttl, 3600);
  EXPECT_THAT(Validate(c), IsOk());
}
// NOLINTEND(concurrency-mt-unsafe)

// A Config with the issuer on that Validate accepts; each case below breaks one thing.
Config Issuer() {
  Config c;
  c.token.issuer = "https://keys.example.com";
  c.token.audiences = {{.name = "pulsar"}};
  return c;
}

TEST(ConfigValidate, IssuerNamesTheFlag) {
  EXPECT_THAT(Validate(Issuer()), IsOk());
  auto message = [](auto change) {
    Config c = Issuer();
    change(c);
    Status s = Validate(c);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    return s.message();
  };
  EXPECT_THAT(message([](Config& c) { c.token.issuer = "http://keys.example.com"; }),
              ::testing::HasSubstr("--issuer-allow-http"));
  EXPECT_THAT(message([](Config& c) { c.token.issuer = "https://keys.example.com/"; }),
              ::testing::HasSubstr("--issuer"));
  EXPECT_THAT(message([](Config& c) { c.token.issuer = "https://keys.example.com/a?b=1"; }),
              ::testing::HasSubstr("--issuer"));
  EXPECT_THAT(message([](Config& c) { c.token.issuer = "https://keys.example.com#top"; }),
              ::testing::HasSubstr("--issuer"));
  EXPECT_THAT(message([](Config& c) { c.token.issuer = "keys.example.com"; }),
              ::testing::HasSubstr("--issuer"));
  EXPECT_THAT(message([](Config& c) { c.token.issuer = "ftp://keys.example.com"; }),
              ::testing::HasSubstr("--issuer"));
  EXPECT_THAT(message([](Config& c) { c.token.audiences.clear(); }),
              ::testing::HasSubstr("--token-audience"));
  EXPECT_THAT(message([](Config& c) { c.token.gateway_audiences = {"trino"}; }),
              ::testing::HasSubstr("--gateway-audience"));
  EXPECT_THAT(message([](Config& c) { c.token.ttl = 59; }), ::testing::HasSubstr("--token-ttl"));
  EXPECT_THAT(message([](Config& c) { c.token.ttl = 3601; }), ::testing::HasSubstr("--token-ttl"));
  EXPECT_THAT(message([](Config& c) { c.token.rotation = c.token.prepublish; }),
              ::testing::HasSubstr("--signing-key-rotation"));
  EXPECT_THAT(message([](Config& c) { c.token.prepublish = 0; }),
              ::testing::HasSubstr("--signing-key-prepublish"));
  // Every node must unseal the same signing keys, even when keys cannot be revealed.
  EXPECT_THAT(message([](Config& c) {
                c.db = "postgresql://db/keyward";
                c.service.reveal = false;
              }),
              ::testing::HasSubstr("--master-key-file"));
  Config http = Issuer();
  http.token.issuer = "http://127.0.0.1:8080/keyward";
  http.token.issuer_allow_http = true;
  EXPECT_THAT(Validate(http), IsOk());
  // Off, the token flags are not checked.
  Config off;
  off.token.ttl = 1;
  EXPECT_THAT(Validate(off), IsOk());
}

TEST(ServeFlags, LifecycleAndWebhookFlags) {
  const Config defaults = Parse({});
  EXPECT_EQ(defaults.service.expiry_warnings, (std::vector<std::int64_t>{7 * 86400, 86400}));
  EXPECT_EQ(defaults.service.housekeeping_interval_ms, 30'000);
  EXPECT_FALSE(defaults.webhooks.allow_private);
  EXPECT_EQ(defaults.webhooks.workers, 4);
  const Config c =
      Parse({"--expiry-warnings", "1d, 30d,1d", "--housekeeping-interval", "2s",
             "--webhook-allow-private", "--webhook-require-https", "--webhook-timeout", "3s",
             "--webhook-retry-min", "1m", "--webhook-retry-for", "2h", "--webhook-workers", "8"});
  EXPECT_EQ(c.service.expiry_warnings, (std::vector<std::int64_t>{30 * 86400, 86400}));
  EXPECT_EQ(c.service.housekeeping_interval_ms, 2000);
  EXPECT_TRUE(c.webhooks.allow_private);
  EXPECT_TRUE(c.webhooks.require_https);
  EXPECT_EQ(c.webhooks.timeout_ms, 3000);
  EXPECT_EQ(c.webhooks.retry_min, 60);
  EXPECT_EQ(c.webhooks.retry_for, 7200);
  EXPECT_EQ(c.webhooks.workers, 8);
  EXPECT_THAT(Validate(c), IsOk());
  EXPECT_TRUE(Parse({"--expiry-warnings", "none"}).service.expiry_warnings.empty());
  EXPECT_THROW(Parse({"--expiry-warnings", "7d,soon"}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--expiry-warnings", ""}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--webhook-timeout", "fast"}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--webhook-workers", "many"}), CLI::ParseError);
}

// Issue 16: usage history and rate limits.
TEST(ServeFlags, UsageFlags) {
  const Config defaults = Parse({});
  EXPECT_EQ(defaults.service.usage_retention, 90 * 86400);
  EXPECT_TRUE(defaults.usage_counting);
  EXPECT_EQ(defaults.rate_limit_nodes, 1);
  const Config c =
      Parse({"--usage-retention", "30d", "--usage-counting=false", "--rate-limit-nodes", "3"});
  EXPECT_EQ(c.service.usage_retention, 30 * 86400);
  EXPECT_FALSE(c.usage_counting);
  EXPECT_EQ(c.rate_limit_nodes, 3);
  EXPECT_THAT(Validate(c), IsOk());
  EXPECT_THROW(Parse({"--usage-retention", "forever"}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--rate-limit-nodes", "two"}), CLI::ParseError);
}

// NOLINTBEGIN(concurrency-mt-unsafe): setenv in a test that runs no other thread.
TEST(ServeFlags, UsageVariables) {
  ::setenv("KEYWARD_USAGE_RETENTION", "7d", 1);
  ::setenv("KEYWARD_USAGE_COUNTING", "false", 1);
  ::setenv("KEYWARD_RATE_LIMIT_NODES", "2", 1);
  const Config c = Parse({});
  for (const char* name :
       {"KEYWARD_USAGE_RETENTION", "KEYWARD_USAGE_COUNTING", "KEYWARD_RATE_LIMIT_NODES"}) {
    ::unsetenv(name);
  }
  EXPECT_EQ(c.service.usage_retention, 7 * 86400);
  EXPECT_FALSE(c.usage_counting);
  EXPECT_EQ(c.rate_limit_nodes, 2);
}
// NOLINTEND(concurrency-mt-unsafe)

TEST(ConfigValidate, UsageRangesNameTheFlag) {
  auto message = [](auto change) {
    Config c;
    change(c);
    return std::string(Validate(c).message());
  };
  EXPECT_EQ(message([](Config& c) { c.service.usage_retention = 3599; }),
            "--usage-retention must be at least 1h");
  EXPECT_EQ(message([](Config& c) { c.rate_limit_nodes = 0; }),
            "--rate-limit-nodes must be between 1 and 1000");
  EXPECT_EQ(message([](Config& c) { c.rate_limit_nodes = 1001; }),
            "--rate-limit-nodes must be between 1 and 1000");
}

// Issue 17: what a leak report does, and how many one address may send.
TEST(ServeFlags, LeakFlags) {
  const Config defaults = Parse({});
  EXPECT_EQ(defaults.service.leak_action, LeakAction::kRevoke);
  EXPECT_EQ(defaults.service.leak_reports_per_minute, 10);
  const Config c = Parse({"--leak-action", "disable", "--leak-reports-per-minute", "60"});
  EXPECT_EQ(c.service.leak_action, LeakAction::kDisable);
  EXPECT_EQ(c.service.leak_reports_per_minute, 60);
  EXPECT_THAT(Validate(c), IsOk());
  EXPECT_EQ(Parse({"--leak-action", "revoke"}).service.leak_action, LeakAction::kRevoke);
  EXPECT_THROW(Parse({"--leak-action", "delete"}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--leak-reports-per-minute", "ten"}), CLI::ParseError);
  Config zero;
  zero.service.leak_reports_per_minute = 0;
  EXPECT_EQ(Validate(zero).message(), "--leak-reports-per-minute must be between 1 and 10000");
  Config many;
  many.service.leak_reports_per_minute = 10001;
  EXPECT_EQ(Validate(many).message(), "--leak-reports-per-minute must be between 1 and 10000");
}

// Issue 19: the sign-in throttle's settings, which tests shorten (the cluster test waits out the
// backoff).
TEST(ServeFlags, SignInThrottleFlags) {
  const Config defaults = Parse({});
  EXPECT_EQ(defaults.service.login_free_failures, 5);
  EXPECT_EQ(defaults.service.login_free_failures_per_address, 20);
  EXPECT_EQ(defaults.service.login_max_backoff, 15 * 60);
  const Config c = Parse({"--login-free-failures", "3", "--login-free-failures-per-address", "0",
                          "--login-max-backoff", "2s"});
  EXPECT_EQ(c.service.login_free_failures, 3);
  EXPECT_EQ(c.service.login_free_failures_per_address, 0);
  EXPECT_EQ(c.service.login_max_backoff, 2);
  EXPECT_THAT(Validate(c), IsOk());
  EXPECT_THROW(Parse({"--login-max-backoff", "soon"}), CLI::ValidationError);
  EXPECT_THROW(Parse({"--login-free-failures", "five"}), CLI::ParseError);
  Config bad;
  bad.service.login_free_failures = -1;
  EXPECT_EQ(Validate(bad).message(), "--login-free-failures must be between 0 and 1000");
  bad = Config{};
  bad.service.login_free_failures_per_address = 100001;
  EXPECT_EQ(Validate(bad).message(),
            "--login-free-failures-per-address must be between 0 and 100000");
  bad = Config{};
  bad.service.login_max_backoff = 0;
  EXPECT_EQ(Validate(bad).message(), "--login-max-backoff must be between 1s and 1d");
  bad.service.login_max_backoff = 86401;
  EXPECT_EQ(Validate(bad).message(), "--login-max-backoff must be between 1s and 1d");
}

// NOLINTBEGIN(concurrency-mt-unsafe): setenv in a test that runs no other thread.
TEST(ServeFlags, LifecycleVariables) {
  ::setenv("KEYWARD_EXPIRY_WARNINGS", "3d", 1);
  ::setenv("KEYWARD_WEBHOOK_ALLOW_PRIVATE", "true", 1);
  ::setenv("KEYWARD_WEBHOOK_WORKERS", "2", 1);
  const Config c = Parse({});
  for (const char* name :
       {"KEYWARD_EXPIRY_WARNINGS", "KEYWARD_WEBHOOK_ALLOW_PRIVATE", "KEYWARD_WEBHOOK_WORKERS"}) {
    ::unsetenv(name);
  }
  EXPECT_EQ(c.service.expiry_warnings, std::vector<std::int64_t>{3 * 86400});
  EXPECT_TRUE(c.webhooks.allow_private);
  EXPECT_EQ(c.webhooks.workers, 2);
}
// NOLINTEND(concurrency-mt-unsafe)

TEST(ConfigValidate, LifecycleRangesNameTheFlag) {
  auto message = [](auto change) {
    Config c;
    change(c);
    return std::string(Validate(c).message());
  };
  EXPECT_EQ(message([](Config& c) { c.service.housekeeping_interval_ms = 2 * 3600 * 1000; }),
            "--housekeeping-interval must be between 1s and 1h");
  EXPECT_EQ(message([](Config& c) { c.webhooks.timeout_ms = 61'000; }),
            "--webhook-timeout must be between 1s and 60s");
  EXPECT_EQ(message([](Config& c) { c.webhooks.retry_min = 2 * 3600; }),
            "--webhook-retry-min must be between 1s and 1h");
  EXPECT_EQ(message([](Config& c) { c.webhooks.retry_for = 5; }),
            "--webhook-retry-for must be between 10s and 7d");
  EXPECT_EQ(message([](Config& c) { c.webhooks.retry_for = 8 * 86400; }),
            "--webhook-retry-for must be between 10s and 7d");
  EXPECT_EQ(message([](Config& c) { c.webhooks.workers = 0; }),
            "--webhook-workers must be between 1 and 32");
  EXPECT_EQ(message([](Config& c) { c.webhooks.workers = 33; }),
            "--webhook-workers must be between 1 and 32");
}

TEST(ResolveThreads, ZeroMeansFromTheCpus) {
  const UsableCpus cpus{.count = 3, .reason = "3 CPUs in the affinity mask"};
  ThreadCounts automatic = ResolveThreads(Config(), cpus);
  EXPECT_EQ(automatic.network, 3);
  EXPECT_EQ(automatic.blocking, 6);
  EXPECT_EQ(automatic.network_reason, "one per usable CPU: 3 CPUs in the affinity mask");
  EXPECT_EQ(ResolveThreads(Config(), UsableCpus{.count = 1, .reason = ""}).blocking, 4);
  Config given;
  given.network_threads = 2;
  given.blocking_threads = 1;
  ThreadCounts set = ResolveThreads(given, cpus);
  EXPECT_EQ(set.network, 2);
  EXPECT_EQ(set.blocking, 1);
  EXPECT_TRUE(set.network_reason.empty());
}

}  // namespace
}  // namespace keyward
