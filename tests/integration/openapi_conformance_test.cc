// Runs after the whole integration suite (a ctest fixture cleanup, like secrets_scan_test):
// every response a test read through the harness (Call, CallFrom, ServerProcess::As), recorded
// in <artifacts>/responses/, must be one src/api/openapi.json allows:
//
//   - a documented operation: its status is documented for that operation, its Content-Type is
//     one the response documents (no body where none is), and a JSON body validates against the
//     response's schema. HEAD is checked as the GET it stands for, without a body.
//   - a documented path with another method: 405 with the Error body (the document says so in
//     its info and components/responses/MethodNotAllowed), or a transport refusal.
//   - any other path: 404 with the Error body (components/responses/NotFound), a transport
//     refusal (400, 413, 414, 431 with the Error body), or, outside /api/, a file of the web UI
//     (GET or HEAD, 200), which the document leaves out on purpose.
//   - a response with a Server header is another server's (nginx in nginx_test; Keyward sends
//     none): counted, not checked.
//
// Prints the responses checked per operation and the operations no test exercised.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "tools/openapi.h"

namespace keyward::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct Verdict {
  std::string label;       // "GET /api/v1/users/{id}", or what kind of undocumented request
  std::string error;       // empty when the response is one the document allows
  bool validated = false;  // a JSON body was validated against a schema
};

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "application/json; charset=utf-8" → "application/json".
std::string MediaType(std::string_view content_type) {
  std::string media(content_type.substr(0, content_type.find(';')));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return media;
}

const json::value* Find(const json::object& obj, std::string_view name) {
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &it->value();
}

// An Error body, the one shape of every refusal outside a documented operation.
std::string ExpectErrorBody(const json::value& doc, const json::object& record) {
  const json::value* body = Find(record, "body");
  if (body == nullptr) return "no JSON body where the Error shape is due";
  std::vector<std::string> errors =
      openapi::Validate(doc, json::value{{"$ref", "#/components/schemas/Error"}}, *body);
  return errors.empty() ? "" : "not the Error shape: " + errors.front();
}

bool IsTransportRefusal(std::int64_t status) {
  return status == 400 || status == 413 || status == 414 || status == 431;
}

// A response to a documented operation.
Verdict CheckOperation(const json::value& doc, const openapi::Operation& op,
                       const json::object& record, bool head) {
  Verdict v;
  v.label = Upper(op.method) + " " + op.path;
  const std::string status = std::to_string(record.at("status").to_number<std::int64_t>());
  const json::object& responses = op.object->at("responses").as_object();
  const json::value* response_ref = Find(responses, status);
  if (response_ref == nullptr) response_ref = Find(responses, "default");
  if (response_ref == nullptr) {
    v.error = "status " + status + " is not documented";
    return v;
  }
  const json::value* response = openapi::Follow(doc, *response_ref);
  if (response == nullptr || !response->is_object()) {
    v.error = "the response of status " + status + " does not resolve";
    return v;
  }
  const json::value* content = Find(response->as_object(), "content");
  const auto body_bytes = record.at("body_bytes").to_number<std::int64_t>();
  if (content == nullptr || content->as_object().empty()) {
    if (body_bytes != 0) v.error = status + " has a body where the document has none";
    return v;
  }
  if (head) return v;  // no body to check
  if (body_bytes == 0) {
    v.error = status + " has no body where the document has one";
    return v;
  }
  const std::string media = MediaType(std::string(record.at("content_type").as_string()));
  const json::value* schema = nullptr;
  bool documented = false;
  for (const auto& [name, entry] : content->as_object()) {
    if (MediaType(name) != media) continue;
    documented = true;
    if (entry.is_object()) schema = Find(entry.as_object(), "schema");
  }
  if (!documented) {
    v.error = status + " answered Content-Type \"" +
              std::string(record.at("content_type").as_string()) +
              "\", which the document does not list";
    return v;
  }
  const json::value* body = Find(record, "body");
  if (schema != nullptr && body != nullptr) {
    std::vector<std::string> errors = openapi::Validate(doc, *schema, *body);
    if (!errors.empty()) v.error = status + " body: " + errors.front();
    v.validated = true;
  }
  return v;
}

