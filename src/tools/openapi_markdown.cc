#include "tools/openapi_markdown.h"

#include <algorithm>
#include <boost/json.hpp>
#include <sstream>
#include <vector>

#include "tools/openapi.h"

namespace keyward::openapi {
namespace {

namespace json = boost::json;

std::string Str(const json::object& obj, std::string_view name) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->value().is_string()) return "";
  return std::string(it->value().as_string());
}

const json::object* Obj(const json::value* v) {
  return v && v->is_object() ? &v->as_object() : nullptr;
}

const json::object* Child(const json::object& obj, std::string_view name) {
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : Obj(&it->value());
}

// A table cell: no line breaks, no unescaped pipes.
std::string Cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out.empty() ? "—" : out;
}

std::string RefName(std::string_view ref) { return std::string(ref.substr(ref.rfind('/') + 1)); }

// "string", "`User`", "array of `Key`", "string (date-time) or null", "string (`a`, `b`)".
std::string TypeText(const json::value& schema) {
  const json::object* s = Obj(&schema);
  if (s == nullptr) return "any";
  if (std::string ref = Str(*s, "$ref"); !ref.empty()) return "`" + RefName(ref) + "`";
  std::string type = Str(*s, "type");
  std::string out = type.empty() ? "any" : type;
  if (type == "array") {
    auto items = s->find("items");
    out = "array of " + (items == s->end() ? std::string("any") : TypeText(items->value()));
  }
  std::vector<std::string> notes;
  if (std::string format = Str(*s, "format"); !format.empty()) notes.push_back(format);
  if (auto e = s->find("enum"); e != s->end() && e->value().is_array()) {
    std::string values;
    for (const auto& v : e->value().as_array()) {
      values += (values.empty() ? "" : ", ") +
                ("`" + (v.is_string() ? std::string(v.as_string()) : json::serialize(v)) + "`");
    }
    notes.push_back(values);
  }
  auto min = s->find("minimum");
  auto max = s->find("maximum");
  if (min != s->end() && max != s->end()) {
    notes.push_back(json::serialize(min->value()) + "-" + json::serialize(max->value()));
  }
  if (!notes.empty()) {
    out += " (";
    for (std::size_t i = 0; i < notes.size(); ++i) out += (i ? "; " : "") + notes[i];
    out += ")";
  }
  if (auto n = s->find("nullable"); n != s->end() && n->value() == true) out += " or null";
  return out;
}

std::string Description(const json::object& schema_or_param) {
  std::string out = Str(schema_or_param, "description");
  const json::object* schema = Child(schema_or_param, "schema");
  const json::object* with_default = schema ? schema : &schema_or_param;
  if (auto d = with_default->find("default"); d != with_default->end()) {
    if (out.ends_with('.')) out.pop_back();
    out += (out.empty() ? "default `" : "; default `") + json::serialize(d->value()) + "`";
  }
  return out;
}

// The rows of an object schema's fields; the fields of an inline object member follow it as
// "member.field".
void FieldRows(const json::value& doc, const json::value& schema_ref, const std::string& prefix,
               std::ostringstream& out) {
  const json::object* schema = Obj(Follow(doc, schema_ref));
  const json::object* properties = schema ? Child(*schema, "properties") : nullptr;
  if (properties == nullptr) return;
  std::vector<std::string> required;
  if (auto r = schema->find("required"); r != schema->end() && r->value().is_array()) {
    for (const auto& name : r->value().as_array()) {
      if (name.is_string()) required.emplace_back(name.as_string());
    }
  }
  for (const auto& [name, property] : *properties) {
    const bool is_required =
        std::find(required.begin(), required.end(), std::string(name)) != required.end();
    const json::object* p = Obj(&property);
    const std::string field = prefix + std::string(name);
    out << "| `" << field << "` | " << Cell(TypeText(property)) << " | "
        << (is_required ? "yes" : "no") << " | " << Cell(p ? Description(*p) : "") << " |\n";
    if (p != nullptr && !p->contains("$ref")) FieldRows(doc, property, field + ".", out);
  }
}

