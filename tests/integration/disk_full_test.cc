// A full disk (issue 19): the server's --data-dir on a 16 MiB tmpfs that the test fills up.
//
// Keys created before the disk fills are acknowledged (201) and remembered. Then the tmpfs is
// filled to its last byte with a filler file, and: every create, delete, sign-in, user and tag
// write and reveal answers 507 with the disk-full message (counted: never a 500 or another 5xx);
// the acknowledged keys verify at /auth and /api/v1/authorize, from the cache and, for the keys
// whose delete was refused (which drops them from the cache), from the store; listing works;
// the log holds one warning line, not one per refusal. The filler is removed and creates
// succeed again without a restart. A restart on the same data then finds every acknowledged
// key valid and none that was refused, in a database that passes `PRAGMA integrity_check`.
//
// The tmpfs (common/full_disk_for_tests.h) is mounted in a mount namespace of the test
// process's own, so that not even a test killed by its timeout leaves a mount behind, and
// unmounted by a scope guard in every case. It needs root (mount(2)): without it, or when mount
// fails, the test fails under CI (CI=true) and is skipped elsewhere; `make test` runs as root.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/full_disk_for_tests.h"
#include "harness.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr const char* kTmpfsSize = "16m";
constexpr int kAcknowledged = 50;  // keys created before the disk fills
constexpr int kRefusedCreates = 200;
constexpr int kRefusedDeletes = 20;  // of the acknowledged keys
constexpr int kCreatesAfter = 20;    // once space is back
constexpr std::string_view kWarning = "is full: writes";
constexpr std::string_view kRecovered = "is written again";

// Lines of `log` holding `text`.
int LinesWith(const std::string& log, std::string_view text) {
  int n = 0;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(text) != std::string::npos) ++n;
  }
  return n;
}

// "507 x200" for a status count.
std::string StatusCounts(const std::map<int, int>& statuses) {
  std::string out;
  for (const auto& [status, n] : statuses) {
    out += (out.empty() ? "" : ", ") + std::to_string(status) + " x" + std::to_string(n);
  }
  return out;
}

// The code block after "<!-- checked: NAME " in docs/operations.md, without its fences and
// its last newline.
std::string DocumentedBlock(const std::string& name) {
  const std::string doc = ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/docs/operations.md");
  const std::size_t mark = doc.find("<!-- checked: " + name + " ");
  EXPECT_NE(mark, std::string::npos) << "docs/operations.md lost its " << name << " block";
  if (mark == std::string::npos) return "";
  const std::size_t body = doc.find('\n', doc.find("```", mark));
  const std::size_t close = doc.find("\n```", body);
  if (body == std::string::npos || close == std::string::npos) return "";
  return doc.substr(body + 1, close - body - 1);
}

// A disk-full warning line as the docs may show it: from "store:" to "stored keys still
// verify" (the time before it and the failed statement after it vary), the database's path as
// PATH.
std::string WarningText(const std::string& line) {
  const std::size_t from = line.find("store: the disk holding ");
  const std::size_t path = from + std::string_view("store: the disk holding ").size();
  const std::size_t path_end = line.find(" is full: ", path);
  const std::size_t to = line.find("stored keys still verify", path_end);
  if (from == std::string::npos || path_end == std::string::npos || to == std::string::npos) {
    return "(not a disk-full warning) " + line;
  }
  return line.substr(from, path - from) + "PATH" + line.substr(path_end, to - path_end);
}

// The line of `log` holding `text` (the first), or "".
std::string LineWith(const std::string& log, std::string_view text) {
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(text) != std::string::npos) return line;
  }
  return "";
}

