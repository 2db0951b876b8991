// In-process cost of an access token: what POST /oauth/token spends on the JWT itself.
//
//   BM_SignJwt/ES256, /RS256    claims built as the token service builds them (a fresh jti from
//                               the CSPRNG each time), serialised, base64url, signed
//   BM_VerifyJwt/ES256, /RS256  VerifyJwt of such a token: what /auth pays on a cache miss
//
// bench/tokens.sh runs it pinned to one core beside `openssl speed` on the same core, and prints
// the ratio of tokens/s to OpenSSL's raw signatures/s.
#include <benchmark/benchmark.h>

#include <boost/json/array.hpp>
#include <cstdlib>

#include "common/random.h"
#include "token/jwt.h"
#include "token/signing_key.h"

namespace keyward::token {
namespace {

const SigningKey& KeyFor(Alg alg) {
  static const SigningKey es = SigningKey::Generate(Alg::kES256).value();
  static const SigningKey rs = SigningKey::Generate(Alg::kRS256).value();
  return alg == Alg::kES256 ? es : rs;
}

// The claims of a client_credentials token for a key with two service scopes and two tags.
boost::json::object RealisticClaims() {
  constexpr std::int64_t kNow = 1796000000;
  return boost::json::object{
      {"iss", "https://keyward.example.com"},
      {"sub", "data-pipeline"},
      {"aud", "pulsar"},
      {"iat", kNow - 5},
      {"nbf", kNow - 5},
      {"exp", kNow + 600},
      {"jti", Base64UrlEncode(RandomBytes(16))},
      {"client_id", "3f9a0c1e5b7d2a4c6e8f0a1b"},
      {"scope", "pulsar:produce pulsar:consume"},
      {"tags", boost::json::array{"team:data", "env:prod"}},
  };
}

void BM_SignJwt(benchmark::State& state, Alg alg) {
  const SigningKey& key = KeyFor(alg);
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto token = SignJwt(key, "at+jwt", RealisticClaims());
    if (!token.ok()) state.SkipWithError("SignJwt failed");
    bytes = token->size();
    benchmark::DoNotOptimize(token);
  }
  state.counters["token_bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_SignJwt, ES256, Alg::kES256);
BENCHMARK_CAPTURE(BM_SignJwt, RS256, Alg::kRS256);

void BM_VerifyJwt(benchmark::State& state, Alg alg) {
  const SigningKey& key = KeyFor(alg);
  const std::string token = SignJwt(key, "at+jwt", RealisticClaims()).value();
  const KeyLookup lookup = [&key](std::string_view kid) {
    return kid == key.kid() ? &key.public_key() : nullptr;
  };
  for (auto _ : state) {
    auto verified = VerifyJwt(token, lookup);
    if (!verified.ok()) state.SkipWithError("VerifyJwt failed");
    benchmark::DoNotOptimize(verified);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_VerifyJwt, ES256, Alg::kES256);
BENCHMARK_CAPTURE(BM_VerifyJwt, RS256, Alg::kRS256);

}  // namespace
}  // namespace keyward::token

int main(int argc, char** argv) {
  if (!keyward::InitCrypto()) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