Verdict CheckRequest(const json::value& doc, const json::object& record) {
  const std::string method = Upper(std::string(record.at("method").as_string()));
  const std::string target(record.at("target").as_string());
  const auto status = record.at("status").to_number<std::int64_t>();
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    Verdict v{"malformed request targets", ""};
    if (status != 400) v.error = "a malformed target answered " + std::to_string(status);
    if (v.error.empty()) v.error = ExpectErrorBody(doc, record);
    return v;
  }
  std::vector<std::string> segments;
  for (auto segment : url->segments()) segments.emplace_back(segment);
  // /auth takes any path below it, which an OpenAPI path template cannot say: /auth/{path}
  // stands for all of them.
  const std::string path(url->encoded_path());
  if (path.starts_with("/auth/")) segments = {"auth", "any"};

  const bool head = method == "HEAD";
  auto op = openapi::FindOperation(doc, method, segments);
  if (op && op->object != nullptr) return CheckOperation(doc, *op, record, head);
  Verdict v;
  if (op) {  // the path is documented, this method is not
    v.label = "other methods of documented paths";
    if (status != 405 && !IsTransportRefusal(status)) {
      v.error = method + " " + op->path + " answered " + std::to_string(status) + ", not 405";
    }
  } else if ((method == "GET" || head) && !path.starts_with("/api/") && status == 200) {
    v.label = "web UI files (not in the document)";
    if (MediaType(std::string(record.at("content_type").as_string())) == "application/json") {
      v.error = "a JSON answer at an undocumented path";
    }
    return v;
  } else {
    v.label = "undocumented paths";
    if (status != 404 && !IsTransportRefusal(status)) {
      v.error = "an undocumented path answered " + std::to_string(status) + ", not 404";
    }
  }
  if (v.error.empty() && !head) v.error = ExpectErrorBody(doc, record);
  return v;
}

// The verdict on one recorded response.
Verdict CheckRecord(const json::value& doc, const json::object& record) {
  // Keyward sends no Server header: this is nginx (nginx_test) answering for itself.
  if (const json::value* server = Find(record, "server")) {
    const std::string name(server->as_string());
    return {"other servers: " + name.substr(0, name.find('/')), ""};
  }
  Verdict v = CheckRequest(doc, record);
  if (record.contains("body_not_json")) {
    v.error = "a JSON Content-Type with a body that is not JSON";
  }
  return v;
}

// --- the checks themselves, on records made up here --------------------------------------------

json::object Record(std::string method, std::string target, int status,
                    const std::string& body = "",
                    const std::string& content_type = "application/json") {
  json::object r{{"method", method},
                 {"target", target},
                 {"status", status},
                 {"content_type", body.empty() ? "" : content_type},
                 {"body_bytes", body.size()}};
  if (!body.empty() && content_type == "application/json") r["body"] = json::parse(body);
  return r;
}

std::string ErrorOf(const json::object& record) {
  return CheckRecord(openapi::Document(), record).error;
}

// GET /users/me: a User and what the caller may do.
constexpr const char* kUser =
    R"({"id":"alice","name":"Alice","type":"person","tags":[],"created":"2023-08-10T23:00:00Z",)"
    R"("can_manage_users":false})";
constexpr const char* kError = R"({"error":{"code":"not_found","message":"no such route"}})";

TEST(ConformanceCheckTest, AcceptsWhatTheDocumentSays) {
  EXPECT_EQ(ErrorOf(Record("GET", "/api/v1/users/me", 200, kUser)), "");
  EXPECT_EQ(ErrorOf(Record("GET", "/api/v1/users/a%2Fb", 404, kError)), "");
  EXPECT_EQ(ErrorOf(Record("HEAD", "/healthz", 200)), "");
  EXPECT_EQ(ErrorOf(Record("DELETE", "/api/v1/users/me/apikeys/k", 204)), "");
  EXPECT_EQ(ErrorOf(Record("PUT", "/auth/some/where?x=1", 200)), "");
  EXPECT_EQ(ErrorOf(Record("PUT", "/api/v1/users", 405, kError)), "");
  EXPECT_EQ(ErrorOf(Record("GET", "/nope", 404, kError)), "");
  EXPECT_EQ(ErrorOf(Record("GET", "/app.js", 200, "x", "text/javascript")), "");
  EXPECT_EQ(ErrorOf(Record("GET", "/metrics", 200, "# HELP x\n", "text/plain; version=0.0.4")), "");
  EXPECT_EQ(CheckRecord(openapi::Document(), Record("GET", "/api/v1/users/me", 200, kUser)).label,
            "GET /api/v1/users/me");
  json::object from_nginx = Record("GET", "/things/42", 500, "<html>", "text/html");
  from_nginx["server"] = "nginx/1.22.1";
  EXPECT_EQ(CheckRecord(openapi::Document(), from_nginx).label, "other servers: nginx");
}

