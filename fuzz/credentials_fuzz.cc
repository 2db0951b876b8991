// Fuzz target: where a request carries its key (api/credentials.h): the Authorization forms,
// the apikey header, ?apikey=, the session cookie and the CSRF checks.
//
// The input is a request head: "METHOD TARGET" on the first line, then "Name: value" lines.
// Lines an HTTP parser would refuse (a bad header name, control characters) are skipped, and
// values are trimmed as a parser does. Checked:
//   - the credential found is a view into the header it came from, the target or the scratch
//     buffer, never anywhere else; the first carrier present decides, ?apikey= only counts when
//     allowed and no header carries a key;
//   - the key found comes back unchanged when sent again as "Bearer <key>", as a bare
//     Authorization value, as "apikey: <key>", inside Basic base64("user:<key>") and in
//     ?apikey=<key>;
//   - the session cookie is the first keyward_session pair of all Cookie headers, in order
//     (compared with a reference), and comes back unchanged when sent again;
//   - a safe method always passes the CSRF check; any other needs X-Keyward-CSRF and an Origin
//     that is absent or names the Host.
#include <sodium.h>

#include <boost/beast/core/string.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/credentials.h"
#include "fuzz/fuzz_check.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
using Headers = std::vector<std::pair<std::string, std::string>>;

bool IsTokenChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// What an HTTP parser lets through in a field value: no control characters but HTAB.
bool IsFieldValue(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) return false;
  }
  return true;
}

std::string_view TrimWs(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

http::Request ParseHead(std::string_view input) {
  http::Request req{bh::verb::get, "/", 11};
  bool first = true;
  while (!input.empty()) {
    const auto eol = input.find('\n');
    std::string_view line = input.substr(0, eol);
    input = eol == input.npos ? std::string_view() : input.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first) {
      first = false;
      const auto space = line.find(' ');
      const std::string_view method = line.substr(0, space);
      const std::string_view target = space == line.npos ? "" : line.substr(space + 1);
      if (IsToken(method)) req.method_string(method);
      if (!target.empty() && IsFieldValue(target) && target.find_first_of(" \t") == target.npos) {
        req.target(target);
      }
      continue;
    }
    const auto colon = line.find(':');
    if (colon == line.npos || !IsToken(line.substr(0, colon))) continue;
    const std::string_view value = TrimWs(line.substr(colon + 1));
    if (IsFieldValue(value)) req.insert(line.substr(0, colon), value);
  }
  return req;
}

http::Request Build(const Headers& headers, std::string_view target = "/") {
  http::Request req{bh::verb::get, target, 11};
  for (const auto& [name, value] : headers) req.insert(name, value);
  return req;
}

std::optional<std::string> Carried(const http::Request& req, bool allow_query) {
  std::string scratch;
  auto found = FindCredential(req, allow_query, scratch);
  return found ? std::optional<std::string>(std::string(*found)) : std::nullopt;
}

bool Within(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

void CheckCredential(const http::Request& req) {
  const auto auth = req.find(bh::field::authorization);
  const auto apikey = req.find("apikey");
  for (bool allow_query : {false, true}) {
    std::string scratch;
    const auto found = FindCredential(req, allow_query, scratch);
    if (auth != req.end() || apikey != req.end()) {
      FUZZ_CHECK(found.has_value());
      FUZZ_CHECK(Carried(req, !allow_query) == std::string(*found));
    } else if (!allow_query) {
      FUZZ_CHECK(!found.has_value());
    }
    if (!found || found->empty()) continue;
    const std::string_view key = *found;
    if (auth != req.end()) {
      FUZZ_CHECK(Within(key, std::string_view(auth->value())) || Within(key, scratch));
    } else if (apikey != req.end()) {
      FUZZ_CHECK(Within(key, std::string_view(apikey->value())));
      FUZZ_CHECK(key == TrimWs(std::string_view(apikey->value())));
    } else {
      FUZZ_CHECK(allow_query && Within(key, std::string_view(req.target())));
    }

    // The key comes back unchanged through every carrier that can hold it.
    const std::string copy(key);
    FUZZ_CHECK(Carried(Build({{"Authorization", "Basic " + Base64("user:" + copy)}}), false) ==
               copy);
    if (TrimWs(copy) != copy) continue;
    FUZZ_CHECK(Carried(Build({{"Authorization", "Bearer " + copy}}), false) == copy);
    FUZZ_CHECK(Carried(Build({{"apikey", copy}}), false) == copy);
    if (copy.find(' ') == std::string::npos) {
      FUZZ_CHECK(Carried(Build({{"Authorization", copy}}), false) == copy);
    }
    if (copy.find('&') == std::string::npos) {
      FUZZ_CHECK(Carried(Build({}, "/auth?x=1&apikey=" + copy), true) == copy);
      FUZZ_CHECK(!Carried(Build({}, "/auth?x=1&apikey=" + copy), false).has_value());
    }
  }
}

// The first keyward_session pair of the Cookie headers, in the order they were sent.
std::optional<std::string_view> ReferenceSessionCookie(const http::Request& req) {
  constexpr std::string_view kName = "keyward_session=";
  for (const auto& field : req) {
    if (field.name() != bh::field::cookie) continue;
    std::string_view cookies(field.value());
    while (true) {
      const auto end = cookies.find(';');
      const std::string_view pair = TrimWs(cookies.substr(0, end));
      if (pair.starts_with(kName)) return pair.substr(kName.size());
      if (end == cookies.npos) break;
      cookies.remove_prefix(end + 1);
    }
  }
  return std::nullopt;
}

void CheckSessionCookie(const http::Request& req) {
  const auto found = FindSessionCookie(req);
  FUZZ_CHECK(found == ReferenceSessionCookie(req));
  if (!found) return;
  const std::string copy(*found);
  const http::Request resent = Build({{"Cookie", "a=1; keyward_session=" + copy}});
  const auto again = FindSessionCookie(resent);
  FUZZ_CHECK(again.has_value() && *again == copy);
}

void CheckCsrf(const http::Request& req) {
  const bool same_origin = IsSameOriginOrUnknown(req);
  const auto origin = req.find(bh::field::origin);
  if (origin == req.end()) {
    FUZZ_CHECK(same_origin);
  } else if (same_origin) {
    const std::string_view host(req[bh::field::host]);
    const std::string_view value(origin->value());
    FUZZ_CHECK(!host.empty());
    FUZZ_CHECK(value == "http://" + std::string(host) || value == "https://" + std::string(host));
  }
  const bh::verb method = req.method();
  const bool safe =
      method == bh::verb::get || method == bh::verb::head || method == bh::verb::options;
  const bool expected = safe || (req.find("X-Keyward-CSRF") != req.end() && same_origin);
  FUZZ_CHECK(PassesCsrfCheck(req) == expected);
}

}  // namespace
}  // namespace keyward

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward;
  static const bool crypto_ready = sodium_init() >= 0;
  FUZZ_CHECK(crypto_ready);
  const http::Request req = ParseHead(std::string_view(reinterpret_cast<const char*>(data), size));
  CheckCredential(req);
  CheckSessionCookie(req);
  CheckCsrf(req);
  return 0;
}
