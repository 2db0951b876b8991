// The server of the api_request fuzz target: the service graph `keyward serve` runs
// (app/service_graph.h, built from a Config as app/app.cc builds it), on a SQLite store in a
// fresh temporary folder, without the network transport. Built once per process; the folder is
// removed when the process exits normally.
//
// Fixtures a request may name by placeholder: the operator "admin" (password
// kAdminPassword) with an API key and a session, and the user "alice" (not an operator) with
// an API key. A request may break them (delete a key, sign out, tag alice as an operator):
// RepairFixtures() puts them back, with new tokens where needed.
//
// Not thread safe: one request at a time (the fuzz loop is single-threaded).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "app/service_graph.h"
#include "http/server.h"

namespace keyward::fuzz {

inline constexpr std::string_view kAdminPassword = "fuzz-admin-password-1";

struct Fixtures {
  std::string admin_key;
  std::string admin_session;
  std::string alice_key;
};

// Creates a private temporary folder and removes it, with its content, on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ApiHarness {
 public:
  // Aborts (with a message) when the store cannot be opened or the fixtures made.
  ApiHarness();
  ~ApiHarness();
  ApiHarness(const ApiHarness&) = delete;
  ApiHarness& operator=(const ApiHarness&) = delete;

  // The handler's response to `request` from 127.0.0.1, or nullopt when none came within
  // `timeout`. The handler then still holds the request: the caller must stop.
  std::optional<http::Response> Handle(http::Request&& request, std::chrono::seconds timeout);

  const Fixtures& fixtures() const { return fixtures_; }
  // Checks the fixtures with the authenticator (cheap when cached) and restores what a request
  // changed. Aborts when that fails.
  void RepairFixtures();

 private:
  bool FixturesIntact() const;
  Status EnsureUser(const std::string& id, bool operator_role,
                    const std::optional<std::string>& password);
  Result<std::string> FreshKey(const std::string& user_id, const std::string& name);
  Result<std::string> FreshSession(const std::string& user_id);

  TempDir dir_;  // first in, last out
  ServiceGraph graph_;
  User root_;  // an operator that exists only here, the caller of the repairs
  Fixtures fixtures_;
};

}  // namespace keyward::fuzz
