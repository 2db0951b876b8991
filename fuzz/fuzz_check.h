// What every fuzz target uses to state a property: on a violation, one line naming the check on
// stderr, then a trap, which libFuzzer reports as a crash (and saves the input) and which fails
// the replay test of `make test`. A target may put what it checks (a response, say) in
// FuzzContext(); a violation prints it too.
#pragma once

#include <cstdio>
#include <string>

namespace keyward::fuzz {
inline std::string& FuzzContext() {
  thread_local std::string context;
  return context;
}
}  // namespace keyward::fuzz

#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "%s:%d: fuzz property violated: %s\n", __FILE__, __LINE__, #condition); \
      const std::string& fuzz_context = ::keyward::fuzz::FuzzContext();                            \
      if (!fuzz_context.empty())                                                                   \
        std::fprintf(stderr, "while checking:\n%s\n", fuzz_context.c_str());                       \
      std::fflush(stderr);                                                                         \
      __builtin_trap();                                                                            \
    }                                                                                              \
  } while (false)
