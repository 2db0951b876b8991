// What a gateway requires of a key at /auth, and the one check /auth and POST /api/v1/authorize
// share.
//
// Requirements come from the query (`/auth?scope=a&scope=b&tag=t`, repeatable, percent-decoded)
// and from the headers `X-Keyward-Require-Scope: a b` and `X-Keyward-Require-Tag: t` (space- or
// comma-separated). All must hold. A requirement that is present but empty (`?scope=`, an empty
// header) is never met: a gateway whose setting came out empty refuses rather than opens. So is
// a misnamed one (`?scopes=`, `?Tag=`, `X-Keyward-Require-Scopes`): a typo refuses too.
// Pure; thread safe.
#pragma once

#include <boost/container/small_vector.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/metrics.h"
#include "http/server.h"
#include "service/principal.h"

namespace keyward {

// Moving one moves the entries kept inline one by one, which can throw only when memory runs
// out; bad_alloc then ends the process, as everywhere else.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct Requirements {
  // A few entries stay inside the object: the usual one or two cost no allocation.
  boost::container::small_vector<std::string, 4> scopes;
  boost::container::small_vector<std::string, 2> tags;
  // The first parameter or header that looks like a requirement but is none ("scopes", "Tag",
  // "X-Keyward-Require-Scopes"): a gateway setting with a typo must refuse, never open. Never
  // met. Empty when there is none.
  std::string misnamed;

  bool empty() const { return scopes.empty() && tags.empty() && misnamed.empty(); }
};

// Adds the `scope` and `tag` parameters of a query string (the part after '?').
void AddQueryRequirements(std::string_view query, Requirements& out);
// Adds the entries of one X-Keyward-Require-* header value to `list`.
void AddHeaderRequirements(std::string_view value,
                           boost::container::small_vector_base<std::string>& list);
// Everything `request` requires; empty, and allocation-free, when it requires nothing.
Requirements RequirementsOf(const http::Request& request);

struct Denial {
  DenialReason reason;
  std::string message;  // "the key lacks the scope minerva:query"; safe to show the client
};

// Whether `principal` meets `required`, checked in the order address → scope → tag. The
// address: a key with address limits (principal.networks) passes only when `client_address`
// lies in one of them; nullopt (not known) fails it. Scopes by principal.grant.HasScope, tags
// among principal.user.tags (the tags the key presents). nullopt when everything holds.
std::optional<Denial> Check(const Principal& principal,
                            std::optional<std::string_view> client_address,
                            const Requirements& required);

}  // namespace keyward
