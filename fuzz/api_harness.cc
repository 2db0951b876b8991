#include "fuzz/api_harness.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <utility>

#include "common/log.h"
#include "common/random.h"
#include "common/thread_annotations.h"
#include "core/api_key.h"
#include "store/store_factory.h"

namespace keyward::fuzz {
namespace {

[[noreturn]] void Die(std::string_view what, const Status& status) {
  std::fprintf(stderr, "api harness: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               status.ToString().c_str());
  std::abort();
}

// Small and quick: the fuzz loop sends one request at a time.
Config HarnessConfig() {
  Config config;
  config.cache = KeyCacheOptions{.max_entries = 10'000, .max_negative = 1'000, .ttl = 5};
  config.last_used_interval = std::chrono::milliseconds(100);
  config.blocking_threads = 2;
  config.blocking_queue = 64;
  return config;
}

std::unique_ptr<Store> OpenOrDie(const std::string& dir) {
  auto store = OpenStore(StoreOptions{.data_dir = dir, .db_url = ""});
  if (!store.ok()) Die("cannot open the store", store.status());
  return std::move(store).value();
}

// Receives the one response of one request, from whichever thread the handler answers on.
class Sink final : public http::detail::ResponseSink {
 public:
  void Send(http::Response&& response) override {
    MutexLock lock(mu_);
    response_ = std::move(response);
    done_.NotifyAll();
  }

  std::optional<http::Response> Wait(std::chrono::seconds timeout) {
    MutexLock lock(mu_);
    done_.WaitFor(mu_, timeout, [this] {
      mu_.AssertHeld();
      return response_.has_value();
    });
    return std::move(response_);
  }

 private:
  Mutex mu_;
  CondVar done_;
  std::optional<http::Response> response_ GUARDED_BY(mu_);
};

}  // namespace

TempDir::TempDir() {
  std::error_code ec;
  std::string pattern = (std::filesystem::temp_directory_path(ec) / "keyward-fuzz-XXXXXX").string();
  if (ec || ::mkdtemp(pattern.data()) == nullptr) {
    std::perror("api harness: cannot create a temporary folder");
    std::abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ApiHarness::ApiHarness()
    : graph_(HarnessConfig(), OpenOrDie(dir_.path()),
             MasterKey::FromBytes(RandomBytes(MasterKey::kBytes)), Clock::System()),
      root_{.id = "fuzz-root",
            .name = "fuzz root",
            .type = UserType::kPerson,
            .password_hash = "",
            .tags = {std::string(kOperatorTag)}} {
  RepairFixtures();
}

ApiHarness::~ApiHarness() { graph_.Stop(); }

std::optional<http::Response> ApiHarness::Handle(http::Request&& request,
                                                 std::chrono::seconds timeout) {
  auto sink = std::make_shared<Sink>();
  graph_.api().Handle(std::move(request), http::Peer{.address = "127.0.0.1", .port = 40000},
                      http::Responder(sink));
  return sink->Wait(timeout);
}

bool ApiHarness::FixturesIntact() const {
  if (fixtures_.admin_key.empty()) return false;
  auto admin = graph_.authenticator().Authenticate(fixtures_.admin_key);
  auto session = graph_.authenticator().Authenticate(fixtures_.admin_session);
  auto alice = graph_.authenticator().Authenticate(fixtures_.alice_key);
  return admin.ok() && admin->user.id == "admin" && admin->user.IsOperator() && session.ok() &&
         session->via == KeyType::kSession && session->user.id == "admin" && alice.ok() &&
         alice->user.id == "alice" && !alice->user.IsOperator();
}

void ApiHarness::RepairFixtures() {
  if (FixturesIntact()) return;
  if (Status s = EnsureUser("admin", true, std::string(kAdminPassword)); !s.ok()) {
    Die("cannot restore admin", s);
  }
  if (Status s = EnsureUser("alice", false, std::nullopt); !s.ok()) Die("cannot restore alice", s);
  auto admin_key = FreshKey("admin", "fuzz-admin");
  auto alice_key = FreshKey("alice", "fuzz-alice");
  auto session = FreshSession("admin");
  if (!admin_key.ok()) Die("cannot make admin's key", admin_key.status());
  if (!alice_key.ok()) Die("cannot make alice's key", alice_key.status());
  if (!session.ok()) Die("cannot make admin's session", session.status());
  fixtures_ = Fixtures{.admin_key = std::move(admin_key).value(),
                       .admin_session = std::move(session).value(),
                       .alice_key = std::move(alice_key).value()};
  if (!FixturesIntact()) Die("fixtures", Status::Internal("still broken after a repair"));
}

Status ApiHarness::EnsureUser(const std::string& id, bool operator_role,
                              const std::optional<std::string>& password) {
  auto user = graph_.users().Get(root_, id);
  if (!user.ok()) {
    if (user.status().code() != StatusCode::kNotFound) return user.status();
    NewUser in{.id = id, .name = id, .type = "person", .password = password};
    KW_RETURN_IF_ERROR(graph_.users().Create(root_, in).status());
    user = graph_.users().Get(root_, id);
    if (!user.ok()) return user.status();
  }
  if (operator_role && !user->IsOperator()) {
    return graph_.users().AddTag(root_, id, kOperatorTag).status();
  }
  if (!operator_role && user->IsOperator()) {
    return graph_.users().RemoveTag(root_, id, kOperatorTag).status();
  }
  return Status::Ok();
}

Result<std::string> ApiHarness::FreshKey(const std::string& user_id, const std::string& name) {
  Status gone = graph_.keys().Delete(root_, user_id, name);
  if (!gone.ok() && gone.code() != StatusCode::kNotFound) return gone;
  // Every Keyward scope the user may hold, so that fuzzed requests reach every route.
  NewKey in{.name = name, .duration = "9999h"};
  for (std::string_view scope : kKeywardScopes) {
    if (user_id == "admin" || !NeedsOperator(scope)) in.scopes.emplace_back(scope);
  }
  KW_ASSIGN_OR_RETURN(KeyView key, graph_.keys().Create(root_, user_id, in));
  return std::move(key.token);
}

Result<std::string> ApiHarness::FreshSession(const std::string& user_id) {
  std::string token = GenerateKey(graph_.options().key_prefix);
  const UnixSeconds now = Clock::System().Now();
  KW_RETURN_IF_ERROR(graph_.store().CreateSession(SessionRecord{.user_id = user_id,
                                                                .hash = HashKey(token),
                                                                .created_at = now,
                                                                .expires_at = now + 12 * 3600}));
  return token;
}

}  // namespace keyward::fuzz
