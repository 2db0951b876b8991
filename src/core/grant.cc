#include "core/grant.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <charconv>

#include "core/user.h"

namespace keyward {
namespace {

bool IsScopeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '.' || c == '_' ||
         c == '-';
}

// Text safe to echo in an error: short entries as they are, longer ones cut.
std::string Quote(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out(text.substr(0, kMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return "'" + out + (text.size() > kMax ? "…'" : "'");
}

void SortUnique(std::vector<std::string>& list) {
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
}

Status CheckCount(std::size_t count, std::string_view what) {
  if (count <= kMaxGrantEntries) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " may hold at most " +
                                 std::to_string(kMaxGrantEntries) + " entries");
}

bool Contains(const std::vector<std::string>& sorted, std::string_view item) {
  return std::binary_search(sorted.begin(), sorted.end(), item, std::less<>());
}

// The address as 16 bytes (IPv4 in the first 4) and whether it is IPv4; IPv4-mapped IPv6
// addresses count as IPv4.
std::optional<std::pair<bool, std::array<unsigned char, 16>>> ParseAddress(std::string_view text) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(text, ec);
  if (ec) return std::nullopt;
  std::array<unsigned char, 16> bytes{};
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  if (address.is_v4()) {
    auto v4 = address.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), bytes.begin());
    return std::make_pair(true, bytes);
  }
  auto v6 = address.to_v6();
  if (v6.scope_id() != 0) return std::nullopt;  // "fe80::1%eth0" names no network
  bytes = v6.to_bytes();
  return std::make_pair(false, bytes);
}

// True when the first `prefix` bits of `a` and `b` are equal.
bool SamePrefix(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& b,
                int prefix) {
  int i = 0;
  for (; prefix >= 8; prefix -= 8, ++i) {
    if (a[i] != b[i]) return false;
  }
  if (prefix == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - prefix));
  return (a[i] & mask) == (b[i] & mask);
}

}  // namespace

bool IsKeywardScope(std::string_view scope) {
  return std::find(kKeywardScopes.begin(), kKeywardScopes.end(), scope) != kKeywardScopes.end();
}

bool NeedsOperator(std::string_view scope) {
  return scope == scope::kUsersRead || scope == scope::kUsersWrite ||
         scope == scope::kWebhooksRead || scope == scope::kWebhooksWrite ||
         scope == scope::kUsageRead;
}

Status ValidateScope(std::string_view scope) {
  if (scope.empty() || scope.size() > 64 || !std::all_of(scope.begin(), scope.end(), IsScopeChar)) {
    return Status::InvalidArgument("scope " + Quote(scope) +
                                   " must be 1-64 characters of a-z, 0-9, ':', '.', '_' or '-'");
  }
  const bool keyward_namespace = scope == "authorize" || scope.starts_with("keys:") ||
                                 scope.starts_with("users:") || scope.starts_with("audit:") ||
                                 scope.starts_with("tokens:") || scope.starts_with("webhooks:") ||
                                 scope.starts_with("usage:");
  if (keyward_namespace && !IsKeywardScope(scope)) {
    std::string known;
    for (auto s : kKeywardScopes) known += (known.empty() ? "" : ", ") + std::string(s);
    return Status::InvalidArgument("scope " + Quote(scope) +
                                   " is not one of Keyward's scopes: " + known);
  }
  return Status::Ok();
}

bool Grant::HasScope(std::string_view scope) const {
  return full_access || Contains(scopes, scope);
}

Grant FullAccess() {
  Grant grant;
  grant.full_access = true;
  return grant;
}

Result<Grant> NormalizeGrant(Grant grant) {
  if (grant.full_access) return FullAccess();
  KW_RETURN_IF_ERROR(CheckCount(grant.scopes.size(), "scopes"));
  for (const auto& scope : grant.scopes) KW_RETURN_IF_ERROR(ValidateScope(scope));
  SortUnique(grant.scopes);
  if (grant.tags) {
    KW_RETURN_IF_ERROR(CheckCount(grant.tags->size(), "tags"));
    for (const auto& tag : *grant.tags) {
      if (Status valid = ValidateTag(tag); !valid.ok()) {
        return Status::InvalidArgument("tag " + Quote(tag) + ": " + valid.message());
      }
    }
    SortUnique(*grant.tags);
  }
  KW_RETURN_IF_ERROR(CheckCount(grant.allowed_addresses.size(), "allowed_addresses"));
  for (auto& text : grant.allowed_addresses) {
    KW_ASSIGN_OR_RETURN(Cidr cidr, Cidr::Parse(text));
    text = cidr.ToString();
  }
  SortUnique(grant.allowed_addresses);
  return grant;
}

std::vector<std::string> EffectiveTags(const Grant& grant,
                                       const std::vector<std::string>& owner_tags) {
  if (grant.full_access || !grant.tags) return owner_tags;
  std::vector<std::string> out;
  for (const auto& tag : owner_tags) {
    if (Contains(*grant.tags, tag)) out.push_back(tag);
  }
  return out;
}

