// keyward_api_docs OPENAPI_JSON MARKDOWN: renders the API reference from the OpenAPI document
// into MARKDOWN (docs/api.md), between its BEGIN GENERATED and END GENERATED markers; the rest
// of the file is left as it is. `make api-docs` runs it. Exit code 1 on any error.
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/openapi_markdown.h"

namespace {

bool ReadAll(const char* path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: keyward_api_docs src/api/openapi.json docs/api.md\n";
    return 1;
  }
  std::string json_text, markdown;
  if (!ReadAll(argv[1], &json_text) || !ReadAll(argv[2], &markdown)) {
    std::cerr << "keyward_api_docs: cannot read " << argv[1] << " or " << argv[2] << "\n";
    return 1;
  }
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json_text, ec);
  if (ec) {
    std::cerr << "keyward_api_docs: " << argv[1] << " is not valid JSON: " << ec.message() << "\n";
    return 1;
  }
  auto updated =
      keyward::openapi::ReplaceGenerated(markdown, keyward::openapi::RenderMarkdown(doc));
  if (!updated) {
    std::cerr << "keyward_api_docs: " << argv[2] << " lacks the lines\n  "
              << keyward::openapi::kBeginGenerated << "\n  " << keyward::openapi::kEndGenerated
              << "\n";
    return 1;
  }
  if (*updated == markdown) {
    std::cout << argv[2] << " is up to date\n";
    return 0;
  }
  std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
  out << *updated;
  if (!out.flush()) {
    std::cerr << "keyward_api_docs: cannot write " << argv[2] << "\n";
    return 1;
  }
  std::cout << "rendered " << argv[1] << " into " << argv[2] << "\n";
  return 0;
}
