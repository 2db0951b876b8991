// LeakService (issue 17) on a real SQLite store: what reaches the audit log and the key.leaked
// event of a reported URL (no key, however encoded), /apikeys/check's revoke deleting only the
// key it found, and the leak reports' throttle per reporter (IPv6 by /64).
#include "service/leak_service.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/hex.h"
#include "core/api_key.h"
#include "service/lifecycle_test_world.h"
#include "store/forwarding_store.h"

namespace keyward {
namespace {

constexpr char kReporter[] = "198.51.100.7";

// A key's secret and checksum, its 49 characters after "kw_".
std::string Body(const std::string& key) { return key.substr(3); }
// The body as a masked URL shows it: first and last 4 characters.
std::string Masked(const std::string& body) {
  return body.substr(0, 4) + "…" + body.substr(body.size() - 4);
}

// Runs `after_find` once, after the next FindKeyByHash: a change landing between the lookup and
// what the service does with its result.
class ReplacingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::function<void()> after_find;
  Result<KeyRecord> FindKeyByHash(std::string_view hash) override {
    Result<KeyRecord> found = ForwardingStore::FindKeyByHash(hash);
    if (auto f = std::exchange(after_find, nullptr)) f();
    return found;
  }
};

class LeakServiceTest : public LifecycleTest {
 protected:
  LeakService Leaks(Store& store) {
    return LeakService(store, *keys_, options_, clock_, &cache_, audit_.get());
  }
};

// Keys the scanner's strict boundaries miss (double-encoded '_', a letter before the prefix) and
// a reported key's body anywhere are masked all the same: no body reaches the audit or the event.
TEST_F(LeakServiceTest, MasksEveryKeyInTheUrlHoweverItIsWritten) {
  const std::string leaked = AliceKey({.name = "leaked"});
  const std::string other = GenerateKey("kw");  // not stored, not reported
  const std::string url = "https://git.example/x?a=kw%255F" + Body(leaked) + "&t=xkw_" +
                          Body(leaked) + "&u=kw%255f" + Body(other) + "&v=" + leaked;
  const std::string masked = "https://git.example/x?a=kw%255F" + Masked(Body(leaked)) + "&t=xkw_" +
                             Masked(Body(leaked)) + "&u=kw%255f" + Masked(Body(other)) +
                             "&v=" + MaskKey(leaked);
  (void)NewEvents();  // key.created
  KW_ASSERT_OK_AND_ASSIGN(LeakReportOutcome outcome,
                          Leaks(*store_).Report({{.token = leaked, .url = url}}, kReporter));
  EXPECT_EQ(outcome.live, 1u);

  const std::vector<AuditEvent> audited = Audited(AuditAction::kKeyLeaked);
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0].detail, "revoked url=" + masked);
  const std::vector<WebhookEvent> events = NewEvents();
  std::string all_data;
  for (const WebhookEvent& e : events) {
    all_data += e.data;
    if (e.type != event::kKeyLeaked) continue;
    EXPECT_EQ(boost::json::parse(e.data).at("url").as_string(), masked);
  }
  for (const std::string& body : {Body(leaked), Body(other)}) {
    EXPECT_EQ(audited[0].detail.find(body), std::string::npos) << Masked(body);
    EXPECT_EQ(all_data.find(body), std::string::npos) << Masked(body);
  }
}

// A key deleted and created again under its name between the lookup and the revocation never
// leaked: /apikeys/check with revoke leaves it.
TEST_F(LeakServiceTest, CheckRevokesOnlyTheKeyItFound) {
  const std::string old_key = AliceKey({.name = "k"});
  std::string new_key;
  ReplacingStore window(*store_);
  window.after_find = [&] {
    ASSERT_TRUE(keys_->Delete(admin_, "alice", "k").ok());
    new_key = AliceKey({.name = "k"});
  };
  KW_ASSERT_OK_AND_ASSIGN(std::vector<HashCheck> checks,
                          Leaks(window).Check(admin_, {ToHex(HashKey(old_key))}, true));
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_FALSE(checks[0].revoked);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord stored, store_->GetKey("alice", "k"));
  EXPECT_EQ(stored.hash, HashKey(new_key)) << "the new key under the name is kept";
}

// Each IPv4 address has its budget; IPv6 addresses share one per /64, which one host holds.
TEST_F(LeakServiceTest, ThrottlesIpv6ReportersByTheirSlash64) {
  options_.leak_reports_per_minute = 2;
  const LeakService leaks = Leaks(*store_);
  EXPECT_EQ(leaks.Admit("2001:db8:1:2::1"), 0);
  EXPECT_EQ(leaks.Admit("2001:db8:1:2:ffff:ffff:ffff:fffe"), 0);
  EXPECT_GE(leaks.Admit("2001:db8:1:2::abcd"), 1) << "the same /64";
  EXPECT_EQ(leaks.Admit("2001:db8:1:3::1"), 0) << "the next /64";
  EXPECT_EQ(leaks.Admit("192.0.2.1"), 0);
  EXPECT_EQ(leaks.Admit("192.0.2.1"), 0);
  EXPECT_GE(leaks.Admit("192.0.2.1"), 1);
  EXPECT_EQ(leaks.Admit("192.0.2.2"), 0) << "another IPv4 address";
  EXPECT_EQ(leaks.Admit("::ffff:192.0.2.2"), 0) << "the same, IPv4-mapped";
  EXPECT_GE(leaks.Admit("192.0.2.2"), 1);
}

}  // namespace
}  // namespace keyward
