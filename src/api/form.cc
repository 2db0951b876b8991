#include "api/form.h"

#include <sodium.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/pct_string_view.hpp>
#include <cctype>

#include "token/jwt.h"

namespace keyward {
namespace {

// True when `name` holds '_' followed by 20 or more letters and digits: the shape of an API key
// ("kw_" + base62) or another prefixed secret.
bool HasSecretTail(std::string_view name) {
  std::size_t run = 0;
  bool after_underscore = false;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      if (after_underscore && ++run >= 20) return true;
    } else {
      after_underscore = c == '_';
      run = 0;
    }
  }
  return false;
}

// A name safe to quote in an error: at most 32 characters of those parameter names use, and
// not shaped like a secret (a client that posts a bare key must not get it echoed into a log).
// Empty when the name is not safe to show.
std::string Quoted(std::string_view name) {
  const bool plain = name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
                              c == '-' || c == '.' || c == ':';
                     });
  if (!plain || HasSecretTail(name) || token::LooksLikeJwt(name)) return {};
  std::string quoted;  // appended, not "\"" + name + "\"", which g++ 12 -O2 -Wrestrict misreads
  quoted.reserve(name.size() + 2);
  quoted.append(1, '"').append(name).append(1, '"');
  return quoted;
}

// Form decoding: %XX, and '+' is a space. nullopt for bad percent-encoding.
std::optional<std::string> FormDecode(std::string_view text) {
  auto pct = boost::urls::make_pct_string_view(text);
  if (!pct) return std::nullopt;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  return pct->decode(opts);
}

}  // namespace

bool IsFormMediaType(std::string_view content_type) {
  const std::string_view type = content_type.substr(0, content_type.find(';'));
  const auto first = type.find_first_not_of(" \t");
  if (first == std::string_view::npos) return false;
  const auto last = type.find_last_not_of(" \t");
  return boost::beast::iequals(type.substr(first, last - first + 1),
                               "application/x-www-form-urlencoded");
}

std::optional<std::string_view> Form::Get(std::string_view name) const {
  for (const auto& [key, value] : params_) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

Result<Form> ParseForm(std::string_view body, std::initializer_list<std::string_view> known) {
  if (body.size() > kMaxFormBytes) {
    return Status::InvalidArgument("the request body is larger than 16 KiB");
  }
  Form form;
  if (body.empty()) return form;
  auto query = boost::urls::parse_query(body);
  if (!query) return Status::InvalidArgument("the body is not a valid form (bad %-encoding)");
  for (auto param : *query) {
    if (param.key.empty() && !param.has_value) continue;  // "a=1&&b=2"
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;
    std::string name = param.key.decode(opts);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const std::string quoted = Quoted(name);
      return Status::InvalidArgument(quoted.empty()
                                         ? "the body has an unknown parameter"
                                         : quoted + " is not a parameter of this endpoint");
    }
    if (form.Has(name)) {
      return Status::InvalidArgument("parameter " + Quoted(name) + " is given more than once");
    }
    std::string value = param.has_value ? param.value.decode(opts) : std::string();
    form.params_.emplace_back(std::move(name), std::move(value));
  }
  return form;
}

Result<std::optional<ClientCredentials>> ParseBasicCredentials(std::string_view header) {
  const auto space = header.find(' ');
  if (space == std::string_view::npos || !boost::beast::iequals(header.substr(0, space), "Basic")) {
    return std::optional<ClientCredentials>();
  }
  std::string_view encoded = header.substr(space + 1);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  std::string decoded(encoded.size(), '\0');
  std::size_t len = 0;
  if (encoded.empty() || sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()),
                                           decoded.size(), encoded.data(), encoded.size(), nullptr,
                                           &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Status::InvalidArgument("the Basic credentials are not valid base64");
  }
  decoded.resize(len);
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("the Basic credentials are not client_id:client_secret");
  }
  auto id = FormDecode(std::string_view(decoded).substr(0, colon));
  auto secret = FormDecode(std::string_view(decoded).substr(colon + 1));
  if (!id || !secret) {
    return Status::InvalidArgument("the Basic credentials have bad %-encoding");
  }
  return std::optional<ClientCredentials>(ClientCredentials{std::move(*id), std::move(*secret)});
}

}  // namespace keyward
