#include "tools/openapi.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "api/path_template.h"
#include "common/clock.h"

namespace keyward::openapi {
namespace {

namespace json = boost::json;

std::string_view View(const json::string& s) { return {s.data(), s.size()}; }

const json::value* Member(const json::object& obj, std::string_view name) {
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &it->value();
}

// --- references -------------------------------------------------------------------------------

void CollectDangling(const json::value& doc, const json::value& v, std::vector<std::string>& out) {
  if (v.is_array()) {
    for (const auto& item : v.as_array()) CollectDangling(doc, item, out);
    return;
  }
  if (!v.is_object()) return;
  for (const auto& [key, value] : v.as_object()) {
    if (key == "$ref" && value.is_string()) {
      if (ResolveRef(doc, View(value.as_string())) == nullptr) {
        out.emplace_back(View(value.as_string()));
      }
    } else {
      CollectDangling(doc, value, out);
    }
  }
}

// --- schema keywords ----------------------------------------------------------------------------

const std::set<std::string, std::less<>>& SupportedKeywords() {
  static const std::set<std::string, std::less<>> words = {
      "type",      "nullable",    "enum",    "properties", "required", "additionalProperties",
      "items",     "$ref",        "format",  "minimum",    "maximum",  "minLength",
      "maxLength", "description", "default", "example"};
  return words;
}

void CheckSchemaKeywords(const json::value& schema, const std::string& where,
                         std::vector<std::string>& out) {
  if (!schema.is_object()) {
    out.push_back(where + ": a schema that is not an object");
    return;
  }
  for (const auto& [key, value] : schema.as_object()) {
    if (!SupportedKeywords().contains(std::string_view(key))) {
      out.push_back(where + ": " + std::string(key));
    } else if (key == "format" && !(value.is_string() && value.as_string() == "date-time")) {
      out.push_back(where + ": format " + json::serialize(value));
    } else if (key == "properties" && value.is_object()) {
      for (const auto& [name, sub] : value.as_object()) {
        CheckSchemaKeywords(sub, where + "/properties/" + std::string(name), out);
      }
    } else if (key == "items" || (key == "additionalProperties" && value.is_object())) {
      CheckSchemaKeywords(value, where + "/" + std::string(key), out);
    }
  }
}

// Every "schema" member outside components/schemas (parameters, media types, headers).
void WalkForSchemas(const json::value& v, const std::string& where, std::vector<std::string>& out) {
  if (v.is_array()) {
    std::size_t i = 0;
    for (const auto& item : v.as_array())
      WalkForSchemas(item, where + "/" + std::to_string(i++), out);
    return;
  }
  if (!v.is_object()) return;
  for (const auto& [key, value] : v.as_object()) {
    const std::string at = where + "/" + std::string(key);
    if (key == "schema") {
      CheckSchemaKeywords(value, at, out);
    } else if (at != "#/components/schemas") {
      WalkForSchemas(value, at, out);
    }
  }
}

// --- validation ---------------------------------------------------------------------------------

bool IsRfc3339(std::string_view text) { return ParseRfc3339(text).has_value(); }

std::size_t CodePoints(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

bool HasType(const json::value& v, std::string_view type) {
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_int64() || v.is_uint64();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_bool();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  return false;
}

std::string KindOf(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "an integer";
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "?";
}

double AsDouble(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.is_double() ? v.get_double() : 0;
}

class Validator {
 public:
  explicit Validator(const json::value& doc) : doc_(doc) {}

  void Check(const json::value& schema_ref, const json::value& v, const std::string& where) {
    const json::value* resolved = Follow(doc_, schema_ref);
    if (resolved == nullptr || !resolved->is_object()) {
      errors_.push_back(where + ": the schema's $ref does not resolve");
      return;
    }
    const json::object& schema = resolved->as_object();
    const json::value* type = Member(schema, "type");
    if (v.is_null()) {
      const json::value* nullable = Member(schema, "nullable");
      if (type != nullptr &&
          !(nullable != nullptr && nullable->is_bool() && nullable->get_bool())) {
        errors_.push_back(where + ": null, expected " + json::serialize(*type));
      }
      return;
    }
    if (type != nullptr && type->is_string() && !HasType(v, View(type->as_string()))) {
      errors_.push_back(where + ": " + KindOf(v) + ", expected " + std::string(type->as_string()));
      return;
    }
    if (const json::value* values = Member(schema, "enum"); values && values->is_array()) {
      const auto& list = values->as_array();
      if (std::find(list.begin(), list.end(), v) == list.end()) {
        errors_.push_back(where + ": " + json::serialize(v) + " is not one of " +
                          json::serialize(*values));
      }
    }
    if (v.is_string()) CheckString(schema, View(v.as_string()), where);
    if (v.is_number()) CheckNumber(schema, v, where);
    if (v.is_object()) CheckObject(schema, v.as_object(), where);
    if (v.is_array()) {
      if (const json::value* items = Member(schema, "items")) {
        std::size_t i = 0;
        for (const auto& item : v.as_array()) {
          Check(*items, item, where + "[" + std::to_string(i++) + "]");
        }
      }
    }
  }

  std::vector<std::string> Take() { return std::move(errors_); }

 private:
  void CheckString(const json::object& schema, std::string_view s, const std::string& where) {
    const json::value* format = Member(schema, "format");
    if (format != nullptr && *format == "date-time" && !IsRfc3339(s)) {
      errors_.push_back(where + ": \"" + std::string(s) + "\" is not an RFC 3339 time");
    }
    const json::value* min = Member(schema, "minLength");
    if (min != nullptr && min->is_number() && static_cast<double>(CodePoints(s)) < AsDouble(*min)) {
      errors_.push_back(where + ": shorter than " + json::serialize(*min));
    }
    const json::value* max = Member(schema, "maxLength");
    if (max != nullptr && max->is_number() && static_cast<double>(CodePoints(s)) > AsDouble(*max)) {
      errors_.push_back(where + ": longer than " + json::serialize(*max));
    }
  }

  void CheckNumber(const json::object& schema, const json::value& v, const std::string& where) {
    const json::value* min = Member(schema, "minimum");
    if (min != nullptr && min->is_number() && AsDouble(v) < AsDouble(*min)) {
      errors_.push_back(where + ": " + json::serialize(v) + " is below " + json::serialize(*min));
    }
    const json::value* max = Member(schema, "maximum");
    if (max != nullptr && max->is_number() && AsDouble(v) > AsDouble(*max)) {
      errors_.push_back(where + ": " + json::serialize(v) + " is above " + json::serialize(*max));
    }
  }

  void CheckObject(const json::object& schema, const json::object& obj, const std::string& where) {
    if (const json::value* required = Member(schema, "required");
        required && required->is_array()) {
      for (const auto& name : required->as_array()) {
        if (name.is_string() && !obj.contains(View(name.as_string()))) {
          errors_.push_back(where + ": \"" + std::string(name.as_string()) + "\" is missing");
        }
      }
    }
    const json::value* properties = Member(schema, "properties");
    const json::value* additional = Member(schema, "additionalProperties");
    for (const auto& [key, value] : obj) {
      const std::string at = where + "." + std::string(key);
      const json::value* property = properties != nullptr && properties->is_object()
                                        ? Member(properties->as_object(), key)
                                        : nullptr;
      if (property != nullptr) {
        Check(*property, value, at);
      } else if (additional != nullptr && additional->is_bool() && !additional->get_bool()) {
        errors_.push_back(at + ": not a documented member");
      } else if (additional != nullptr && additional->is_object()) {
        Check(*additional, value, at);
      }
    }
  }

  const json::value& doc_;
  std::vector<std::string> errors_;
};

// --- paths --------------------------------------------------------------------------------------

// The number of literal segments when `path` matches `segments`, or -1.
int MatchPath(std::string_view path, const std::vector<std::string>& segments) {
  const std::vector<std::string> parts = SplitPathTemplate(path);
  if (parts.size() != segments.size()) return -1;
  int literals = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (IsPathParameter(parts[i])) {
      if (segments[i].empty()) return -1;
    } else if (parts[i] == segments[i]) {
      ++literals;
    } else {
      return -1;
    }
  }
  return literals;
}

}  // namespace

const json::value* ResolveRef(const json::value& doc, std::string_view ref) {
  if (!ref.starts_with('#')) return nullptr;
  ref.remove_prefix(1);
  const json::value* at = &doc;
  while (!ref.empty()) {
    if (ref.front() != '/') return nullptr;
    ref.remove_prefix(1);
    const std::size_t end = std::min(ref.find('/'), ref.size());
    std::string token;
    for (std::size_t i = 0; i < end; ++i) {
      if (ref[i] == '~' && i + 1 < end && (ref[i + 1] == '0' || ref[i + 1] == '1')) {
        token += ref[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += ref[i];
      }
    }
    ref.remove_prefix(end);
    if (at->is_object()) {
      at = Member(at->as_object(), token);
    } else if (at->is_array() && !token.empty() &&
               std::all_of(token.begin(), token.end(),
                           [](char c) { return c >= '0' && c <= '9'; })) {
      const std::size_t index = std::stoul(token);
      at = index < at->as_array().size() ? &at->as_array()[index] : nullptr;
    } else {
      return nullptr;
    }
    if (at == nullptr) return nullptr;
  }
  return at;
}

const json::value* Follow(const json::value& doc, const json::value& value) {
  const json::value* at = &value;
  for (int depth = 0; depth < 32; ++depth) {
    if (!at->is_object()) return at;
    const json::value* ref = Member(at->as_object(), "$ref");
    if (ref == nullptr) return at;
    if (!ref->is_string()) return nullptr;
    at = ResolveRef(doc, View(ref->as_string()));
    if (at == nullptr) return nullptr;
  }
  return nullptr;
}

std::vector<std::string> DanglingRefs(const json::value& doc) {
  std::vector<std::string> out;
  CollectDangling(doc, doc, out);
  return out;
}

std::vector<std::string> UnsupportedKeywords(const json::value& doc) {
  std::vector<std::string> out;
  WalkForSchemas(doc, "#", out);
  if (const json::value* schemas = ResolveRef(doc, "#/components/schemas");
      schemas != nullptr && schemas->is_object()) {
    for (const auto& [name, schema] : schemas->as_object()) {
      CheckSchemaKeywords(schema, "#/components/schemas/" + std::string(name), out);
    }
  }
  return out;
}

std::vector<std::string> Validate(const json::value& doc, const json::value& schema,
                                  const json::value& instance) {
  Validator validator(doc);
  validator.Check(schema, instance, "$");
  return validator.Take();
}

const std::vector<std::string>& Methods() {
  static const std::vector<std::string> methods = {"get",     "put",  "post",  "delete",
                                                   "options", "head", "patch", "trace"};
  return methods;
}

std::optional<Operation> FindOperation(const json::value& doc, std::string_view method,
                                       const std::vector<std::string>& segments) {
  std::string wanted(method);
  for (char& c : wanted) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const json::value* paths = doc.is_object() ? Member(doc.as_object(), "paths") : nullptr;
  if (paths == nullptr || !paths->is_object()) return std::nullopt;
  struct Candidate {
    int literals;
    std::string path;
    const json::object* item;
  };
  std::vector<Candidate> candidates;
  for (const auto& [path, item] : paths->as_object()) {
    const int literals = MatchPath(View(path), segments);
    if (literals >= 0 && item.is_object()) {
      candidates.push_back({literals, std::string(path), &item.as_object()});
    }
  }
  if (candidates.empty()) return std::nullopt;
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.literals > b.literals; });
  Operation out;
  for (const Candidate& c : candidates) {
    for (const std::string& m : Methods()) {
      if (c.item->contains(m) &&
          std::find(out.methods.begin(), out.methods.end(), m) == out.methods.end()) {
        out.methods.push_back(m);
      }
    }
  }
  for (const Candidate& c : candidates) {
    for (const std::string& m : {wanted, std::string(wanted == "head" ? "get" : "")}) {
      const json::value* op = m.empty() ? nullptr : Member(*c.item, m);
      if (op != nullptr && op->is_object()) {
        out.path = c.path;
        out.method = m;
        out.object = &op->as_object();
        return out;
      }
    }
  }
  out.path = candidates.front().path;
  out.method = wanted;
  return out;
}

}  // namespace keyward::openapi
