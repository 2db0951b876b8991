// keyward user get|create|delete, user tag add|delete,
// user apikey get|create|delete|rotate|disable|enable|update (usage: usage_command.cc)
#include <iostream>

#include "cli/client_commands.h"
#include "cli/command.h"
#include "cli/key_output.h"
#include "core/duration.h"
#include "core/grant.h"

namespace keyward {
namespace {

namespace json = boost::json;

struct UserFlags {
  ClientFlags client;
  std::string id;      // -i: the user acted on; empty means the caller
  std::string name;    // -n
  std::string type;    // -t (user create)
  std::string new_id;  // -u (user create)
  std::string tag;     // -t (tag add|delete)
  std::string duration;
  GrantFlags grant;              // apikey create
  std::string expiring_within;   // apikey get --expiring-within
  std::string grace;             // apikey rotate --grace
  std::string retire_when_idle;  // apikey rotate --retire-when-idle
  KeyEditFlags edit;             // apikey update; its lifecycle part also apikey create
  bool canary = false;           // apikey create --canary (issue 17)
  std::string output = "table";
};

std::string UserPath(CliContext& s, const std::string& id) {
  return "/api/v1/users/" + (id.empty() ? std::string("me") : s.http->Escape(id));
}

void Print(const json::value& value, OutputFormat format, const std::vector<std::string>& headers,
           const std::function<std::vector<std::string>(const json::value&)>& row) {
  if (format == OutputFormat::kJson) {
    std::cout << RenderJson(value);
  } else if (format == OutputFormat::kYaml) {
    std::cout << RenderYaml(value);
  } else {
    std::vector<std::vector<std::string>> rows;
    if (value.is_array()) {
      for (const auto& item : value.as_array()) rows.push_back(row(item));
    } else {
      rows.push_back(row(value));
    }
    std::cout << RenderTable(headers, rows);
  }
  std::cout.flush();
}

// The keys on stdout; after a table, the note about full-access keys on stderr.
void PrintKeys(const json::value& keys, OutputFormat format) {
  std::cout << RenderKeys(keys, format);
  std::cout.flush();
  if (format == OutputFormat::kTable || format == OutputFormat::kWide) {
    std::cerr << FullAccessNote(keys) << std::flush;
  }
}

void PrintUsers(const json::value& users, OutputFormat format) {
  Print(users, format, {"NAME", "ID", "TYPE", "TAGS"}, [](const json::value& u) {
    std::string tags;
    for (const auto& tag : u.at("tags").as_array()) {
      if (!tags.empty()) tags += ", ";
      tags += std::string(tag.as_string());
    }
    return std::vector<std::string>{StringMember(u, "name"), StringMember(u, "id"),
                                    StringMember(u, "type"), tags};
  });
}

// The keys in full where the caller may reveal them. An API key without the scope keys:reveal
// is refused that (403 "this API key lacks the scope keys:reveal"); it then lists them masked.
Status ApikeyGet(const UserFlags& f) {
  if (!f.expiring_within.empty()) {
    KW_RETURN_IF_ERROR(CheckDurationFlag("--expiring-within", f.expiring_within, false));
  }
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  std::string path = UserPath(s, f.id) + "/apikeys";
  if (!f.expiring_within.empty()) path += "?expiring_within=" + s.http->Escape(f.expiring_within);
  const char* more = f.expiring_within.empty() ? "?" : "&";
  Result<json::value> keys = s.http->Call("GET", path + more + "reveal=true");
  if (!keys.ok() && keys.status().code() == StatusCode::kPermissionDenied &&
      keys.status().message().find(scope::kKeysReveal) != std::string::npos) {
    keys = s.http->Call("GET", path);
  }
  KW_RETURN_IF_ERROR(keys.status());
  PrintKeys(*keys, ParseOutputFormat(f.output));
  return Status::Ok();
}

Status ApikeyCreate(const UserFlags& f) {
  if (!f.duration.empty()) KW_RETURN_IF_ERROR(ParseDuration(f.duration).status());
  if (f.edit.lifecycle.idle_timeout) {
    KW_RETURN_IF_ERROR(CheckDurationFlag("--idle-timeout", *f.edit.lifecycle.idle_timeout, true));
  }
  if (f.edit.lifecycle.rate_limit) {
    KW_RETURN_IF_ERROR(RateLimitBody(*f.edit.lifecycle.rate_limit).status());
  }
  json::object body = KeyCreateBody(f.name, f.duration, f.grant, f.edit.lifecycle);
  if (f.canary) body["canary"] = true;  // the server refuses it with a grant or usage setting
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value key, s.http->Call("POST", UserPath(s, f.id) + "/apikeys", body));
  PrintKeys(key, ParseOutputFormat(f.output));
  return Status::Ok();
}

Status ApikeyDelete(const UserFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  return s.http->Call("DELETE", UserPath(s, f.id) + "/apikeys/" + s.http->Escape(f.name)).status();
}

std::string KeyPath(CliContext& s, const UserFlags& f) {
  return UserPath(s, f.id) + "/apikeys/" + s.http->Escape(f.name);
}

// A new secret for the key; the old one keeps working for the grace (the server's default 1h
// when --grace is not given). The new key on stdout, when the old one stops on stderr.
Status ApikeyRotate(const UserFlags& f) {
  json::object body;
  if (!f.grace.empty()) {
    KW_RETURN_IF_ERROR(CheckDurationFlag("--grace", f.grace, true));
    body["grace"] = f.grace;
  }
  if (!f.retire_when_idle.empty()) {
    KW_RETURN_IF_ERROR(CheckDurationFlag("--retire-when-idle", f.retire_when_idle, false));
    body["retire_when_idle"] = f.retire_when_idle;
  }
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value key, s.http->Call("POST", KeyPath(s, f) + "/rotate", body));
  PrintKeys(key, ParseOutputFormat(f.output));
  std::cerr << RotationNote(key, IsZeroDuration(f.grace)) << std::flush;
  return Status::Ok();
}

