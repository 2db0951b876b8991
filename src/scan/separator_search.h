// The one pass over the bulk of a scanned text: the next '_' or '%' (where a key's separator,
// "_" or "%5F", may start). Two memchr passes, one per byte, cost almost twice one; these
// compare 32 or 64 bytes with both at a time. Pure, thread safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace keyward::scan {

// The first '_' or '%' in text at or after `from`, or text.size(): with AVX2 where the CPU has
// it, else SSE2 (every x86-64 has it), else byte by byte.
std::size_t FindSeparator(std::string_view text, std::size_t from);

// As FindSeparator, but a '_' only where the byte before it is `before` (the last byte of every
// prefix: in snake_case text most '_' follow other bytes, and each hit costs a call); a '%'
// always. A '_' at offset 0 has no byte before it and is never returned.
std::size_t FindCandidate(std::string_view text, std::size_t from, char before);

// As FindCandidate, and adds to `newlines` how many '\n' bytes text[from, the result) holds: the
// line numbers of findings counted in the same pass as the search, not by reading the text again
// (CountNewlines).
std::size_t FindCandidateCountingNewlines(std::string_view text, std::size_t from, char before,
                                          std::size_t& newlines);

// How many '\n' bytes p[0, n) holds: for the line numbers of findings, counted between one
// finding and the next (text the search has just read, so from the cache). AVX2 or SSE2.
std::size_t CountNewlines(const char* p, std::size_t n);

// The variants FindSeparator picks from, for tests: the same contract over p[0, n).
std::size_t FindSeparatorBytewise(const char* p, std::size_t from, std::size_t n);
std::size_t FindCandidateBytewise(const char* p, std::size_t from, std::size_t n, char before);
std::size_t FindCandidateCountingBytewise(const char* p, std::size_t from, std::size_t n,
                                          char before, std::size_t& newlines);
#if defined(__x86_64__)
std::size_t FindCandidateSse2(const char* p, std::size_t from, std::size_t n, char before);
std::size_t FindCandidateAvx2(const char* p, std::size_t from, std::size_t n, char before);
std::size_t FindCandidateCountingSse2(const char* p, std::size_t from, std::size_t n, char before,
                                      std::size_t& newlines);
// Only on a CPU with AVX2 (and POPCNT, which every CPU with AVX2 has).
std::size_t FindCandidateCountingAvx2(const char* p, std::size_t from, std::size_t n, char before,
                                      std::size_t& newlines);
std::size_t FindSeparatorSse2(const char* p, std::size_t from, std::size_t n);
// Only on a CPU with AVX2.
std::size_t FindSeparatorAvx2(const char* p, std::size_t from, std::size_t n);
// CountNewlines' variants, likewise.
std::size_t CountNewlinesSse2(const char* p, std::size_t n);
std::size_t CountNewlinesAvx2(const char* p, std::size_t n);
#endif

}  // namespace keyward::scan
