// Fuzz target: JSON request bodies (api/json_io.h) and the request shapes the routes read.
//
// The input is "<Content-Type>\n<body>" (without a newline: the type is application/json and
// the whole input is the body). Checked:
//   - ParseObject accepts exactly the bodies boost::json accepts as an object (same depth
//     limit) under a JSON media type, minus those with duplicate keys, and returns that object;
//     an accepted object serialises to a body ParseObject accepts again, unchanged (but for
//     doubles within an ulp, and objects holding a number too large for a double);
//   - every route's shape (login, authorize, users, tags, apikeys) is read from it as routes.cc
//     does: OptionalString and RequiredString agree with the object's members;
//   - the fields then go through the validators the services apply; a valid user, key name or
//     tag and any string the body held come back unchanged through UserJson, KeyJson and
//     ErrorBody after serialising and parsing; validators' messages are printable and
//     ValidatePassword's never repeats the password.
#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/json_io.h"
#include "core/duration.h"
#include "core/key_record.h"
#include "core/password.h"
#include "core/user.h"
#include "fuzz/fuzz_check.h"
#include "http/error_response.h"

namespace keyward {
namespace {

namespace json = boost::json;

// Equal, but for doubles, which may move by an ulp: boost::json's default number parsing is
// not correctly rounded, so a parsed double does not always survive serialise and parse; and
// it reads 0e400 as NaN, which equals nothing.
bool SameJson(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);  // 0e400 is NaN
    return x == y || std::fabs(x - y) <= 1e-15 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.is_object() && b.is_object()) {
    const json::object &p = a.get_object(), &q = b.get_object();
    if (p.size() != q.size()) return false;
    for (const auto& [key, value] : p) {
      const json::value* other = q.if_contains(key);
      if (other == nullptr || !SameJson(value, *other)) return false;
    }
    return true;
  }
  if (a.is_array() && b.is_array()) {
    const json::array &p = a.get_array(), &q = b.get_array();
    if (p.size() != q.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (!SameJson(p[i], q[i])) return false;
    }
    return true;
  }
  return a == b;
}

// boost::json reads 1e400 as infinity (0e400 as NaN) and writes "Infinity", which is not JSON.
bool HasNonFinite(const json::value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (v.is_object()) {
    for (const auto& member : v.get_object()) {
      if (HasNonFinite(member.value())) return true;
    }
  }
  if (v.is_array()) {
    for (const auto& element : v.get_array()) {
      if (HasNonFinite(element)) return true;
    }
  }
  return false;
}

json::value Reparse(const json::value& value) {
  boost::system::error_code ec;
  json::value back = json::parse(json::serialize(value), ec);
  FUZZ_CHECK(!ec);
  return back;
}

// OptionalString as the routes use it, checked against the member itself.
std::optional<std::string> Optional(const json::object& obj, std::string_view name) {
  auto got = OptionalString(obj, name);
  auto required = RequiredString(obj, name);
  const json::value* member = obj.if_contains(name);
  if (member == nullptr || member->is_null()) {
    FUZZ_CHECK(got.ok() && !got->has_value());
    FUZZ_CHECK(!required.ok() && required.status().code() == StatusCode::kInvalidArgument);
    return std::nullopt;
  }
  if (!member->is_string()) {
    FUZZ_CHECK(!got.ok() && got.status().code() == StatusCode::kInvalidArgument);
    FUZZ_CHECK(!required.ok());
    return std::nullopt;
  }
  const json::string& s = member->get_string();
  FUZZ_CHECK(got.ok() && got->has_value() && **got == std::string_view(s.data(), s.size()));
  FUZZ_CHECK(required.ok() && *required == **got);
  return *got;
}

// A message for a client or a log: printable, whatever the input.
void CheckMessage(const Status& status) {
  if (!status.ok()) FUZZ_CHECK(IsPrintableUtf8(status.message()));
}

// `secret` with every letter and digit replaced by another of its kind: same length, same
// character classes, different text.
std::string Rotated(std::string secret) {
  for (char& c : secret) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>('a' + (c - 'a' + 1) % 26);
    if (c >= 'A' && c <= 'Z') c = static_cast<char>('A' + (c - 'A' + 1) % 26);
    if (c >= '0' && c <= '9') c = static_cast<char>('0' + (c - '0' + 1) % 10);
  }
  return secret;
}

// ValidatePassword's message never repeats the password: when it contains it, that is a
// fixed text that happens to (the same for a rotated password).
void CheckPasswordNotEchoed(const std::string& password) {
  const Status status = ValidatePassword(password);
  CheckMessage(status);
  if (status.ok() || status.message().find(password) == std::string::npos) return;
  FUZZ_CHECK(ValidatePassword(Rotated(password)).message() == status.message());
}