Status Patch(const UserFlags& f, const json::object& body) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value key, s.http->Call("PATCH", KeyPath(s, f), body));
  PrintKeys(key, ParseOutputFormat(f.output));
  return Status::Ok();
}

Status ApikeyDisable(const UserFlags& f) { return Patch(f, {{"disabled", true}}); }
Status ApikeyEnable(const UserFlags& f) { return Patch(f, {{"disabled", false}}); }

Status ApikeyUpdate(const UserFlags& f) {
  if (f.edit.lifecycle.idle_timeout) {
    KW_RETURN_IF_ERROR(CheckDurationFlag("--idle-timeout", *f.edit.lifecycle.idle_timeout, true));
  }
  KW_ASSIGN_OR_RETURN(json::object body, KeyUpdateBody(f.edit));
  return Patch(f, body);
}

Status UserGet(const UserFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value user, s.http->Call("GET", UserPath(s, f.id)));
  PrintUsers(user, ParseOutputFormat(f.output));
  return Status::Ok();
}

Status UserCreate(const UserFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  json::value body = {{"id", f.new_id}, {"name", f.name}, {"type", f.type}};
  KW_ASSIGN_OR_RETURN(json::value user, s.http->Call("POST", "/api/v1/users", body));
  PrintUsers(user, ParseOutputFormat(f.output));
  return Status::Ok();
}

Status UserDelete(const UserFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  return s.http->Call("DELETE", UserPath(s, f.id)).status();
}

Status TagAdd(const UserFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value user, s.http->Call("POST", UserPath(s, f.id) + "/tags",
                                                     json::value{{"tag", f.tag}}));
  PrintUsers(user, ParseOutputFormat(f.output));
  return Status::Ok();
}

Status TagDelete(const UserFlags& f) {
  KW_ASSIGN_OR_RETURN(CliContext s, OpenContext(f.client));
  KW_ASSIGN_OR_RETURN(json::value user,
                      s.http->Call("DELETE", UserPath(s, f.id) + "/tags/" + s.http->Escape(f.tag)));
  PrintUsers(user, ParseOutputFormat(f.output));
  return Status::Ok();
}

// Adds one leaf command that runs `body` under `title`.
CLI::App* Leaf(CLI::App* parent, const std::string& name, const std::string& help,
               const std::string& title, int* exit_code, std::shared_ptr<UserFlags> flags,
               Status (*body)(const UserFlags&)) {
  CLI::App* cmd = parent->add_subcommand(name, help);
  AddClientFlags(cmd, flags->client);
  cmd->callback([=] {
    bool quiet = flags->output == "json" || flags->output == "yaml";
    *exit_code = RunCommand(title, quiet, [&] { return body(*flags); });
  });
  return cmd;
}

