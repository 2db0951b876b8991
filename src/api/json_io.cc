#include "api/json_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <cctype>
#include <set>
#include <vector>

#include "core/duration.h"

namespace keyward {
namespace {

// boost::json keeps the last of duplicate keys; a second pass with this handler finds them so
// that they can be refused rather than guessed at.
struct DuplicateFinder {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  using ec_t = boost::system::error_code;
  using sv = boost::json::string_view;

  std::vector<std::set<std::string>> objects;
  std::string key;
  bool duplicate = false;

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t&) {
    objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, ec_t&) {
    objects.pop_back();
    return true;
  }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(std::size_t, ec_t&) { return true; }
  bool on_key_part(sv s, std::size_t, ec_t&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(sv s, std::size_t, ec_t&) {
    key.append(s.data(), s.size());
    if (!objects.back().insert(std::move(key)).second) duplicate = true;
    key.clear();
    return true;
  }
  bool on_string_part(sv, std::size_t, ec_t&) { return true; }
  bool on_string(sv, std::size_t, ec_t&) { return true; }
  bool on_number_part(sv, ec_t&) { return true; }
  bool on_int64(std::int64_t, sv, ec_t&) { return true; }
  bool on_uint64(std::uint64_t, sv, ec_t&) { return true; }
  bool on_double(double, sv, ec_t&) { return true; }
  bool on_bool(bool, ec_t&) { return true; }
  bool on_null(ec_t&) { return true; }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }
};

bool HasDuplicateKeys(std::string_view body, const boost::json::parse_options& options) {
  boost::json::basic_parser<DuplicateFinder> parser(options);
  boost::system::error_code ec;
  parser.write_some(false, body.data(), body.size(), ec);
  return ec || parser.handler().duplicate;
}

}  // namespace

boost::json::value TimeOrNull(UnixSeconds t) {
  return t == 0 ? boost::json::value(nullptr) : boost::json::value(FormatRfc3339(t));
}

bool IsJsonMediaType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  return boost::beast::iequals(media, "application/json");
}

Result<boost::json::object> ParseObject(std::string_view content_type, std::string_view body) {
  if (body.empty()) return boost::json::object();
  if (!IsJsonMediaType(content_type)) {
    return Status::InvalidArgument("Content-Type must be application/json");
  }
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec, {}, options);
  if (ec) return Status::InvalidArgument("request body is not valid JSON");
  if (!value.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  if (HasDuplicateKeys(body, options)) {
    return Status::InvalidArgument("request body has a duplicate key");
  }
  boost::json::object& obj = value.as_object();
  return std::move(obj);
}

Status CheckKnownMembers(const boost::json::object& obj,
                         std::initializer_list<std::string_view> known) {
  for (const auto& member : obj) {
    const std::string_view name = member.key();
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    // Echo only a short plain name: no key fits in 32 characters (the shortest is 51), so a key
    // pasted as a member name never comes back in the answer, nor does text of any other shape.
    const bool plain =
        !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
        });
    std::string takes;
    for (std::string_view k : known) takes += fmt::format("{}\"{}\"", takes.empty() ? "" : ", ", k);
    return Status::InvalidArgument(
        fmt::format("unknown field{}: this request takes {}",
                    plain ? fmt::format(" \"{}\"", name) : std::string(),
                    takes.empty() ? std::string("no fields") : "only " + takes));
  }
  return Status::Ok();
}

Result<std::optional<std::string>> OptionalString(const boost::json::object& obj,
                                                  std::string_view name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) {
    return Status::InvalidArgument(fmt::format("\"{}\" must be a string", name));
  }
  const auto& s = it->value().get_string();
  return std::optional<std::string>(std::string(s.data(), s.size()));
}

Result<std::string> RequiredString(const boost::json::object& obj, std::string_view name) {
  KW_ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(obj, name));
  if (!value) return Status::InvalidArgument(fmt::format("\"{}\" is required", name));
  return std::move(*value);
}

Result<std::optional<bool>> OptionalBool(const boost::json::object& body, std::string_view name) {
  const boost::json::value* value = body.if_contains(name);
  if (value == nullptr || value->is_null()) return std::optional<bool>();
  if (!value->is_bool()) {
    return Status::InvalidArgument(fmt::format("\"{}\" must be true or false", name));
  }
  return std::optional<bool>(value->get_bool());
}

Result<std::optional<std::vector<std::string>>> OptionalStringArray(const boost::json::object& obj,
                                                                    std::string_view name,
                                                                    std::size_t max) {
  using Out = std::optional<std::vector<std::string>>;
  auto it = obj.find(name);
  if (it == obj.end() || it->value().is_null()) return Out();
  const auto not_strings = [&] {
    return Status::InvalidArgument(fmt::format("\"{}\" must be an array of strings", name));
  };
  if (!it->value().is_array()) return not_strings();
  const boost::json::array& array = it->value().get_array();
  if (array.size() > max) {
    return Status::InvalidArgument(fmt::format("\"{}\" may hold at most {} entries", name, max));
  }
  std::vector<std::string> out;
  out.reserve(array.size());
  for (const auto& element : array) {
    if (!element.is_string()) return not_strings();
    out.emplace_back(element.get_string().data(), element.get_string().size());
  }
  return Out(std::move(out));
}

