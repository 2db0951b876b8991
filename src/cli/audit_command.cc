// keyward audit get: the audit log (GET /api/v1/audit), newest first.
#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/client_commands.h"
#include "cli/command.h"

namespace keyward {
namespace {

namespace json = boost::json;

struct AuditFlags {
  ClientFlags client;
  std::string user;   // --user: whose events (actor or user); operators only for others
  std::string since;  // --since: RFC 3339
  std::string until;  // --until: RFC 3339
  int limit = 0;      // --limit: 1-1000; 0: the server's default
  std::string output = "table";
};

std::string Field(const json::value& event, std::string_view key) {
  const auto* field = event.is_object() ? event.as_object().if_contains(key) : nullptr;
  if (field == nullptr) return "";
  if (field->is_string()) return std::string(field->as_string());
  return field->is_null() ? "" : json::serialize(*field);
}

void PrintEvents(const json::value& events, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::cout << RenderJson(events);
  } else if (format == OutputFormat::kYaml) {
    std::cout << RenderYaml(events);
  } else {
    std::vector<std::vector<std::string>> rows;
    if (events.is_array()) {
      for (const json::value& e : events.as_array()) {
        rows.push_back({Field(e, "time"), Field(e, "actor"), Field(e, "action"), Field(e, "user"),
                        Field(e, "target"), Field(e, "address"), Field(e, "outcome")});
      }
    }
    std::cout << RenderTable({"TIME", "ACTOR", "ACTION", "USER", "TARGET", "ADDRESS", "OUTCOME"},
                             rows);
  }
  std::cout.flush();
}

Status AuditGet(const AuditFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  std::string target = "/api/v1/audit";
  char separator = '?';
  const std::pair<const char*, std::string> params[] = {
      {"user", f.user},
      {"since", f.since},
      {"until", f.until},
      {"limit", f.limit > 0 ? std::to_string(f.limit) : ""}};
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    target += separator + std::string(name) + "=" + s.http->Escape(value);
    separator = '&';
  }
  KW_ASSIGN_OR_RETURN(json::value body, s.http->Call("GET", target));
  if (!body.is_object() || !body.as_object().contains("events")) {
    return Status::Internal("the server's answer has no events");
  }
  // Machine output is the list itself, like `user apikey get -o json`.
  PrintEvents(body.at("events"), ParseOutputFormat(f.output));
  return Status::Ok();
}

}  // namespace

void AddAuditCommands(CLI::App& app, int* exit_code) {
  CLI::App* audit = app.add_subcommand("audit", "Read the audit log");
  audit->require_subcommand(1);

  auto flags = std::make_shared<AuditFlags>();
  CLI::App* get = audit->add_subcommand(
      "get",
      "List audit events, newest first: sign-ins, key create, reveal and delete, user create "
      "and delete, tag changes (operators see everyone's, others their own)");
  AddClientFlags(get, flags->client);
  get->add_option("--user", flags->user,
                  "only events whose actor or user is this user id (others' need an operator)");
  get->add_option("--since", flags->since, "from this time on, RFC 3339: 2023-08-10T23:00:00Z");
  get->add_option("--until", flags->until, "up to this time, RFC 3339");
  get->add_option("--limit", flags->limit, "at most this many events (default 100)")
      ->check(CLI::Range(1, 1000));
  get->add_option("-o,--output", flags->output, "table, json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
  get->callback([flags, exit_code] {
    bool quiet = flags->output != "table";
    *exit_code = RunCommand("audit get", quiet, [&] { return AuditGet(*flags); });
  });
}

}  // namespace keyward