Status CheckWithin(const Grant& child, const Grant& parent, std::string_view whose) {
  if (parent.full_access) return Status::Ok();
  auto exceeds = [&](const std::string& what) {
    return Status::PermissionDenied(what + " is not in " + std::string(whose) + "'s grant");
  };
  if (child.full_access) return exceeds("full access");
  for (const auto& scope : child.scopes) {
    if (!Contains(parent.scopes, scope)) return exceeds("scope " + scope);
  }
  if (parent.tags) {
    if (!child.tags) return exceeds("all of the owner's tags");
    for (const auto& tag : *child.tags) {
      if (!Contains(*parent.tags, tag)) return exceeds("tag " + tag);
    }
  }
  if (!parent.allowed_addresses.empty()) {
    if (child.allowed_addresses.empty()) return exceeds("use from any address");
    KW_ASSIGN_OR_RETURN(std::vector<Cidr> outer, ParseNetworks(parent.allowed_addresses));
    for (const auto& text : child.allowed_addresses) {
      KW_ASSIGN_OR_RETURN(Cidr inner, Cidr::Parse(text));
      const bool covered =
          std::any_of(outer.begin(), outer.end(), [&](const Cidr& o) { return o.Covers(inner); });
      if (!covered) return exceeds("address range " + text);
    }
  }
  return Status::Ok();
}

std::string DescribeGrant(const Grant& grant) {
  if (grant.full_access) return "full-access";
  std::string out = "scopes=" + JoinTags(grant.scopes);
  out += " tags=" + (grant.tags ? JoinTags(*grant.tags) : std::string("*"));
  if (!grant.allowed_addresses.empty()) out += " from=" + JoinTags(grant.allowed_addresses);
  return out;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument("address range " + Quote(text) + " " + std::string(why));
  };
  const auto slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  // make_address accepts forms a CIDR should not have ("1.2.3" is not refused by every libc,
  // scope ids): require dotted quads or a colon form.
  const bool v4_text = address_text.find(':') == std::string_view::npos;
  if (v4_text && std::count(address_text.begin(), address_text.end(), '.') != 3) {
    return invalid("is not an IPv4 or IPv6 address or CIDR (such as 10.0.0.0/8 or 2001:db8::/32)");
  }
  auto parsed = ParseAddress(address_text);
  if (!parsed || (v4_text != parsed->first)) {
    return invalid("is not an IPv4 or IPv6 address or CIDR (such as 10.0.0.0/8 or 2001:db8::/32)");
  }
  Cidr out;
  out.v4_ = parsed->first;
  out.bytes_ = parsed->second;
  const int width = out.v4_ ? 32 : 128;
  out.prefix_ = width;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || digits.size() > 3 || ec != std::errc() ||
        end != digits.data() + digits.size() || prefix < 0 || prefix > width) {
      return invalid("has a prefix length outside 0-" + std::to_string(width));
    }
    out.prefix_ = prefix;
  }
  std::array<unsigned char, 16> network{};
  for (int bit = 0; bit < out.prefix_; ++bit) {
    network[bit / 8] |= out.bytes_[bit / 8] & (0x80 >> (bit % 8));
  }
  if (network != out.bytes_) {
    Cidr suggestion = out;
    suggestion.bytes_ = network;
    return invalid("has host bits set; did you mean " + suggestion.ToString() + "?");
  }
  return out;
}

bool Cidr::Contains(std::string_view address) const {
  auto parsed = ParseAddress(address);
  return parsed && parsed->first == v4_ && SamePrefix(parsed->second, bytes_, prefix_);
}

bool Cidr::Covers(const Cidr& inner) const {
  return inner.v4_ == v4_ && inner.prefix_ >= prefix_ && SamePrefix(inner.bytes_, bytes_, prefix_);
}

std::string Cidr::ToString() const {
  std::string address;
  if (v4_) {
    boost::asio::ip::address_v4::bytes_type v4{};
    std::copy(bytes_.begin(), bytes_.begin() + 4, v4.begin());
    address = boost::asio::ip::address_v4(v4).to_string();
  } else {
    address = boost::asio::ip::address_v6(bytes_).to_string();
  }
  return address + "/" + std::to_string(prefix_);
}

bool IsIpAddress(std::string_view text) {
  const bool dotted = text.find(':') == std::string_view::npos;
  if (dotted && std::count(text.begin(), text.end(), '.') != 3) return false;
  return ParseAddress(text).has_value();
}

bool AddressAllowed(const std::vector<Cidr>& allowed, std::string_view address) {
  if (allowed.empty()) return true;
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const Cidr& c) { return c.Contains(address); });
}

Result<std::vector<Cidr>> ParseNetworks(const std::vector<std::string>& cidrs) {
  std::vector<Cidr> out;
  out.reserve(cidrs.size());
  for (const auto& text : cidrs) {
    KW_ASSIGN_OR_RETURN(Cidr cidr, Cidr::Parse(text));
    out.push_back(cidr);
  }
  return out;
}

}  // namespace keyward
