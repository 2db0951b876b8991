// What the CLI prints: progress and error lines on stderr in the DataOS style
// ("INFO[0000] 🔑 user apikey get..."), and tables, JSON or YAML on stdout.
#pragma once

#include <boost/json/value.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace keyward {

// kWide: a table with more columns (kubectl's `-o wide`), where a command has them.
enum class OutputFormat { kTable, kWide, kJson, kYaml };

// "INFO[0000] message" / "WARN[0000] message" / "ERRO[0000] message"; the number is whole seconds
// since the process started, four digits.
std::string InfoLine(std::string_view message);
std::string WarnLine(std::string_view message);
std::string ErrorLine(std::string_view message);

// A table as the DataOS CLI prints it: centred headers, a dashed rule, left-aligned cells, and
// columns padded to their widest cell and joined by '|'. Rows with fewer cells are padded.
std::string RenderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows);

// Pretty JSON, two-space indent, one trailing newline.
std::string RenderJson(const boost::json::value& value);
// The string member `key` of an object; "" when `value` is not an object or the member is
// absent or not a string.
std::string StringMember(const boost::json::value& value, std::string_view key);
// The member `key` of an object; nullptr when `value` is not an object or has no such member.
const boost::json::value* JsonMember(const boost::json::value& value, std::string_view key);
// The member `key` as a table cell: a string as is, any other value as JSON (a number in
// decimal), "-" when null or absent.
std::string JsonCell(const boost::json::value& value, std::string_view key);
// YAML of the same value (strings quoted where YAML would misread them), one trailing newline.
std::string RenderYaml(const boost::json::value& value);

// Number of characters a terminal shows for `text` (UTF-8 code points).
std::size_t DisplayWidth(std::string_view text);

}  // namespace keyward