// The field table of an object schema, or "" when it has no properties.
std::string FieldTable(const json::value& doc, const json::value& schema_ref) {
  const json::object* schema = Obj(Follow(doc, schema_ref));
  const json::object* properties = schema ? Child(*schema, "properties") : nullptr;
  if (properties == nullptr || properties->empty()) return "";
  std::ostringstream out;
  out << "| field | type | required | description |\n| --- | --- | --- | --- |\n";
  FieldRows(doc, schema_ref, "", out);
  return out.str();
}

std::string SchemeLabel(const json::value& doc, std::string_view name) {
  const json::object* scheme =
      Obj(ResolveRef(doc, "#/components/securitySchemes/" + std::string(name)));
  if (scheme == nullptr) return "`" + std::string(name) + "`";
  const std::string type = Str(*scheme, "type");
  if (type == "http") {
    std::string s = Str(*scheme, "scheme");
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return "`Authorization: " + s + "`";
  }
  const std::string in = Str(*scheme, "in");
  const std::string key = Str(*scheme, "name");
  if (in == "query") return "`?" + key + "=`";
  return "`" + key + "` " + in;
}

std::string AuthText(const json::value& doc, const json::object& op) {
  const json::value* security = nullptr;
  if (auto it = op.find("security"); it != op.end()) {
    security = &it->value();
  } else if (doc.is_object() && doc.as_object().contains("security")) {
    security = &doc.as_object().at("security");
  }
  if (security == nullptr || !security->is_array() || security->as_array().empty()) return "none";
  std::vector<std::string> alternatives;
  for (const auto& requirement : security->as_array()) {
    if (!requirement.is_object()) continue;
    std::string all;
    for (const auto& [name, scopes] : requirement.as_object()) {
      all += (all.empty() ? "" : " with ") + SchemeLabel(doc, name);
    }
    alternatives.push_back(all.empty() ? "none" : all);
  }
  std::string out;
  for (std::size_t i = 0; i < alternatives.size(); ++i) {
    if (i > 0) out += i + 1 == alternatives.size() ? ", or " : ", ";
    out += alternatives[i];
  }
  return out;
}

// "anyone", "a key", or "a key or the session cookie": who may call, in a few words.
std::string WhoText(const json::value& doc, const json::object& op) {
  auto security = op.find("security");
  if (security == op.end() || !security->value().is_array() ||
      security->value().as_array().empty()) {
    return "anyone";
  }
  for (const auto& requirement : security->value().as_array()) {
    if (!requirement.is_object()) continue;
    for (const auto& [name, scopes] : requirement.as_object()) {
      const json::object* scheme =
          Obj(ResolveRef(doc, "#/components/securitySchemes/" + std::string(name)));
      if (scheme != nullptr && Str(*scheme, "in") == "cookie") return "a key or the session cookie";
    }
  }
  return "a key";
}

// Who may call: the operation's x-keyward-caller ("operator", "owner or operator"), else what
// its security requirements say.
std::string CallerText(const json::value& doc, const json::object& op) {
  std::string caller = Str(op, "x-keyward-caller");
  return caller.empty() ? WhoText(doc, op) : caller;
}

std::string BodyText(const json::object& response) {
  const json::object* content = Child(response, "content");
  if (content == nullptr || content->empty()) return "none";
  std::string out;
  for (const auto& [media, entry] : *content) {
    const json::object* e = Obj(&entry);
    std::string text = media == "application/json" && e && e->contains("schema")
                           ? TypeText(e->at("schema"))
                           : "`" + std::string(media) + "`";
    out += (out.empty() ? "" : ", ") + text;
  }
  return out;
}

std::string ResponseMeaning(const json::object& response) {
  std::string out = Str(response, "description");
  if (const json::object* headers = Child(response, "headers"); headers && !headers->empty()) {
    out += ". Headers: ";
    bool first = true;
    for (const auto& [name, header] : *headers) {
      const json::object* h = Obj(&header);
      out += (first ? "" : ", ") + ("`" + std::string(name) + "`");
      if (h != nullptr && !Str(*h, "description").empty()) {
        out += " (" + Str(*h, "description") + ")";
      }
      first = false;
    }
  }
  return out;
}

