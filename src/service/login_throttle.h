// Exponential backoff after failed sign-ins, per user name and per client address, counted in
// the store (Store::UpdateSignInCounters; issue 19), so that every node sharing a database
// throttles with the same counts: N nodes admit no more attempts than one.
//
// After `free_failures` failures for a name (or address), the next attempt is refused without
// checking the password until a backoff of 1 s, 2 s, 4 s … (at most `max_backoff`) has passed.
// Names that do not exist are counted the same way, so a throttled answer does not tell a
// known user from an unknown one.
//
// An attempt is counted as a failure when it is admitted, before its password is checked, and
// taken back when it succeeds: concurrent attempts, on this node or any other, cannot all slip
// through before the first failure is recorded, because admission is one read-modify-write of
// both counters that the store makes atomic across nodes. So at most `free_failures` passwords
// per name are ever checked in a burst, and with the backoff capped at 15 minutes at most about
// 20 an hour. Time is the caller's `now` (the service's clock), so every node must keep the same
// time, as NTP does.
//
// The store never sees a name or an address, only its subject: HMAC-SHA-256 under
// `digest_key` (service/sign_in_service.h derives it from the master key) of a kind byte and the
// text. Keyed, because people paste passwords into the name field: a plain SHA-256 of one could
// be found by anyone reading the database (or a backup of it) by hashing guesses, as could any
// IPv4 address by hashing them all. Without a key (a server with no master key) it is a plain
// SHA-256, as docs/api.md says.
//
// Bounded: a counter expires kForgetAfter after its last failure (or at the end of its lock, if
// later) and then counts as none; the housekeeper prunes expired ones (Store::PruneSignInCounters).
// So the store holds at most two rows per sign-in checked in the last day.
//
// Every call reads and writes the store: a store error is returned as it is (then nothing was
// admitted or changed), never an admission. Blocking; thread safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

namespace keyward {

class LoginThrottle {
 public:
  // A counter is forgotten this long after its last failure counted (or the end of its lock).
  static constexpr std::int64_t kForgetAfter = 24 * 3600;

  // `store` must outlive the throttle. `digest_key` empty: plain SHA-256 subjects.
  LoginThrottle(Store& store, int free_failures_per_name, int free_failures_per_address,
                std::int64_t max_backoff, std::string digest_key = {});
  ~LoginThrottle();
  LoginThrottle(const LoginThrottle&) = delete;
  LoginThrottle& operator=(const LoginThrottle&) = delete;

  // Admits one attempt of `name` from `address` and counts it as a failure until
  // RecordSuccess says otherwise: returns 0. Or, while either is locked, admits nothing and
  // returns the seconds to wait.
  Result<std::int64_t> Admit(std::string_view name, std::string_view address, UnixSeconds now);
  // The admitted attempt succeeded: clears the name's failures and takes the attempt back
  // from the address's count.
  Status RecordSuccess(std::string_view name, std::string_view address, UnixSeconds now);
  // The admitted attempt was not decided (the store failed): it counts for nothing.
  Status Release(std::string_view name, std::string_view address, UnixSeconds now);

  // The subjects the store knows `name` and `address` by, in that order.
  std::vector<std::string> Subjects(std::string_view name, std::string_view address) const;

 private:
  std::string Digest(char kind, std::string_view text) const;

  Store& store_;
  const int free_per_name_;
  const int free_per_address_;
  const std::int64_t max_backoff_;
  std::string digest_key_;  // wiped by the destructor
};

}  // namespace keyward