// The names of `user`'s keys the server lists (fails the test unless it answers 200).
std::set<std::string> ListedKeys(const ServerProcess& server, const std::string& token) {
  std::set<std::string> names;
  HttpResult listed = server.As(token, "GET", "/api/v1/users/admin/apikeys");
  EXPECT_EQ(listed.status, 200) << listed.body;
  const json::value keys = listed.Json();
  if (listed.status != 200 || !keys.is_array()) return names;
  for (const auto& key : keys.as_array()) names.insert(Str(key, "name"));
  return names;
}

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    mount_ = TmpfsMount::Make(kTmpfsSize, &why);
    if (mount_ == nullptr) {
      if (UnderCi()) FAIL() << why << " (CI=true: this test must run; make test runs as root)";
      GTEST_SKIP() << why;
    }
    data_dir_ = mount_->path() + "/data";
  }

  void TearDown() override {
    // The server first, so that nothing holds the tmpfs; then a copy of the database where the
    // secrets scan after the suite looks (ArtifactsDir), since the tmpfs goes with this test.
    if (server_ != nullptr) server_->Stop();
    server_.reset();
    if (!ArtifactsDir().empty() && fs::exists(data_dir_)) {
      std::string copy = MakeTempDir();
      std::error_code ec;
      fs::copy(data_dir_, copy, fs::copy_options::recursive, ec);
    }
    mount_.reset();
  }

  // The status of creating key `name` of admin; its key remembered when 201.
  HttpResult Create(const std::string& name) {
    HttpResult r = server_->As(admin_, "POST", "/api/v1/users/admin/apikeys", {{"name", name}});
    if (r.status == 201) RememberSecret(Str(r.Json(), "token"));
    return r;
  }

  // Expects the error body of a full disk whose message says `not_done`.
  static void ExpectDiskFull(const HttpResult& r, const std::string& not_done) {
    EXPECT_EQ(r.status, 507) << r.body;
    const json::value body = r.Json();
    const json::value* error = body.is_object() ? body.as_object().if_contains("error") : nullptr;
    ASSERT_NE(error, nullptr) << r.body;
    EXPECT_EQ(Str(*error, "code"), "insufficient_storage");
    EXPECT_EQ(Str(*error, "message"), "the server's disk is full: " + not_done + "; retry later");
  }

  std::unique_ptr<TmpfsMount> mount_;
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;  // a session of admin
};

