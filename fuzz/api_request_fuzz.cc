// Fuzz target: one whole HTTP request through ApiHandler (forward auth, health, metrics, the
// web UI, the router and every /api/v1 route) to the real services on a temporary SQLite store
// (api_harness.h).
//
// The input is an HTTP/1.x request as a client writes it, read by Beast's parser with the
// transport's limits (inputs it refuses are skipped: the transport answers those itself).
// Placeholders stand for the harness's secrets, which change when a request breaks a fixture:
// $ADMIN_KEY, $ALICE_KEY, $SESSION (admin's session token), $ADMIN_PASSWORD and $BASIC_ADMIN
// (base64 of "admin:<admin's key>"). Checked on every response:
//   - it comes (within 30 s), and is never a 5xx but 503;
//   - no header holds CR, LF or NUL; Content-Length matches the body; JSON bodies parse, and
//     an error has the {"error": {"code", "message"}} shape with a code matching the status;
//   - /auth answers only 200 (naming the user), 401 (with WWW-Authenticate) or 403; every 401
//     says WWW-Authenticate: Bearer; every /api/ response is Cache-Control: no-store;
//   - a request with no credential gets no 2xx from /api/v1 beyond login and settings, nor from
//     /auth; alice (no operator) gets no 2xx on the users list or another user's resources;
//   - no secret of the harness appears in a response unless the request itself held it (an
//     echo) or it is a successful GET of keys (list or reveal).
#include <sodium.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "api/credentials.h"
#include "api/forward_auth.h"
#include "api/http_status.h"
#include "common/log.h"
#include "common/random.h"
#include "fuzz/api_harness.h"
#include "fuzz/fuzz_check.h"

namespace keyward::fuzz {
namespace {

namespace bh = http::beast_http;

ApiHarness& Harness() {
  static const bool ready = [] {
    log::SetLevel(log::Level::kWarn);
    return InitCrypto();
  }();
  FUZZ_CHECK(ready);
  static ApiHarness harness;
  return harness;
}

std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);
  return out;
}

std::string Substitute(std::string text, const Fixtures& f) {
  const std::pair<std::string_view, std::string> placeholders[] = {
      {"$ADMIN_KEY", f.admin_key},
      {"$ALICE_KEY", f.alice_key},
      {"$SESSION", f.admin_session},
      {"$ADMIN_PASSWORD", std::string(kAdminPassword)},
      {"$BASIC_ADMIN", Base64("admin:" + f.admin_key)}};
  for (const auto& [name, value] : placeholders) {
    for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at)) {
      text.replace(at, name.size(), value);
      at += value.size();
    }
  }
  return text;
}

