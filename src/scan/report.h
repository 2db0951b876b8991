// What `keyward scan` prints: text, JSON or SARIF 2.1.0. Keys are always masked
// ("kw_AbCd…wXyZ"). Pure functions.
//
// text   one line per finding, "path:line:column: masked", with "commit:" in front for git
//        history and " (live)", " (live, revoked)" or " (not live)" after --check
// json   {"findings": [{"path", "line", "column", "masked", "commit"?, "live"?, "revoked"?}]}
// sarif  one run of tool "keyward" with one rule, "keyward-api-key"; run.columnKind
//        "utf16CodeUnits" and columns counted so; a result per finding with its region
//        (startLine, startColumn, endColumn), the masked key in its message, and in
//        "properties" the commit, live and revoked where known
//
// line and column start at 1; the column counts bytes from the line's start in text and json.
//
// Paths come from file names and repositories that may be hostile: text output escapes them
// (EscapeForTerminal), JSON replaces invalid UTF-8 in them (ValidUtf8), SARIF percent-encodes
// them (PathUri), so that neither a terminal nor a JSON parser meets raw bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scan/finding.h"

namespace keyward::scan {

std::string RenderText(const std::vector<Finding>& findings);
std::string RenderJson(const std::vector<Finding>& findings);
// `version`: the tool's version for tool.driver.version.
std::string RenderSarif(const std::vector<Finding>& findings, std::string_view version);

// `text` safe to print to a terminal: each byte below 0x20, DEL, each byte of a C1 control
// (U+0080-U+009F) and each byte that is not valid UTF-8 written as \x1b is (four characters),
// a backslash as \\ (so that the escapes are unambiguous); valid UTF-8 otherwise unchanged.
std::string EscapeForTerminal(std::string_view text);

// `text` with each byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string ValidUtf8(std::string_view text);

// A path as a SARIF artifact URI: a relative URI reference for a relative path (without a
// leading "./"), "file://…" for an absolute one; bytes other than unreserved ones and '/'
// percent-encoded.
std::string PathUri(std::string_view path);

}  // namespace keyward::scan
