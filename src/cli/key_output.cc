#include "cli/key_output.h"

#include <algorithm>
#include <boost/json.hpp>

#include "core/duration.h"
#include "core/grant.h"
#include "core/usage.h"

namespace keyward {
namespace {

namespace json = boost::json;

constexpr std::string_view kFullAccess = "full access (created before scopes)";

bool FullAccess(const json::value& key) {
  const json::value* field = JsonMember(key, "full_access");
  return field != nullptr && field->is_bool() && field->as_bool();
}

// The strings of an array member joined by ", "; `empty` when it has none.
std::string List(const json::value& key, std::string_view member, std::string_view empty) {
  std::string out;
  const json::value* field = JsonMember(key, member);
  if (field != nullptr && field->is_array()) {
    for (const json::value& item : field->as_array()) {
      if (!item.is_string()) continue;
      if (!out.empty()) out += ", ";
      out += std::string(item.as_string());
    }
  }
  return out.empty() ? std::string(empty) : out;
}

// The latest "accepted_until" of the key's old secrets; "" when it lists none.
std::string LastAccepted(const json::value& key) {
  std::string last;
  const json::value* old = JsonMember(key, "old_secrets");
  if (old == nullptr || !old->is_array()) return last;
  // RFC 3339 times in UTC ("…Z") of one format order as text.
  for (const json::value& secret : old->as_array()) {
    last = std::max(last, StringMember(secret, "accepted_until"));
  }
  return last;
}

std::vector<std::string> Row(const json::value& key) {
  // Issue 17: a canary key's TYPE is "canary".
  const json::value* canary = JsonMember(key, "canary");
  const bool is_canary = canary != nullptr && canary->is_bool() && canary->as_bool();
  return {StringMember(key, "token"), is_canary ? "canary" : StringMember(key, "type"),
          StringMember(key, "expiration"), StringMember(key, "name") + KeyStatusSuffix(key)};
}

// "10/1s" of {"rate_limit": {"requests": 10, "per": "1s"}}; "none" when null or absent.
std::string RateLimitCell(const json::value& key) {
  const json::value* limit = JsonMember(key, "rate_limit");
  if (limit == nullptr || !limit->is_object()) return "none";
  return JsonCell(*limit, "requests") + "/" + JsonCell(*limit, "per");
}

std::vector<std::string> WideRow(const json::value& key) {
  std::vector<std::string> row = Row(key);
  const json::value* tags = JsonMember(key, "tags");
  if (FullAccess(key)) {
    row.insert(row.end(), {std::string(kFullAccess), "all (live)", "anywhere"});
  } else {
    row.push_back(List(key, "scopes", "none"));
    row.push_back(tags == nullptr || tags->is_null() ? "all (live)" : List(key, "tags", "none"));
    row.push_back(List(key, "allowed_addresses", "anywhere"));
  }
  const json::value* last_used = JsonMember(key, "last_used");
  row.push_back(StringMember(key, "created"));
  row.push_back(last_used == nullptr || last_used->is_null() ? "never"
                                                             : StringMember(key, "last_used"));
  row.push_back(RateLimitCell(key));
  return row;
}

// `keys` as a list: an array's items, or the one object.
std::vector<const json::value*> Items(const json::value& keys) {
  std::vector<const json::value*> items;
  if (keys.is_array()) {
    for (const json::value& key : keys.as_array()) items.push_back(&key);
  } else {
    items.push_back(&keys);
  }
  return items;
}

std::string Trimmed(std::string_view text) {
  auto begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  auto end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

// The entries of a flag as a JSON array, trimmed, empty ones dropped.
json::array Entries(const std::vector<std::string>& given) {
  json::array out;
  for (const std::string& entry : given) {
    std::string text = Trimmed(entry);
    if (!text.empty()) out.emplace_back(text);
  }
  return out;
}

}  // namespace

std::string KeyStatusSuffix(const json::value& key) {
  const std::string status = StringMember(key, "status");
  if (status.empty() || status == "active") return "";
  if (status == "rotating") {
    const std::string until = LastAccepted(key);
    return until.empty() ? " (rotating)" : " (rotating until " + until + ")";
  }
  return " (" + status + ")";
}

Result<json::object> KeyUpdateBody(const KeyEditFlags& edit) {
  json::object body;
  if (edit.rename) body["name"] = *edit.rename;
  if (edit.expires) body["expiration"] = *edit.expires;
  if (edit.lifecycle.description) body["description"] = *edit.lifecycle.description;
  if (edit.lifecycle.idle_timeout) body["idle_timeout"] = *edit.lifecycle.idle_timeout;
  if (edit.lifecycle.on_reuse) body["on_reuse"] = *edit.lifecycle.on_reuse;
  if (edit.lifecycle.rate_limit) {
    KW_ASSIGN_OR_RETURN(body["rate_limit"], RateLimitBody(*edit.lifecycle.rate_limit));
  }
  if (body.empty()) {
    return Status::InvalidArgument(
        "nothing to change: give --rename, --expires, --description, --idle-timeout, "
        "--on-reuse or --rate-limit");
  }
  return body;
}

Result<json::value> RateLimitBody(std::string_view text) {
  if (text == "off") return json::value(nullptr);
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("--rate-limit: \"" + std::string(text) + "\" " +
                                   std::string(why) +
                                   "; give N/DURATION such as 10/1s, 600/1m or 5000/1h, or off");
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("has no '/'");
  const std::string_view count = text.substr(0, slash);
  if (count.empty() || count.size() > 10 ||
      count.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad("does not start with a number of requests");
  }
  const std::int64_t requests = std::stoll(std::string(count));
  if (requests < 1 || requests > kMaxRateRequests) {
    return bad("asks for a number of requests outside 1…" + std::to_string(kMaxRateRequests));
  }
  Result<std::int64_t> per = ParseDuration(text.substr(slash + 1));
  if (!per.ok()) return bad("has no duration such as 1s, 1m or 1h after the '/'");
  if (*per > kMaxRatePeriod) return bad("has a period longer than 24h");
  return json::value{{"requests", requests}, {"per", FormatDuration(*per)}};
}

bool IsZeroDuration(std::string_view text) {
  // "0", "00", "0s", "0m", "0h", "0d": zeros, then at most one unit.
  std::size_t zeros = text.find_first_not_of('0');
  if (zeros == 0 || text.empty()) return false;
  if (zeros == std::string_view::npos) return true;
  return zeros == text.size() - 1 &&
         std::string_view("smhd").find(text.back()) != std::string::npos;
}

Status CheckDurationFlag(std::string_view flag, const std::string& text, bool zero_allowed) {
  if (zero_allowed && IsZeroDuration(text)) return Status::Ok();
  Result<std::int64_t> seconds = ParseDuration(text);
  if (!seconds.ok()) {
    return Status::InvalidArgument(std::string(flag) + ": " + seconds.status().message());
  }
  return Status::Ok();
}

std::string RotationNote(const json::value& key, bool zero_grace) {
  // The secret this rotation replaced: the old secret rotated when the key was. Older old
  // secrets, still in their own grace, are listed too (and may have been rotated in the same
  // second, hence `zero_grace`).
  const std::string rotated = StringMember(key, "rotated");
  const json::value* old = JsonMember(key, "old_secrets");
  if (!zero_grace && old != nullptr && old->is_array() && !rotated.empty()) {
    for (const json::value& secret : old->as_array()) {
      if (StringMember(secret, "rotated") != rotated) continue;
      return InfoLine("the old secret " + StringMember(secret, "token") + " is accepted until " +
                      StringMember(secret, "accepted_until")) +
             "\n";
    }
  }
  return InfoLine("the old secret is no longer accepted") + "\n";
}

std::string_view ScopeMeaning(std::string_view scope) {
  if (scope == scope::kKeysRead) return "list the owner's keys, masked";
  if (scope == scope::kKeysWrite)
    return "create, rotate, change and delete the owner's keys (none broader than this)";
  if (scope == scope::kKeysReveal)
    return "show the owner's keys in full (those no broader than this)";
  if (scope == scope::kUsersRead) return "read users (the owner must be an operator)";
  if (scope == scope::kUsersWrite)
    return "create, delete and tag users (the owner must be an operator)";
  if (scope == scope::kAuditRead) return "read the audit log";
  if (scope == scope::kAuthorize) return "check other keys: POST /api/v1/authorize (for services)";
  if (scope == scope::kTokensIssue) return "issue tokens";
  if (scope == scope::kWebhooksRead)
    return "list webhooks and their deliveries (the owner must be an operator)";
  if (scope == scope::kWebhooksWrite)
    return "add, delete and test webhooks (the owner must be an operator)";
  if (scope == scope::kUsageRead) return "see every key's usage (the owner must be an operator)";
  return "";
}

std::string ScopeHelp() {
  std::string help =
      "A key can do only what it is given. Default: no scopes — the key then only proves who\n"
      "it belongs to (to gateways' /auth and GET /api/v1/users/me), and cannot list, create or\n"
      "reveal keys. Keyward's own scopes:\n";
  for (std::string_view scope : kKeywardScopes) {
    std::string name(scope);
    name.resize(16, ' ');
    help += "  " + name + std::string(ScopeMeaning(scope)) + "\n";
  }
  help +=
      "Any other scope, such as minerva:query, belongs to a service: Keyward keeps it and the\n"
      "gateway in front of the service requires it. Give a driver's key only what it needs:\n"
      "  keyward user apikey create -n presto-driver -s minerva:query\n"
      "Tags left out: the key presents all of the owner's tags, live (a tag later removed from\n"
      "the owner leaves the key too). A key made with a key (KEYWARD_APIKEY) never gets more\n"
      "than that key has.";
  return help;
}

void AddGrantFlags(CLI::App* cmd, GrantFlags& flags) {
  cmd->add_option("-s,--scope", flags.scopes,
                  "a scope the key gets; repeat the flag or separate with commas "
                  "(default: no scopes; see the list below)")
      ->type_name("SCOPE")
      ->delimiter(',');
  cmd->add_option("--tag", flags.tags,
                  "one of the owner's tags the key presents; repeat or separate with commas "
                  "(default: all of the owner's tags, live)")
      ->type_name("TAG")
      ->delimiter(',');
  cmd->add_option("--allow-from", flags.allowed_from,
                  "a network the key may be used from, such as 10.0.0.0/8, 2001:db8::/32 or one "
                  "address; repeat or separate with commas (default: anywhere)")
      ->type_name("CIDR")
      ->delimiter(',');
  cmd->footer(ScopeHelp());
}

json::object KeyCreateBody(const std::string& name, const std::string& duration,
                           const GrantFlags& grant, const KeyLifecycleFlags& lifecycle) {
  json::object body;
  if (lifecycle.description) body["description"] = *lifecycle.description;
  if (lifecycle.idle_timeout) body["idle_timeout"] = *lifecycle.idle_timeout;
  if (lifecycle.on_reuse) body["on_reuse"] = *lifecycle.on_reuse;
  if (lifecycle.rate_limit) {
    Result<json::value> limit = RateLimitBody(*lifecycle.rate_limit);
    if (limit.ok() && !limit->is_null()) body["rate_limit"] = *limit;
  }
  if (!name.empty()) body["name"] = name;
  if (!duration.empty()) body["duration"] = duration;
  const std::pair<const char*, const std::vector<std::string>*> lists[] = {
      {"scopes", &grant.scopes}, {"tags", &grant.tags}, {"allowed_addresses", &grant.allowed_from}};
  for (const auto& [member, given] : lists) {
    if (!given->empty()) body[member] = Entries(*given);
  }
  return body;
}

std::string RenderKeys(const json::value& keys, OutputFormat format) {
  if (format == OutputFormat::kJson) return RenderJson(keys);
  if (format == OutputFormat::kYaml) return RenderYaml(keys);
  bool wide = format == OutputFormat::kWide;
  std::vector<std::vector<std::string>> rows;
  for (const json::value* key : Items(keys)) rows.push_back(wide ? WideRow(*key) : Row(*key));
  std::vector<std::string> headers = {"TOKEN", "TYPE", "EXPIRATION", "NAME"};
  if (wide) {
    headers.insert(headers.end(),
                   {"SCOPES", "TAGS", "ALLOWED FROM", "CREATED", "LAST USED", "RATE LIMIT"});
  }
  return RenderTable(headers, rows);
}

std::string FullAccessNote(const json::value& keys) {
  std::string names;
  for (const json::value* key : Items(keys)) {
    if (!FullAccess(*key)) continue;
    if (!names.empty()) names += ", ";
    names += StringMember(*key, "name");
  }
  if (names.empty()) return "";
  return WarnLine(std::string(kFullAccess) + ": " + names +
                  ". Such a key can do everything its owner can; replace it with a key that has "
                  "only the scopes it needs (keyward user apikey create -s SCOPE), then delete "
                  "it.") +
         "\n";
}

}  // namespace keyward