// The request as the transport's parser reads it, or nullopt when it would refuse it.
std::optional<http::Request> Parse(std::string_view text) {
  bh::request_parser<bh::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  while (!text.empty() && !parser.is_done()) {
    const std::size_t used = parser.put(boost::asio::buffer(text.data(), text.size()), ec);
    if (ec == bh::error::need_more) ec = {};
    if (ec || used == 0) break;
    text.remove_prefix(used);
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return std::nullopt;
  return parser.release();
}

// What the checks need to know of the request, taken before the handler consumes it.
struct Sent {
  bh::verb method;
  std::string target;
  std::string body;
  std::vector<std::string> segments;  // decoded path, empty when the target does not parse
  bool anonymous = false;             // no Authorization, apikey or Cookie header
  bool as_alice = false;              // the credential found is alice's key
};

Sent Describe(const http::Request& req, const Fixtures& f) {
  Sent sent{req.method(), std::string(req.target()), req.body(), {}, false, false};
  if (auto url = boost::urls::parse_origin_form(sent.target)) {
    for (auto segment : url->segments()) sent.segments.emplace_back(segment);
  }
  std::string scratch;
  auto credential = FindCredential(req, false, scratch);
  sent.anonymous = !credential && req.find(bh::field::cookie) == req.end();
  sent.as_alice = credential && *credential == f.alice_key;
  return sent;
}

bool HasSegments(const Sent& s, std::initializer_list<std::string_view> prefix) {
  if (s.segments.size() < prefix.size()) return false;
  std::size_t i = 0;
  for (std::string_view p : prefix) {
    if (s.segments[i++] != p) return false;
  }
  return true;
}

void CheckHeaders(const http::Response& res) {
  for (const auto& field : res) {
    for (std::string_view text :
         {std::string_view(field.name_string()), std::string_view(field.value())}) {
      FUZZ_CHECK(text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
    }
  }
  auto length = res.find(bh::field::content_length);
  if (length != res.end())
    FUZZ_CHECK(std::string_view(length->value()) == std::to_string(res.body().size()));
}

void CheckJson(const http::Response& res, bool forward_auth) {
  auto type = res.find(bh::field::content_type);
  if (type == res.end() || !std::string_view(type->value()).starts_with("application/json")) {
    return;
  }
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(res.body(), ec);
  FUZZ_CHECK(!ec);
  const int status = static_cast<int>(res.result_int());
  if (status < 400) return;
  const auto* error = body.is_object() ? body.as_object().if_contains("error") : nullptr;
  FUZZ_CHECK(error != nullptr && error->is_object());
  const auto* code = error->as_object().if_contains("code");
  const auto* message = error->as_object().if_contains("message");
  FUZZ_CHECK(code != nullptr && code->is_string() && message != nullptr && message->is_string());
  const std::string_view name(code->get_string());
  const std::optional<StatusCode> parsed = StatusCodeFromName(name);
  FUZZ_CHECK(parsed.has_value() && StatusCodeName(*parsed) == name);
  if (forward_auth) return;  // 403 with "unavailable", so that nginx does not answer 500
  if (status == 405 || status == 415) {  // method not allowed; a body that is not JSON
    FUZZ_CHECK(name == "invalid_argument");
  } else {
    FUZZ_CHECK(HttpStatusFor(*parsed) == status);
  }
}

void CheckAccess(const Sent& sent, const http::Response& res, bool forward_auth) {
  const bool success = res.result_int() / 100 == 2;
  if (forward_auth && sent.anonymous) FUZZ_CHECK(res.result_int() == 401);
  if (!HasSegments(sent, {"api", "v1"}) || !success) return;
  if (sent.anonymous) {
    FUZZ_CHECK(HasSegments(sent, {"api", "v1", "login"}) ||
               HasSegments(sent, {"api", "v1", "settings"}));
  }
  if (sent.as_alice && HasSegments(sent, {"api", "v1", "users"})) {
    FUZZ_CHECK(sent.segments.size() >= 4);
    FUZZ_CHECK(sent.segments[3] == "me" || sent.segments[3] == "alice");
    if (sent.segments.size() == 4) FUZZ_CHECK(sent.method == bh::verb::get);  // not DELETE
    FUZZ_CHECK(!HasSegments(sent, {"api", "v1", "users", sent.segments[3], "tags"}));
  }
}

void CheckSecrets(const Sent& sent, const http::Response& res, const Fixtures& f) {
  std::string text = res.body();
  for (const auto& field : res) text.append("\n").append(std::string_view(field.value()));
  const bool key_listing = sent.method == bh::verb::get && res.result_int() == 200 &&
                           sent.target.find("/apikeys") != std::string::npos;
  for (std::string_view secret : {std::string_view(f.admin_key), std::string_view(f.alice_key),
                                  std::string_view(f.admin_session), kAdminPassword}) {
    if (text.find(secret) == std::string::npos) continue;
    const bool echoed = sent.target.find(secret) != std::string::npos ||
                        sent.body.find(secret) != std::string::npos;
    FUZZ_CHECK(echoed || (key_listing && secret != kAdminPassword));
  }
}

void Check(const Sent& sent, const http::Response& res, const Fixtures& f) {
  std::ostringstream shown;
  shown << res;
  FuzzContext() = sent.target + "\n" + shown.str().substr(0, 4096);
  const int status = static_cast<int>(res.result_int());
  FUZZ_CHECK(status >= 100 && status <= 599);
  FUZZ_CHECK(status < 500 || status == 503);
  const bool forward_auth = IsForwardAuthPath(sent.target);
  if (forward_auth) {
    FUZZ_CHECK(status == 200 || status == 401 || status == 403);
    if (status == 200) FUZZ_CHECK(!std::string_view(res["X-Keyward-User"]).empty());
  }
  if (status == 401) FUZZ_CHECK(std::string_view(res[bh::field::www_authenticate]) == "Bearer");
  if (sent.target.starts_with("/api/")) {
    FUZZ_CHECK(std::string_view(res[bh::field::cache_control]) == "no-store");
  }
  if (status == 204 || status == 304) FUZZ_CHECK(res.body().empty());
  CheckHeaders(res);
  CheckJson(res, forward_auth);
  CheckAccess(sent, res, forward_auth);
  CheckSecrets(sent, res, f);
  FuzzContext().clear();
}

}  // namespace
}  // namespace keyward::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward::fuzz;
  ApiHarness& harness = Harness();
  const Fixtures fixtures = harness.fixtures();
  const std::string text =
      Substitute(std::string(reinterpret_cast<const char*>(data), size), fixtures);
  auto request = Parse(text);
  if (!request) return 0;
  const Sent sent = Describe(*request, fixtures);
  auto response = harness.Handle(std::move(*request), std::chrono::seconds(30));
  FUZZ_CHECK(response.has_value());
  Check(sent, *response, fixtures);
  harness.RepairFixtures();
  return 0;
}
