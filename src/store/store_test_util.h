// Test helpers shared by the store tests: a temporary folder and Status assertions (the
// matchers of common/status_matchers.h behind the older macro names).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <ostream>
#include <string>

#include "common/status_matchers.h"

namespace keyward {

// A fresh folder under $TMPDIR (or /tmp), removed with its contents when destroyed.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kw_store_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace keyward

#define KW_EXPECT_OK(expr)                  \
  do {                                      \
    EXPECT_THAT((expr), ::keyward::IsOk()); \
  } while (0)

#define KW_ASSERT_OK(expr)                  \
  do {                                      \
    ASSERT_THAT((expr), ::keyward::IsOk()); \
  } while (0)

// The status (of a Status or a Result) has `code`.
#define KW_EXPECT_CODE(expr, want_code)                  \
  do {                                                   \
    EXPECT_THAT((expr), ::keyward::StatusIs(want_code)); \
  } while (0)

// Declares `lhs` from a Result, failing the test (and returning) if it is an error.
#define KW_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  KW_ASSERT_OK_AND_ASSIGN_IMPL(KW_CONCAT(kw_test_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` is a declaration and `tmp` a name.
#define KW_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  ASSERT_THAT(tmp, ::keyward::IsOk());               \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