TEST_F(DiskFullTest, WritesAnswer507ReadsGoOnAndItRecoversWithoutARestart) {
  server_ = ServerProcess::Start({}, data_dir_);
  ASSERT_GT(server_->port(), 0);
  admin_ = server_->Login("admin", kAdminPassword);
  ASSERT_FALSE(admin_.empty());
  // A service's key for /api/v1/authorize.
  const std::string gateway =
      server_->NewScopedKey(admin_, "admin", "gateway", std::vector<std::string>{"authorize"});
  ASSERT_FALSE(gateway.empty());

  // Acknowledged before the disk fills: each must survive everything below.
  std::map<std::string, std::string> acknowledged;  // name → key
  for (int i = 0; i < kAcknowledged; ++i) {
    const std::string name = "kept-" + std::to_string(i);
    HttpResult r = Create(name);
    ASSERT_EQ(r.status, 201) << r.body;
    acknowledged[name] = Str(r.Json(), "token");
    ASSERT_EQ(AuthStatus(*server_, acknowledged[name]), 200);  // now in the cache
  }

  const std::string filler = mount_->path() + "/filler";
  ASSERT_EQ(FillUp(filler), 0) << "the tmpfs is not full";

  // Creates: every one refused with 507 and the message, none acknowledged.
  std::map<int, int> creates;
  for (int i = 0; i < kRefusedCreates; ++i) {
    HttpResult r = Create("refused-" + std::to_string(i));
    ++creates[r.status];
    if (i == 0) {
      ExpectDiskFull(r, "the key was not created");
      // docs/operations.md shows this body as it is.
      EXPECT_EQ(json::parse(DocumentedBlock("disk-full-response")), r.Json());
    }
  }
  EXPECT_EQ(creates[507], kRefusedCreates) << "creates on a full disk: " << StatusCounts(creates);
  std::cout << "creates on the full disk: " << StatusCounts(creates) << "\n";

  // Deletes of acknowledged keys: refused, and the keys stay valid. A delete drops its key
  // from the cache whatever the store says, so these keys verify from the store below.
  std::map<int, int> deletes;
  for (int i = 0; i < kRefusedDeletes; ++i) {
    HttpResult r =
        server_->As(admin_, "DELETE", "/api/v1/users/admin/apikeys/kept-" + std::to_string(i));
    ++deletes[r.status];
    if (i == 0) ExpectDiskFull(r, "the key was not deleted and stays valid");
  }
  EXPECT_EQ(deletes[507], kRefusedDeletes) << "deletes on a full disk: " << StatusCounts(deletes);
  std::cout << "deletes on the full disk: " << StatusCounts(deletes) << "\n";

  // The other writes: sign-in (its session), a user, a tag, a reveal (its audit record).
  ExpectDiskFull(
      Call(server_->port(), "POST", "/api/v1/login",
           json::serialize(json::object{{"username", "admin"}, {"password", kAdminPassword}}),
           {{"Content-Type", "application/json"}}),
      "you were not signed in");
  ExpectDiskFull(server_->As(admin_, "POST", "/api/v1/users",
                             {{"id", "newcomer"}, {"name", "Newcomer"}, {"type", "person"}}),
                 "the user was not created");
  ExpectDiskFull(server_->As(admin_, "POST", "/api/v1/users/admin/tags", {{"tag", "team:a"}}),
                 "the tag was not added");
  ExpectDiskFull(server_->As(admin_, "GET", "/api/v1/users/admin/apikeys/kept-30/token"),
                 "the key cannot be revealed, as its reveal cannot be recorded");

  // Reads: every acknowledged key verifies, from the cache (kept-20 on) and from the store
  // (kept-0 to kept-19, whose refused delete dropped them from the cache).
  std::map<int, int> auth;
  std::map<int, int> authorize;
  for (const auto& [name, key] : acknowledged) {
    ++auth[AuthStatus(*server_, key)];
    HttpResult r = server_->As(gateway, "POST", "/api/v1/authorize", {{"token", key}});
    ++authorize[r.status];
    const json::value body = r.Json();
    const json::value* v = body.is_object() ? body.as_object().if_contains("valid") : nullptr;
    EXPECT_TRUE(v != nullptr && *v == json::value(true)) << name << ": " << r.body;
  }
  EXPECT_EQ(auth[200], kAcknowledged) << "/auth on a full disk: " << StatusCounts(auth);
  EXPECT_EQ(authorize[200], kAcknowledged) << "/api/v1/authorize: " << StatusCounts(authorize);
  std::set<std::string> listed = ListedKeys(*server_, admin_);
  for (const auto& [name, key] : acknowledged) EXPECT_EQ(listed.count(name), 1u) << name;
  EXPECT_EQ(listed.size(), acknowledged.size() + 1) << "the gateway's key and the kept ones";

  // One warning line for all those refusals, no error line per request, no audit warning.
  const std::string full_log = server_->Log();
  EXPECT_EQ(LinesWith(full_log, kWarning), 1) << full_log;
  EXPECT_EQ(WarningText(LineWith(full_log, kWarning)),
            WarningText(DocumentedBlock("disk-full-log")))
      << "docs/operations.md shows another warning line than the server writes";
  EXPECT_EQ(Call(server_->port(), "GET", "/readyz").status, 200) << "reads work: still ready";
  EXPECT_EQ(LinesWith(full_log, "insufficient_storage"), 0) << full_log;
  EXPECT_EQ(LinesWith(full_log, "audit: could not record"), 0) << full_log;

  // Space returns: creates succeed again, without a restart.
  ASSERT_TRUE(fs::remove(filler));
  for (int i = 0; i < kCreatesAfter; ++i) {
    const std::string name = "after-" + std::to_string(i);
    HttpResult r = Create(name);
    ASSERT_EQ(r.status, 201) << r.body;
    acknowledged[name] = Str(r.Json(), "token");
  }
  EXPECT_TRUE(Eventually([&] { return LinesWith(server_->Log(), kRecovered) == 1; },
                         std::chrono::seconds(5)))
      << server_->Log();

  // A restart on the same data: every acknowledged key and no refused one.
  ASSERT_EQ(server_->Stop(), 0);
  EXPECT_EQ(IntegrityCheck(data_dir_ + "/keyward.db"), "ok");
  server_ = ServerProcess::Start({}, data_dir_);
  ASSERT_GT(server_->port(), 0);
  admin_ = server_->Login("admin", kAdminPassword);
  int valid = 0;
  for (const auto& [name, key] : acknowledged) {
    if (AuthStatus(*server_, key) == 200) {
      ++valid;
    } else {
      ADD_FAILURE() << name << " is not valid after the restart";
    }
  }
  EXPECT_EQ(valid, kAcknowledged + kCreatesAfter);
  listed = ListedKeys(*server_, admin_);
  std::set<std::string> expected = {"gateway"};
  for (const auto& entry : acknowledged) expected.insert(entry.first);
  EXPECT_EQ(listed, expected) << "refused creates must be absent, acknowledged keys present";
  std::cout << "acknowledged keys valid after the restart: " << valid << " of "
            << acknowledged.size() << "\n";
}

}  // namespace
}  // namespace keyward::testing