// Any string the body held survives ErrorBody and serialisation.
void CheckErrorBody(const std::optional<std::string>& text) {
  if (!text) return;
  json::value back = Reparse(http::ErrorBody("invalid_argument", *text));
  FUZZ_CHECK(back.at("error").at("message").as_string() == *text);
}

void CheckLogin(const json::object& body) {
  auto username = Optional(body, "username");
  auto password = Optional(body, "password");
  if (username) CheckMessage(ValidateUserId(*username));
  if (password) CheckPasswordNotEchoed(*password);
}

void CheckAuthorize(const json::object& body) { CheckErrorBody(Optional(body, "token")); }

void CheckCreateUser(const json::object& body) {
  auto id = Optional(body, "id");
  auto name = Optional(body, "name");
  auto type = Optional(body, "type");
  auto password = Optional(body, "password");
  if (password) CheckPasswordNotEchoed(*password);
  if (!id || !name) return;
  Status id_ok = ValidateUserId(*id);
  Status name_ok = ValidateUserName(*name);
  CheckMessage(id_ok);
  CheckMessage(name_ok);
  auto parsed_type = ParseUserType(type.value_or("person"));
  if (!id_ok.ok() || !name_ok.ok() || !parsed_type) return;
  FUZZ_CHECK(IsPrintableUtf8(*name));
  User user;
  user.id = *id;
  user.name = *name;
  user.type = *parsed_type;
  user.tags = {std::string(kOperatorTag)};
  json::value back = Reparse(UserJson(user));
  FUZZ_CHECK(back.at("id").as_string() == *id);
  FUZZ_CHECK(back.at("name").as_string() == *name);
  FUZZ_CHECK(back.at("type").as_string() == UserTypeName(*parsed_type));
  FUZZ_CHECK(ParseUserType(UserTypeName(*parsed_type)) == parsed_type);
}

void CheckAddTag(const json::object& body) {
  auto tag = Optional(body, "tag");
  if (!tag || !ValidateTag(*tag).ok()) return;
  FUZZ_CHECK(!tag->empty() && tag->size() <= 128);
  FUZZ_CHECK(tag->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789:._-") == std::string::npos);
}

void CheckCreateKey(const json::object& body) {
  auto name = Optional(body, "name");
  auto duration = Optional(body, "duration");
  if (duration) {
    auto seconds = ParseDuration(*duration);
    if (!seconds.ok()) CheckMessage(seconds.status());
  }
  CheckErrorBody(duration);
  if (!name) return;
  Status name_ok = ValidateKeyName(*name);
  CheckMessage(name_ok);
  if (!name_ok.ok()) return;
  FUZZ_CHECK(!name->empty() && name->size() <= 128 && name->find('/') == std::string::npos);
  FUZZ_CHECK(IsPrintableUtf8(*name));
  KeyView key;
  key.name = *name;
  key.token = "kw_AbCd…9xYz";
  json::value back = Reparse(KeyJson(key));
  FUZZ_CHECK(back.at("name").as_string() == *name);
  FUZZ_CHECK(back.at("last_used").is_null());
}

}  // namespace
}  // namespace keyward

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view content_type =
      newline == input.npos ? "application/json" : input.substr(0, newline);
  const std::string_view body = newline == input.npos ? input : input.substr(newline + 1);

  auto parsed = ParseObject(content_type, body);
  if (body.empty()) {
    FUZZ_CHECK(parsed.ok() && parsed->empty());
    return 0;
  }
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  json::parse_options options;
  options.max_depth = 32;
  boost::system::error_code ec;
  const json::value reference = json::parse(body, ec, {}, options);
  const bool could_be_ok =
      boost::beast::iequals(media, "application/json") && !ec && reference.is_object();
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    // A body boost::json takes as an object is refused only for a duplicate key.
    if (could_be_ok) FUZZ_CHECK(parsed.status().message() == "request body has a duplicate key");
    return 0;
  }
  FUZZ_CHECK(could_be_ok);
  FUZZ_CHECK(SameJson(*parsed, reference));
  if (!HasNonFinite(*parsed)) {
    auto again = ParseObject("application/json", json::serialize(*parsed));
    FUZZ_CHECK(again.ok() && SameJson(*again, *parsed));
  }

  CheckLogin(*parsed);
  CheckAuthorize(*parsed);
  CheckCreateUser(*parsed);
  CheckAddTag(*parsed);
  CheckCreateKey(*parsed);
  return 0;
}