boost::json::array StringArray(const std::vector<std::string>& list) {
  boost::json::array out;
  for (const auto& item : list) out.emplace_back(item);
  return out;
}

boost::json::object UserJson(const User& user) {
  boost::json::array tags;
  for (const auto& tag : user.tags) tags.emplace_back(tag);
  return {{"id", user.id},
          {"name", user.name},
          {"type", UserTypeName(user.type)},
          {"tags", std::move(tags)},
          {"created", FormatRfc3339(user.created_at)}};
}

boost::json::object KeyJson(const KeyView& key) {
  boost::json::object out{{"name", key.name},
                          {"type", KeyTypeName(key.type)},
                          {"expiration", FormatRfc3339(key.expires_at)},
                          {"created", FormatRfc3339(key.created_at)},
                          {"token", key.token}};
  if (key.last_used_at > 0) {
    out["last_used"] = FormatRfc3339(key.last_used_at);
  } else {
    out["last_used"] = nullptr;
  }
  out["scopes"] = StringArray(key.grant.scopes);
  if (key.grant.tags) {
    out["tags"] = StringArray(*key.grant.tags);
  } else {
    out["tags"] = nullptr;
  }
  out["allowed_addresses"] = StringArray(key.grant.allowed_addresses);
  out["full_access"] = key.grant.full_access;
  // Issue 15: the key's lifecycle.
  out["description"] = key.description;
  out["disabled"] = key.disabled;
  out["idle_timeout"] = key.idle_timeout > 0 ? boost::json::value(FormatDuration(key.idle_timeout))
                                             : boost::json::value(nullptr);
  out["on_reuse"] = key.revoke_on_reuse ? "revoke" : "keep";
  out["rotated"] = TimeOrNull(key.rotated_at);
  out["status"] = key.status;
  boost::json::array old_secrets;
  for (const KeyView::OldSecretView& old : key.old_secrets) {
    old_secrets.push_back({{"token", old.masked},
                           {"rotated", FormatRfc3339(old.rotated_at)},
                           {"accepted_until", FormatRfc3339(old.accepted_until)},
                           {"last_used", TimeOrNull(old.last_used_at)}});
  }
  out["old_secrets"] = std::move(old_secrets);
  // Issue 16.
  out["rate_limit"] = RateLimitJson(key.rate_limit);
  out["last_address"] =
      key.last_address.empty() ? boost::json::value(nullptr) : boost::json::value(key.last_address);
  out["canary"] = key.canary;  // issue 17
  return out;
}

boost::json::value RateLimitJson(const RateLimit& limit) {
  if (!limit.enabled()) return nullptr;
  return boost::json::object{{"requests", limit.requests}, {"per", FormatDuration(limit.per)}};
}

Result<std::optional<RateLimitSpec>> OptionalRateLimit(const boost::json::object& obj,
                                                       std::string_view name) {
  using Out = std::optional<RateLimitSpec>;
  const boost::json::value* value = obj.if_contains(name);
  if (value == nullptr) return Out();
  if (value->is_null()) return Out(RateLimitSpec{});
  if (!value->is_object()) {
    return Status::InvalidArgument(
        fmt::format(R"("{}" must be an object {{"requests": 10, "per": "1s"}} or null)", name));
  }
  const boost::json::object& limit = value->get_object();
  if (Status known = CheckKnownMembers(limit, {"requests", "per"}); !known.ok()) {
    return Status::InvalidArgument(fmt::format("\"{}\": {}", name, known.message()));
  }
  const boost::json::value* requests = limit.if_contains("requests");
  if (requests == nullptr || requests->is_null()) {
    return Status::InvalidArgument(fmt::format("\"{}.requests\" is required", name));
  }
  std::int64_t count = 0;
  if (requests->is_int64()) {
    count = requests->get_int64();
  } else if (requests->is_uint64()) {
    count = kMaxRateRequests + 1;  // over any limit
  } else {
    return Status::InvalidArgument(fmt::format("\"{}.requests\" must be a whole number", name));
  }
  if (count < 1 || count > kMaxRateRequests) {
    return Status::InvalidArgument(
        fmt::format("\"{}.requests\" must be 1…{}", name, kMaxRateRequests));
  }
  const boost::json::value* per = limit.if_contains("per");
  if (per == nullptr || per->is_null()) {
    return Status::InvalidArgument(fmt::format("\"{}.per\" is required", name));
  }
  if (!per->is_string()) {
    return Status::InvalidArgument(
        fmt::format("\"{}.per\" must be a duration such as \"1s\" or \"1m\"", name));
  }
  return Out(RateLimitSpec{.requests = count, .per = std::string(per->get_string())});
}

boost::json::object AuditEventJson(const AuditEvent& event) {
  return {{"id", event.id},           {"time", FormatRfc3339(event.time)},
          {"actor", event.actor},     {"action", AuditActionName(event.action)},
          {"user", event.user},       {"target", event.target},
          {"address", event.address}, {"outcome", AuditOutcomeName(event.success)},
          {"reason", event.reason},   {"detail", event.detail}};
}

}  // namespace keyward