void AddOutput(CLI::App* cmd, UserFlags& f) {
  cmd->add_option("-o,--output", f.output, "table, json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
}

// -o for keys: also `wide`, the table with each key's grant, creation and last use.
void AddKeyOutput(CLI::App* cmd, UserFlags& f) {
  cmd->add_option("-o,--output", f.output,
                  "table, wide (adds SCOPES, TAGS, ALLOWED FROM, CREATED, LAST USED, RATE LIMIT), "
                  "json or yaml (json and yaml carry every field)")
      ->check(CLI::IsMember({"table", "wide", "json", "yaml"}))
      ->capture_default_str();
}

// --description, --idle-timeout, --on-reuse and --rate-limit, each recorded only when given.
void AddLifecycleFlags(CLI::App* cmd, const std::shared_ptr<UserFlags>& f) {
  cmd->add_option_function<std::string>(
      "--description", [f](const std::string& v) { f->edit.lifecycle.description = v; },
      "what the key is for (at most 1024 bytes; \"\" clears it)");
  cmd->add_option_function<std::string>(
         "--idle-timeout", [f](const std::string& v) { f->edit.lifecycle.idle_timeout = v; },
         "delete the key once unused this long, such as 30d (0s: never)")
      ->type_name("DURATION");
  cmd->add_option_function<std::string>(
         "--on-reuse", [f](const std::string& v) { f->edit.lifecycle.on_reuse = v; },
         "when a retired old secret is used: keep the key (the event is raised) or revoke it")
      ->check(CLI::IsMember({"keep", "revoke"}));
  cmd->add_option_function<std::string>(
         "--rate-limit", [f](const std::string& v) { f->edit.lifecycle.rate_limit = v; },
         "at most N requests per DURATION, in bursts of up to N, such as 10/1s or 5000/1h; "
         "off: none (the default; update removes the limit)")
      ->type_name("N/DURATION");
}

// apikey rotate|disable|enable|update: each names the key with -n and prints it (masked but for
// rotate's new secret).
void AddApikeyLifecycleCommands(CLI::App* apikey, int* exit_code) {
  auto rotate = std::make_shared<UserFlags>();
  CLI::App* r = Leaf(apikey, "rotate",
                     "Give a key a new secret; the old one keeps working for a grace period",
                     "user apikey rotate", exit_code, rotate, ApikeyRotate);
  r->add_option("--grace", rotate->grace,
                "how long the old secret stays valid: 0s, 1m, 15m, 1h, 6h, 24h… up to 30d "
                "(default 1h; never past its own expiration)")
      ->type_name("DURATION");
  r->add_option("--retire-when-idle", rotate->retire_when_idle,
                "end the grace early once the old secret has gone unused this long, such as 10m")
      ->type_name("DURATION");

  auto disable = std::make_shared<UserFlags>();
  CLI::App* d =
      Leaf(apikey, "disable", "Stop a key working at once, reversibly (enable brings it back)",
           "user apikey disable", exit_code, disable, ApikeyDisable);
  auto enable = std::make_shared<UserFlags>();
  CLI::App* e = Leaf(apikey, "enable", "Let a disabled key work again", "user apikey enable",
                     exit_code, enable, ApikeyEnable);

  auto update = std::make_shared<UserFlags>();
  CLI::App* u =
      Leaf(apikey, "update", "Change a key's name, expiration, description, rate limit or flags",
           "user apikey update", exit_code, update, ApikeyUpdate);
  u->add_option_function<std::string>(
      "--rename", [update](const std::string& v) { update->edit.rename = v; },
      "the key's new name");
  u->add_option_function<std::string>(
       "--expires", [update](const std::string& v) { update->edit.expires = v; },
       "new expiration, RFC 3339 such as 2026-12-31T00:00:00Z (a key changing itself may only "
       "make it earlier)")
      ->type_name("TIME");
  AddLifecycleFlags(u, update);

  const std::pair<CLI::App*, UserFlags*> commands[] = {
      {r, rotate.get()}, {d, disable.get()}, {e, enable.get()}, {u, update.get()}};
  for (const auto& [cmd, flags] : commands) {
    cmd->add_option("-n,--name", flags->name, "name of the key")->required();
    cmd->add_option("-i,--id", flags->id, "whose key (operators only for others)");
    AddKeyOutput(cmd, *flags);
  }
}

void AddApikeyCommands(CLI::App* user, int* exit_code) {
  CLI::App* apikey = user->add_subcommand(
      "apikey", "List, create, rotate, disable, enable, update and delete API keys; their usage");
  apikey->require_subcommand(1);

  auto get = std::make_shared<UserFlags>();
  CLI::App* g = Leaf(apikey, "get", "List API keys with their tokens", "user apikey get", exit_code,
                     get, ApikeyGet);
  g->add_option("-i,--id", get->id, "whose keys (operators only for others; default: yours)");
  g->add_option("--expiring-within", get->expiring_within,
                "only keys not yet expired that expire within this duration, such as 7d")
      ->type_name("DURATION");
  AddKeyOutput(g, *get);

  auto create = std::make_shared<UserFlags>();
  CLI::App* c = Leaf(apikey, "create", "Create an API key and print it", "user apikey create",
                     exit_code, create, ApikeyCreate);
  c->add_option("-n,--name", create->name, "key name (default: token_ and random characters)");
  c->add_option("-d,--duration", create->duration,
                "validity such as 30m, 24h, 7d or 9999h (default: the server's, 24h)");
  c->add_option("-i,--id", create->id, "for which user (operators only for others)");
  AddGrantFlags(c, create->grant);
  AddLifecycleFlags(c, create);
  c->add_flag("--canary", create->canary,
              "a canary key: a decoy that never authorizes anything and raises key.canary_used "
              "(webhooks, audit log, metric) at every use; takes only -n, -d and --description");
  AddKeyOutput(c, *create);

  auto del = std::make_shared<UserFlags>();
  CLI::App* d = Leaf(apikey, "delete", "Delete an API key; it stops working at once",
                     "user apikey delete", exit_code, del, ApikeyDelete);
  d->add_option("-n,--name", del->name, "name of the key to delete")->required();
  d->add_option("-i,--id", del->id, "whose key (operators only for others)");

  AddApikeyLifecycleCommands(apikey, exit_code);
  AddApikeyUsageCommand(apikey, exit_code);
}

void AddTagCommands(CLI::App* user, int* exit_code) {
  CLI::App* tag = user->add_subcommand("tag", "Add and remove tags (roles) of users; operators");
  tag->require_subcommand(1);
  auto add = std::make_shared<UserFlags>();
  CLI::App* a = Leaf(tag, "add", "Tag a user, e.g. -t roles:id:data-dev", "user tag add", exit_code,
                     add, TagAdd);
  a->add_option("-i,--id", add->id, "user id")->required();
  a->add_option("-t,--tag", add->tag, "tag to add")->required();
  auto del = std::make_shared<UserFlags>();
  CLI::App* d =
      Leaf(tag, "delete", "Remove a tag from a user", "user tag delete", exit_code, del, TagDelete);
  d->add_option("-i,--id", del->id, "user id")->required();
  d->add_option("-t,--tag", del->tag, "tag to remove")->required();
}

}  // namespace