void RenderOperation(const json::value& doc, const std::string& path,
                     const std::vector<std::string>& methods, const json::object& op,
                     std::ostringstream& out) {
  out << "#### `";
  for (std::size_t i = 0; i < methods.size(); ++i) {
    std::string upper = methods[i];
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out << (i ? ", " : "") << upper;
  }
  out << " " << path << "`\n\n";
  if (std::string summary = Str(op, "summary"); !summary.empty()) out << summary << ".";
  if (std::string description = Str(op, "description"); !description.empty()) {
    out << " " << description;
  }
  out << "\n\nCaller: " << CallerText(doc, op) << ". Credentials: " << AuthText(doc, op) << ".\n\n";

  if (auto params = op.find("parameters"); params != op.end() && params->value().is_array()) {
    out << "| parameter | in | type | required | description |\n"
        << "| --- | --- | --- | --- | --- |\n";
    for (const auto& p_ref : params->value().as_array()) {
      const json::object* p = Obj(Follow(doc, p_ref));
      if (p == nullptr) continue;
      auto schema = p->find("schema");
      auto required = p->find("required");
      out << "| `" << Str(*p, "name") << "` | " << Str(*p, "in") << " | "
          << Cell(schema == p->end() ? "any" : TypeText(schema->value())) << " | "
          << (required != p->end() && required->value() == true ? "yes" : "no") << " | "
          << Cell(Description(*p)) << " |\n";
    }
    out << "\n";
  }

  if (const json::object* body =
          Obj(op.contains("requestBody") ? Follow(doc, op.at("requestBody")) : nullptr)) {
    const json::object* content = Child(*body, "content");
    const bool required = body->contains("required") && body->at("required") == true;
    for (const auto& [media, entry] : content ? *content : json::object()) {
      const json::object* e = Obj(&entry);
      if (e == nullptr || !e->contains("schema")) continue;
      out << "Body (`" << std::string(media) << "`, " << (required ? "required" : "optional")
          << "): " << TypeText(e->at("schema"));
      const json::object* schema = Obj(Follow(doc, e->at("schema")));
      if (schema != nullptr && !Str(*schema, "description").empty()) {
        out << ". " << Str(*schema, "description");
      }
      out << "\n\n" << FieldTable(doc, e->at("schema"));
      out << "\n";
    }
  }

  if (const json::object* responses = Child(op, "responses")) {
    out << "| status | body | meaning |\n| --- | --- | --- |\n";
    // The transport's own refusals (x-keyward-transport) share one last row.
    std::string transport_statuses, transport_meaning;
    for (const auto& [status, response_ref] : *responses) {
      const json::object* response = Obj(Follow(doc, response_ref));
      if (response == nullptr) continue;
      if (auto t = response->find("x-keyward-transport");
          t != response->end() && t->value() == true) {
        transport_statuses += (transport_statuses.empty() ? "" : ", ") + std::string(status);
        transport_meaning += (transport_meaning.empty() ? "" : "; ") +
                             Str(*response, "description") + " (" + std::string(status) + ")";
        continue;
      }
      out << "| " << std::string(status) << " | " << Cell(BodyText(*response)) << " | "
          << Cell(ResponseMeaning(*response)) << " |\n";
    }
    if (!transport_statuses.empty()) {
      out << "| " << transport_statuses << " | `Error` | "
          << Cell("refused by the transport before any route runs: " + transport_meaning) << " |\n";
    }
    out << "\n";
  }
}

struct Section {
  std::string path;
  std::vector<std::string> methods;
  const json::object* op;
};

// The operations of `doc` in document order, those of one path that differ only in method and
// operationId merged.
std::vector<Section> Sections(const json::value& doc) {
  std::vector<Section> out;
  const json::object* paths = doc.is_object() ? Child(doc.as_object(), "paths") : nullptr;
  if (paths == nullptr) return out;
  for (const auto& [path, item_value] : *paths) {
    const json::object* item = Obj(&item_value);
    if (item == nullptr) continue;
    std::vector<std::pair<Section, json::object>> merged;  // with the op minus operationId
    for (const std::string& method : Methods()) {
      const json::object* op = Child(*item, method);
      if (op == nullptr) continue;
      json::object key = *op;
      key.erase("operationId");
      bool found = false;
      for (auto& [section, other] : merged) {
        if (other == key) {
          section.methods.push_back(method);
          found = true;
          break;
        }
      }
      if (!found) merged.emplace_back(Section{std::string(path), {method}, op}, std::move(key));
    }
    for (auto& [section, key] : merged) out.push_back(std::move(section));
  }
  return out;
}

