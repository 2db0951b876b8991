// application/x-www-form-urlencoded request bodies (the OAuth endpoints': RFC 6749 §B) and the
// RFC 6749 §2.3.1 Basic client credentials. Pure functions; thread safe.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace keyward {

// The largest form body read: 16 KiB.
inline constexpr std::size_t kMaxFormBytes = 16 * 1024;

// True for "application/x-www-form-urlencoded", in any case, with or without parameters
// ("; charset=UTF-8").
bool IsFormMediaType(std::string_view content_type);

// A parsed form: each name at most once, values decoded.
class Form {
 public:
  // The value of `name`, or nullopt when absent. An empty value ("a=") is present and empty.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }

 private:
  friend Result<Form> ParseForm(std::string_view body,
                                std::initializer_list<std::string_view> known);
  std::vector<std::pair<std::string, std::string>> params_;
};

// Reads `body` as a form: '&'-separated name=value pairs, '+' a space, %XX decoded. An empty
// body is an empty form; an empty pair ("a=1&&b=2") is skipped. InvalidArgument (its message
// safe to show: it names parameters, never quotes values) for a body over kMaxFormBytes, bad
// percent-encoding, a name given twice, or a name not in `known`.
Result<Form> ParseForm(std::string_view body, std::initializer_list<std::string_view> known);

// Client credentials from an Authorization header value "Basic base64(id:secret)", where id and
// secret are each form-encoded (RFC 6749 §2.3.1). nullopt when `header` is not of the Basic
// scheme (case-insensitive); InvalidArgument when it is but is malformed: bad base64, no ':',
// bad percent-encoding.
struct ClientCredentials {
  std::string id;
  std::string secret;
};
Result<std::optional<ClientCredentials>> ParseBasicCredentials(std::string_view header);

}  // namespace keyward