// The conformance test fails when a live response differs from the document.
TEST(ConformanceCheckTest, RefusesWhatTheDocumentDoesNotSay) {
  // A body that breaks the schema: a member missing, one too many, a wrong type.
  EXPECT_EQ(ErrorOf(Record("GET", "/api/v1/users/me", 200,
                           R"({"id":"alice","name":"Alice","type":"person","created":"x"})")),
            "200 body: $: \"tags\" is missing");
  EXPECT_EQ(ErrorOf(Record("GET", "/api/v1/users/me/apikeys", 200, "[{\"name\":1}]")).substr(0, 14),
            "200 body: $[0]");
  EXPECT_EQ(ErrorOf(Record("GET", "/api/v1/users/me", 200,
                           R"({"id":"a","name":"A","type":"person","tags":[],)"
                           R"("created":"2023-08-10T23:00:00Z","can_manage_users":true,)"
                           R"("password":"x"})")),
            "200 body: $.password: not a documented member");
  // A status the operation does not document, a body where none is, none where one is.
  EXPECT_EQ(ErrorOf(Record("GET", "/api/v1/users/me", 409, kError)),
            "status 409 is not documented");
  EXPECT_EQ(ErrorOf(Record("DELETE", "/api/v1/users/me/apikeys/k", 204, "{}")),
            "204 has a body where the document has none");
  EXPECT_EQ(ErrorOf(Record("GET", "/api/v1/users/me", 200)),
            "200 has no body where the document has one");
  EXPECT_EQ(ErrorOf(Record("GET", "/api/v1/users/me", 200, "<html>", "text/html")),
            "200 answered Content-Type \"text/html\", which the document does not list");
  EXPECT_EQ(ErrorOf(Record("POST", "/auth", 500, kError)), "status 500 is not documented");
  // Undocumented paths and methods answer 404 and 405 with the Error shape, nothing else.
  EXPECT_EQ(ErrorOf(Record("GET", "/api/v1/nope", 200, "{}")),
            "an undocumented path answered 200, not 404");
  EXPECT_EQ(ErrorOf(Record("POST", "/healthz", 200, R"({"status":"ok"})")),
            "POST /healthz answered 200, not 405");
  EXPECT_EQ(ErrorOf(Record("GET", "/api/v1/nope", 404, R"({"message":"x"})")).substr(0, 22),
            "not the Error shape: $");
  json::object broken = Record("GET", "/api/v1/users/me", 200, kUser);
  broken.erase("body");
  broken["body_not_json"] = true;
  EXPECT_EQ(ErrorOf(broken), "a JSON Content-Type with a body that is not JSON");
}

// --- the recorded responses of the suite ---------------------------------------------------------

struct Tally {
  std::size_t responses = 0;
  std::set<std::int64_t> statuses;
};

TEST(OpenApiConformanceTest, EveryRecordedResponseIsDocumented) {
  const std::string artifacts = ArtifactsDir();
  ASSERT_FALSE(artifacts.empty()) << "KEYWARD_TEST_ARTIFACTS is not set";
  const json::value& doc = openapi::Document();
  ASSERT_TRUE(doc.is_object());
  const fs::path dir = fs::path(artifacts) / "responses";

  std::map<std::string, Tally> tallies;
  struct Failure {
    std::size_t count = 0;
    std::string example;  // one request that got it
  };
  std::map<std::pair<std::string, std::string>, Failure> failures;
  std::size_t records = 0, validated = 0, files = 0;
  if (fs::exists(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      ++files;
      std::ifstream in(entry.path());
      for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        boost::system::error_code ec;
        json::value record = json::parse(line, ec);
        ASSERT_FALSE(ec) << entry.path() << ": not a JSON line: " << line.substr(0, 200);
        ++records;
        const Verdict v = CheckRecord(doc, record.as_object());
        Tally& t = tallies[v.label];
        ++t.responses;
        t.statuses.insert(record.at("status").to_number<std::int64_t>());
        if (v.validated) ++validated;
        if (!v.error.empty()) {
          Failure& f = failures[{v.label, v.error}];
          if (f.count++ == 0) {
            f.example = std::string(record.at("method").as_string()) + " " +
                        std::string(record.at("target").as_string()).substr(0, 120);
          }
        }
      }
    }
  }
  // Every integration test makes requests through the harness; none recorded means the
  // recording broke, and this test would check nothing.
  ASSERT_GE(records, 1u) << "no responses were recorded in " << dir;

  std::cout << "checked " << records << " responses from " << files << " test processes, "
            << validated << " JSON bodies validated against their schemas\n";
  std::set<std::string> seen;
  for (const auto& [label, t] : tallies) {
    std::cout << "  " << std::setw(7) << t.responses << "  " << label << "  [";
    for (auto it = t.statuses.begin(); it != t.statuses.end(); ++it) {
      std::cout << (it == t.statuses.begin() ? "" : " ") << *it;
    }
    std::cout << "]\n";
    seen.insert(label);
  }
  std::vector<std::string> never;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      const std::string label = Upper(std::string(method)) + " " + std::string(path);
      if (!seen.contains(label)) never.push_back(label);
    }
  }
  std::cout << "operations no integration test exercised (" << never.size() << "):";
  for (const auto& label : never) std::cout << "\n  " << label;
  std::cout << "\n";

  for (const auto& [what, f] : failures) {
    ADD_FAILURE() << what.first << ": " << what.second << " (" << f.count << " responses; e.g. "
                  << f.example << ")";
  }
}

}  // namespace
}  // namespace keyward::testing
