// What the usage tests (issue 16) expect of GET /api/v1/users/{id}/apikeys/{name}/usage: counts
// by outcome, tallied from the answers the test itself received, compared with the API's hour
// buckets and totals.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <string>

#include "harness.h"

namespace keyward::testing {

// The seven denied outcomes, as the API's `denied` objects name them.
inline const char* const kDeniedOutcomes[] = {"expired", "revoked", "disabled",    "scope",
                                              "tag",     "address", "rate_limited"};

// Counts by outcome ("allowed" or a denied outcome); missing ones are 0.
struct UsageTally {
  std::map<std::string, std::int64_t> counts;
  void Add(const std::string& outcome, std::int64_t n = 1) { counts[outcome] += n; }
  std::int64_t Of(const std::string& outcome) const {
    auto it = counts.find(outcome);
    return it == counts.end() ? 0 : it->second;
  }
  std::int64_t Total() const {
    std::int64_t n = 0;
    for (const auto& [outcome, c] : counts) n += c;
    return n;
  }
};

// A bucket's or the totals' counts ({"allowed": n, "denied": {...}}) as a tally.
inline UsageTally TallyOf(const boost::json::value& counts) {
  UsageTally t;
  t.Add("allowed", counts.at("allowed").as_int64());
  const auto& denied = counts.at("denied").as_object();
  EXPECT_EQ(denied.size(), 7u) << "denied has all seven outcomes: " << counts;
  for (const char* outcome : kDeniedOutcomes) t.Add(outcome, denied.at(outcome).as_int64());
  return t;
}

inline bool SameCounts(const UsageTally& a, const UsageTally& b) {
  if (a.Of("allowed") != b.Of("allowed")) return false;
  for (const char* outcome : kDeniedOutcomes) {
    if (a.Of(outcome) != b.Of(outcome)) return false;
  }
  return true;
}

inline std::string Describe(const UsageTally& t) {
  std::string s = "allowed " + std::to_string(t.Of("allowed"));
  for (const char* outcome : kDeniedOutcomes)
    s += ", " + std::string(outcome) + " " + std::to_string(t.Of(outcome));
  return s;
}

// The wall clock as Unix seconds, and the start of its UTC hour.
inline std::int64_t WallNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
inline std::int64_t HourOf(std::int64_t t) { return t - t % 3600; }

// RFC 3339 UTC ("2026-12-07T10:00:00Z") of Unix seconds.
inline std::string Rfc3339(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// GET …/usage of `user`'s key `name` as `token` on `port`, with `query`; null unless 200 (and,
// for GetUsage, a failed test).
inline HttpResult CallUsage(std::uint16_t port, const std::string& token, const std::string& user,
                            const std::string& name, const std::string& query) {
  return Call(port, "GET", "/api/v1/users/" + user + "/apikeys/" + name + "/usage?" + query, "",
              {{"Authorization", "Bearer " + token}});
}
inline boost::json::value TryGetUsage(std::uint16_t port, const std::string& token,
                                      const std::string& user, const std::string& name,
                                      const std::string& query = "since=3h") {
  HttpResult r = CallUsage(port, token, user, name, query);
  return r.status == 200 ? r.Json() : boost::json::value();
}
inline boost::json::value GetUsage(std::uint16_t port, const std::string& token,
                                   const std::string& user, const std::string& name,
                                   const std::string& query = "since=3h") {
  HttpResult r = CallUsage(port, token, user, name, query);
  EXPECT_EQ(r.status, 200) << name << ": " << r.body;
  return r.status == 200 ? r.Json() : boost::json::value();
}

// Checks a usage answer against `expected`, counted by requests made between the wall-clock
// times `from` and `to` (Unix seconds): the totals equal it; the hour buckets from the hour of
// `from` to the hour of `to` sum to it (one bucket, exactly it, unless the run crossed an hour);
// every other bucket is empty; the buckets are dense and ascending.
inline void ExpectUsage(const boost::json::value& usage, const UsageTally& expected,
                        std::int64_t from, std::int64_t to, const std::string& what) {
  ASSERT_TRUE(usage.is_object()) << what;
  EXPECT_EQ(usage.at("granularity"), "hour") << what;
  UsageTally totals = TallyOf(usage.at("totals"));
  EXPECT_TRUE(SameCounts(totals, expected))
      << what << ": totals " << Describe(totals) << ", expected " << Describe(expected);
  UsageTally in_run;
  std::int64_t previous = 0;
  for (const auto& bucket : usage.at("buckets").as_array()) {
    const std::string start(bucket.at("start").as_string());
    std::tm tm{};
    ASSERT_NE(::strptime(start.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << start;
    const std::int64_t at = ::timegm(&tm);
    EXPECT_EQ(at % 3600, 0) << what << ": " << start;
    if (previous != 0) {
      EXPECT_EQ(at, previous + 3600) << what << ": dense, ascending: " << start;
    }
    previous = at;
    UsageTally counts = TallyOf(bucket);
    if (at >= HourOf(from) && at <= HourOf(to)) {
      for (const auto& [outcome, n] : counts.counts) in_run.Add(outcome, n);
      if (HourOf(from) == HourOf(to)) {
        EXPECT_TRUE(SameCounts(counts, expected))
            << what << ": the hour " << start << " has " << Describe(counts);
      }
    } else {
      EXPECT_EQ(counts.Total(), 0) << what << ": hour " << start << " outside the run";
    }
  }
  EXPECT_TRUE(SameCounts(in_run, expected)) << what << ": the run's hours hold " << Describe(in_run)
                                            << ", expected " << Describe(expected);
}

}  // namespace keyward::testing