void AddUserCommands(CLI::App& app, int* exit_code) {
  CLI::App* user = app.add_subcommand("user", "Users, their tags and their API keys");
  user->require_subcommand(1);

  auto get = std::make_shared<UserFlags>();
  CLI::App* g =
      Leaf(user, "get", "Show a user (default: yourself)", "user get", exit_code, get, UserGet);
  g->add_option("-i,--id", get->id, "user id (operators only for others)");
  AddOutput(g, *get);

  auto create = std::make_shared<UserFlags>();
  CLI::App* c = Leaf(user, "create", "Create a user; operators", "user create", exit_code, create,
                     UserCreate);
  c->add_option("-n,--name", create->name, "display name")->required();
  c->add_option("-t,--type", create->type, "person or application")
      ->required()
      ->check(CLI::IsMember({"person", "application"}));
  c->add_option("-u,--user-id", create->new_id, "the new user's id, e.g. lakesearchapi")
      ->required();
  AddOutput(c, *create);

  auto del = std::make_shared<UserFlags>();
  CLI::App* d = Leaf(user, "delete", "Delete a user with all their keys; operators", "user delete",
                     exit_code, del, UserDelete);
  d->add_option("-i,--id", del->id, "user id")->required();

  AddTagCommands(user, exit_code);
  AddApikeyCommands(user, exit_code);
}

}  // namespace keyward
