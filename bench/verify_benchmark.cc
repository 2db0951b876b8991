// In-process verification of a key: what /auth costs before HTTP.
//
//   BM_TryCached        the /auth fast path: checksum, SHA-256, cache lookup (no copy)
//   BM_Authenticate     the API path: the same, plus a copy of the caller's identity
//   BM_RejectChecksum   a random string: refused by the checksum alone
//   BM_RejectUnknown    a well-formed key that does not exist: the negative cache
//
// The store is a real SQLite database in a temporary folder, under the service graph
// `keyward serve` runs (app/service_graph.h, default Config); the cache is warm before timing
// starts, so the store is not touched while timing.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "app/service_graph.h"
#include "common/random.h"
#include "core/api_key.h"
#include "store/sqlite/sqlite_store.h"

namespace keyward {
namespace {

// A temporary folder, removed last.
struct TempFolder {
  std::string path;
  TempFolder() {
    std::string templ = (std::filesystem::temp_directory_path() / "kw-bench-XXXXXX").string();
    path = ::mkdtemp(templ.data());
  }
  ~TempFolder() { std::filesystem::remove_all(path); }
};

std::unique_ptr<Store> OpenBenchStore(const std::string& dir) {
  InitCrypto();
  return std::move(OpenSqliteStore(dir + "/keyward.db")).value();
}

struct World {
  TempFolder dir;
  ServiceGraph graph;
  const Authenticator* auth;
  std::string token;
  std::string unknown;

  World()
      : graph(Config(), OpenBenchStore(dir.path), MasterKey::FromBytes(RandomBytes(32)),
              Clock::System()),
        auth(&graph.authenticator()) {
    (void)graph.users().Bootstrap(std::string("bench-password"));
    User admin = graph.store().GetUser("admin").value();
    token = graph.keys().Create(admin, "me", {.name = "bench"})->token;
    unknown = GenerateKey("kw");
    (void)auth->Authenticate(token);
    (void)auth->Authenticate(unknown);
  }
};

World& TheWorld() {
  static World world;
  return world;
}

void BM_TryCached(benchmark::State& state) {
  World& w = TheWorld();
  for (auto _ : state) {
    std::size_t seen = 0;
    auto outcome = w.auth->TryCached(w.token, [&](const CacheEntry& e) {
      seen = e.principal.user.id.size() + e.tags_header.size();
    });
    benchmark::DoNotOptimize(outcome);
    benchmark::DoNotOptimize(seen);
  }
}
BENCHMARK(BM_TryCached);

void BM_Authenticate(benchmark::State& state) {
  World& w = TheWorld();
  for (auto _ : state) {
    auto principal = w.auth->Authenticate(w.token);
    benchmark::DoNotOptimize(principal);
  }
}
BENCHMARK(BM_Authenticate);

void BM_RejectChecksum(benchmark::State& state) {
  World& w = TheWorld();
  std::string typo = w.token;
  typo[10] = typo[10] == 'a' ? 'b' : 'a';
  for (auto _ : state) {
    auto outcome = w.auth->TryCached(typo, [](const CacheEntry&) {});
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_RejectChecksum);

void BM_RejectUnknown(benchmark::State& state) {
  World& w = TheWorld();
  for (auto _ : state) {
    auto outcome = w.auth->TryCached(w.unknown, [](const CacheEntry&) {});
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_RejectUnknown);

}  // namespace
}  // namespace keyward

BENCHMARK_MAIN();
