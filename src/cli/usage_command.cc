// keyward user apikey usage: a key's requests per hour or day, from
// GET /api/v1/users/{id}/apikeys/{name}/usage.
#include <iostream>

#include "cli/client_commands.h"
#include "cli/command.h"
#include "cli/usage_output.h"

namespace keyward {
namespace {

struct UsageFlags {
  ClientFlags client;
  std::string id;    // -i: whose key; empty means the caller's
  std::string name;  // -n
  std::string since = "24h";
  std::string until;        // empty: now
  std::string granularity;  // empty: chosen from the range (UsageGranularity)
  std::string output = "table";
};

Status ApikeyUsage(const UsageFlags& f) {
  KW_ASSIGN_OR_RETURN(std::string granularity,
                      UsageGranularity(f.since, f.until, f.granularity, Clock::System().Now()));
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  std::string path = "/api/v1/users/" + (f.id.empty() ? std::string("me") : s.http->Escape(f.id)) +
                     "/apikeys/" + s.http->Escape(f.name) +
                     "/usage?since=" + s.http->Escape(f.since) +
                     "&granularity=" + s.http->Escape(granularity);
  if (!f.until.empty()) path += "&until=" + s.http->Escape(f.until);
  KW_ASSIGN_OR_RETURN(boost::json::value usage, s.http->Call("GET", path));
  std::cout << RenderUsage(usage, ParseOutputFormat(f.output)) << std::flush;
  return Status::Ok();
}

}  // namespace

void AddApikeyUsageCommand(CLI::App* apikey, int* exit_code) {
  auto f = std::make_shared<UsageFlags>();
  CLI::App* cmd = apikey->add_subcommand(
      "usage", "Show a key's requests per hour or day: allowed, denied, and its last use");
  AddClientFlags(cmd, f->client);
  cmd->add_option("-n,--name", f->name, "name of the key")->required();
  cmd->add_option("-i,--id", f->id, "whose key (operators only for others; default: yours)");
  cmd->add_option("--since", f->since,
                  "from when: a duration back from now such as 24h or 7d, or an RFC 3339 time")
      ->type_name("DURATION|TIME")
      ->capture_default_str();
  cmd->add_option("--until", f->until, "until when, in the same forms (default: now)")
      ->type_name("DURATION|TIME");
  cmd->add_option("--granularity", f->granularity,
                  "bucket size (default: hour, or day when the range is longer than 48h)")
      ->check(CLI::IsMember({"hour", "day"}));
  cmd->add_option("-o,--output", f->output,
                  "table (with a sparkline and the last use), json or yaml (the API's answer)")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
  cmd->callback([f, exit_code] {
    const bool quiet = f->output == "json" || f->output == "yaml";
    *exit_code = RunCommand("user apikey usage", quiet, [&] { return ApikeyUsage(*f); });
  });
}

}  // namespace keyward
