// keyward webhook add|get|delete|test: the endpoints Keyward announces key events to
// (/api/v1/webhooks; operators).
#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/client_commands.h"
#include "cli/command.h"
#include "cli/webhook_output.h"

namespace keyward {
namespace {

namespace json = boost::json;

struct WebhookFlags {
  ClientFlags client;
  std::string id;                   // get, delete, test: the webhook
  std::string url;                  // add --url
  std::vector<std::string> events;  // add --event
  std::vector<std::string> users;   // add --user
  int limit = 20;                   // get ID --limit: how many recent deliveries
  std::string output = "table";
};

std::string WebhookPath(CliContext& s, const std::string& id) {
  return "/api/v1/webhooks/" + s.http->Escape(id);
}

// The secret is on stdout this once (in the table or the JSON); the warning on stderr.
Status Add(const WebhookFlags& f) {
  KW_ASSIGN_OR_RETURN(json::object body, WebhookCreateBody(f.url, f.events, f.users));
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value webhook, s.http->Call("POST", "/api/v1/webhooks", body));
  std::cout << RenderWebhooks(webhook, ParseOutputFormat(f.output)) << std::flush;
  std::cerr << WebhookSecretWarning() << std::flush;
  return Status::Ok();
}

// Without an id the list; with one that webhook and its recent deliveries (as JSON or YAML:
// the webhook's object with a "deliveries" member holding them).
Status Get(const WebhookFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  const OutputFormat format = ParseOutputFormat(f.output);
  if (f.id.empty()) {
    KW_ASSIGN_OR_RETURN(json::value list, s.http->Call("GET", "/api/v1/webhooks"));
    std::cout << RenderWebhooks(list, format) << std::flush;
    return Status::Ok();
  }
  const std::string path = WebhookPath(s, f.id);
  KW_ASSIGN_OR_RETURN(json::value webhook, s.http->Call("GET", path));
  KW_ASSIGN_OR_RETURN(json::value deliveries,
                      s.http->Call("GET", path + "/deliveries?limit=" + std::to_string(f.limit)));
  if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
    if (!webhook.is_object()) return Status::Internal("the server's answer is not a webhook");
    webhook.as_object()["deliveries"] = deliveries;
    std::cout << RenderWebhooks(webhook, format) << std::flush;
    return Status::Ok();
  }
  std::cout << RenderWebhooks(webhook, format) << RenderDeliveries(deliveries, format)
            << std::flush;
  return Status::Ok();
}

Status Delete(const WebhookFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  return s.http->Call("DELETE", WebhookPath(s, f.id)).status();
}

// Queues a webhook.test event for this webhook alone; `webhook get ID` shows how it went.
Status Test(const WebhookFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value queued,
                      s.http->Call("POST", WebhookPath(s, f.id) + "/test", json::object()));
  const OutputFormat format = ParseOutputFormat(f.output);
  if (format == OutputFormat::kJson) {
    std::cout << RenderJson(queued);
  } else if (format == OutputFormat::kYaml) {
    std::cout << RenderYaml(queued);
  } else {
    std::cout << RenderTable({"MESSAGE", "EVENT"}, {{StringMember(queued, "message_id"),
                                                     StringMember(queued, "event_type")}});
  }
  std::cout.flush();
  return Status::Ok();
}

CLI::App* Leaf(CLI::App* parent, const std::string& name, const std::string& help, int* exit_code,
               std::shared_ptr<WebhookFlags> flags, Status (*body)(const WebhookFlags&)) {
  CLI::App* cmd = parent->add_subcommand(name, help);
  AddClientFlags(cmd, flags->client);
  const std::string title = "webhook " + name;
  cmd->callback([=] {
    const bool quiet = flags->output == "json" || flags->output == "yaml";
    *exit_code = RunCommand(title, quiet, [&] { return body(*flags); });
  });
  return cmd;
}

void AddOutput(CLI::App* cmd, WebhookFlags& f) {
  cmd->add_option("-o,--output", f.output, "table, json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
}

}  // namespace

void AddWebhookCommands(CLI::App& app, int* exit_code) {
  CLI::App* webhooks = app.add_subcommand(
      "webhook", "Endpoints that receive signed key events (Standard Webhooks); operators");
  webhooks->require_subcommand(1);

  auto add = std::make_shared<WebhookFlags>();
  CLI::App* a = Leaf(webhooks, "add", "Add a webhook; prints its id and, this once, its secret",
                     exit_code, add, Add);
  a->add_option("--url", add->url, "where to POST the events, https://…")->required();
  a->add_option("--event", add->events,
                "an event type to send (repeat or separate with commas; default: all): "
                "key.created, key.deleted, key.rotated, key.disabled, key.enabled, "
                "key.expiring, key.expired, key.idle_revoked, key.reuse_detected, key.leaked, "
                "key.canary_used")
      ->type_name("TYPE")
      ->delimiter(',');
  a->add_option("--user", add->users,
                "only events about this user's keys (repeat or separate with commas; default: "
                "every user's)")
      ->type_name("ID")
      ->delimiter(',');
  AddOutput(a, *add);

  auto get = std::make_shared<WebhookFlags>();
  CLI::App* g = Leaf(webhooks, "get", "List webhooks, or show one with its recent deliveries",
                     exit_code, get, Get);
  g->add_option("id", get->id, "a webhook id (wh_…)");
  g->add_option("--limit", get->limit, "with an id: how many recent deliveries")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  AddOutput(g, *get);

  auto del = std::make_shared<WebhookFlags>();
  CLI::App* d = Leaf(webhooks, "delete", "Delete a webhook and its pending deliveries", exit_code,
                     del, Delete);
  d->add_option("id", del->id, "the webhook id (wh_…)")->required();

  auto test = std::make_shared<WebhookFlags>();
  CLI::App* t =
      Leaf(webhooks, "test", "Send a webhook.test event to one webhook", exit_code, test, Test);
  t->add_option("id", test->id, "the webhook id (wh_…)")->required();
  AddOutput(t, *test);
}

}  // namespace keyward