std::string FirstTag(const json::object& op) {
  auto tags = op.find("tags");
  if (tags == op.end() || !tags->value().is_array() || tags->value().as_array().empty()) return "";
  const auto& first = tags->value().as_array().front();
  return first.is_string() ? std::string(first.as_string()) : "";
}

// The sections grouped by their first tag, in the order of the document's tag list; sections
// without a listed tag last, under "Other".
std::vector<std::pair<std::string, std::vector<const Section*>>> ByTag(
    const json::value& doc, const std::vector<Section>& sections,
    std::vector<std::string>* descriptions) {
  std::vector<std::pair<std::string, std::vector<const Section*>>> groups;
  if (const json::value* list = ResolveRef(doc, "#/tags"); list && list->is_array()) {
    for (const auto& t : list->as_array()) {
      if (const json::object* tag = Obj(&t)) {
        groups.push_back({Str(*tag, "name"), {}});
        descriptions->push_back(Str(*tag, "description"));
      }
    }
  }
  groups.push_back({"Other", {}});
  descriptions->push_back("");
  for (const Section& section : sections) {
    const std::string tag = FirstTag(*section.op);
    auto group = std::find_if(groups.begin(), groups.end() - 1,
                              [&](const auto& g) { return g.first == tag; });
    group->second.push_back(&section);
  }
  return groups;
}

}  // namespace

std::string RenderMarkdown(const json::value& doc) {
  std::ostringstream out;
  const std::vector<Section> sections = Sections(doc);
  std::vector<std::string> descriptions;
  const auto groups = ByTag(doc, sections, &descriptions);
  out << "| call | what | who |\n| --- | --- | --- |\n";
  for (const auto& [tag, members] : groups) {
    for (const Section* section : members) {
      std::string methods;
      for (const std::string& m : section->methods) methods += (methods.empty() ? "" : ", ") + m;
      for (char& c : methods) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out << "| `" << methods << " " << section->path << "` | "
          << Cell(Str(*section->op, "summary")) << " | " << Cell(CallerText(doc, *section->op))
          << " |\n";
    }
  }
  out << "\n";
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].second.empty()) continue;
    out << "### " << groups[g].first << "\n\n";
    if (!descriptions[g].empty()) out << descriptions[g] << "\n\n";
    for (const Section* section : groups[g].second) {
      RenderOperation(doc, section->path, section->methods, *section->op, out);
    }
  }
  if (const json::value* schemas = ResolveRef(doc, "#/components/schemas");
      schemas && schemas->is_object()) {
    out << "### Schemas\n\n";
    for (const auto& [name, schema] : schemas->as_object()) {
      out << "#### `" << std::string(name) << "`\n\n";
      const json::object* s = Obj(&schema);
      std::string text = s && Str(*s, "type") == "object" ? "" : TypeText(schema) + ". ";
      text += s ? Str(*s, "description") : "";
      if (!text.empty()) out << text << "\n\n";
      if (std::string table = FieldTable(doc, schema); !table.empty()) out << table << "\n";
    }
  }
  std::string text = out.str();
  while (text.ends_with("\n")) text.pop_back();
  return text;
}

namespace {

struct Span {
  std::size_t begin;  // just after the begin marker's line
  std::size_t end;    // at the start of the end marker's line
};

std::optional<Span> FindSpan(std::string_view markdown) {
  const std::size_t begin = markdown.find(kBeginGenerated);
  if (begin == std::string_view::npos) return std::nullopt;
  const std::size_t line_end = markdown.find('\n', begin);
  if (line_end == std::string_view::npos) return std::nullopt;
  const std::size_t end = markdown.find(kEndGenerated, line_end);
  if (end == std::string_view::npos) return std::nullopt;
  return Span{line_end + 1, end};
}

}  // namespace

std::optional<std::string> ReplaceGenerated(std::string_view markdown, std::string_view generated) {
  auto span = FindSpan(markdown);
  if (!span) return std::nullopt;
  std::string out(markdown.substr(0, span->begin));
  out += "\n";
  out += generated;
  out += "\n\n";
  out += markdown.substr(span->end);
  return out;
}

}  // namespace keyward::openapi
