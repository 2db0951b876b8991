#include "scan/separator_search.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>

namespace keyward::scan {

std::size_t FindSeparatorBytewise(const char* p, std::size_t from, std::size_t n) {
  for (std::size_t i = from; i < n; ++i) {
    if (p[i] == '_' || p[i] == '%') return i;
  }
  return n;
}

std::size_t FindCandidateCountingBytewise(const char* p, std::size_t from, std::size_t n,
                                          char before, std::size_t& newlines) {
  std::size_t count = 0;
  if (from == 0 && n > 0 && p[0] == '\n') ++count;  // never a candidate, but a line's end
  std::size_t i = from == 0 ? 1 : from;
  for (; i < n; ++i) {
    if (p[i] == '%' || (p[i] == '_' && p[i - 1] == before)) break;
    if (p[i] == '\n') ++count;
  }
  newlines += count;
  return std::min(i, n);
}

// The searches without the count are the counting ones, the count left unread: one loop each.
std::size_t FindCandidateBytewise(const char* p, std::size_t from, std::size_t n, char before) {
  std::size_t newlines = 0;
  return FindCandidateCountingBytewise(p, from, n, before, newlines);
}

#if defined(__x86_64__)

namespace {

// The sum of the 32 byte-wide counters of `counters`.
__attribute__((target("avx2"))) inline std::size_t SumBytesAvx2(__m256i counters) {
  const __m256i sums = _mm256_sad_epu8(counters, _mm256_setzero_si256());
  return static_cast<std::size_t>(_mm256_extract_epi64(sums, 0) + _mm256_extract_epi64(sums, 1) +
                                  _mm256_extract_epi64(sums, 2) + _mm256_extract_epi64(sums, 3));
}

inline std::size_t SumBytesSse2(__m128i counters) {
  const __m128i sums = _mm_sad_epu8(counters, _mm_setzero_si128());
  return static_cast<std::size_t>(_mm_cvtsi128_si64(sums) +
                                  _mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
}

}  // namespace

// 64 bytes a turn; the bytes before are read only when a '_' or '%' is among them (in most text,
// not). The '\n' bytes it passes are counted in byte-wide counters (as CountNewlinesAvx2 does:
// at most 2 a turn, summed every 127 turns) and, in the 64 bytes where it stops, those before
// the candidate.
__attribute__((target("avx2,popcnt"))) std::size_t FindCandidateCountingAvx2(
    const char* p, std::size_t from, std::size_t n, char before, std::size_t& newlines) {
  const __m256i underscore = _mm256_set1_epi8('_');
  const __m256i percent = _mm256_set1_epi8('%');
  const __m256i end = _mm256_set1_epi8(before);
  const __m256i newline = _mm256_set1_epi8('\n');
  std::size_t count = 0;
  if (from == 0 && n > 0 && p[0] == '\n') ++count;
  std::size_t i = from == 0 ? 1 : from;  // p[i - 1] is read
  __m256i counters = _mm256_setzero_si256();
  int turns = 0;
  for (; i + 64 <= n; i += 64) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
    const __m256i newline_a = _mm256_cmpeq_epi8(a, newline);
    const __m256i newline_b = _mm256_cmpeq_epi8(b, newline);
    const __m256i underscore_a = _mm256_cmpeq_epi8(a, underscore);
    const __m256i underscore_b = _mm256_cmpeq_epi8(b, underscore);
    const __m256i percent_a = _mm256_cmpeq_epi8(a, percent);
    const __m256i percent_b = _mm256_cmpeq_epi8(b, percent);
    const __m256i any = _mm256_or_si256(_mm256_or_si256(underscore_a, underscore_b),
                                        _mm256_or_si256(percent_a, percent_b));
    if (_mm256_testz_si256(any, any) == 0) {
      const __m256i prev_a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i - 1));
      const __m256i prev_b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 31));
      const __m256i hit_a = _mm256_or_si256(
          _mm256_and_si256(underscore_a, _mm256_cmpeq_epi8(prev_a, end)), percent_a);
      const __m256i hit_b = _mm256_or_si256(
          _mm256_and_si256(underscore_b, _mm256_cmpeq_epi8(prev_b, end)), percent_b);
      const std::uint64_t mask =
          static_cast<std::uint32_t>(_mm256_movemask_epi8(hit_a)) |
          std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(hit_b))} << 32;
      if (mask != 0) {
        const int at = __builtin_ctzll(mask);
        const std::uint64_t lines =
            static_cast<std::uint32_t>(_mm256_movemask_epi8(newline_a)) |
            std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(newline_b))} << 32;
        count +=
            static_cast<std::size_t>(__builtin_popcountll(lines & ((std::uint64_t{1} << at) - 1)));
        newlines += count + SumBytesAvx2(counters);
        return i + static_cast<std::size_t>(at);
      }
    }
    counters = _mm256_sub_epi8(counters, _mm256_add_epi8(newline_a, newline_b));
    if (++turns == 127) {
      count += SumBytesAvx2(counters);
      counters = _mm256_setzero_si256();
      turns = 0;
    }
  }
  newlines += count + SumBytesAvx2(counters);
  return FindCandidateCountingBytewise(p, i, n, before, newlines);
}

// 16 bytes a turn, counting as FindCandidateCountingAvx2 does (at most 1 a turn, summed every
// 255 turns).
std::size_t FindCandidateCountingSse2(const char* p, std::size_t from, std::size_t n, char before,
                                      std::size_t& newlines) {
  const __m128i underscore = _mm_set1_epi8('_');
  const __m128i percent = _mm_set1_epi8('%');
  const __m128i end = _mm_set1_epi8(before);
  const __m128i newline = _mm_set1_epi8('\n');
  std::size_t count = 0;
  if (from == 0 && n > 0 && p[0] == '\n') ++count;
  std::size_t i = from == 0 ? 1 : from;  // p[i - 1] is read
  __m128i counters = _mm_setzero_si128();
  int turns = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i prev = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i - 1));
    const __m128i lines = _mm_cmpeq_epi8(a, newline);
    const __m128i hit =
        _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(a, underscore), _mm_cmpeq_epi8(prev, end)),
                     _mm_cmpeq_epi8(a, percent));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) {
      const int at = __builtin_ctz(static_cast<unsigned>(mask));
      const auto line_mask = static_cast<unsigned>(_mm_movemask_epi8(lines));
      count += static_cast<std::size_t>(__builtin_popcount(line_mask & ((1u << at) - 1)));
      newlines += count + SumBytesSse2(counters);
      return i + static_cast<std::size_t>(at);
    }
    counters = _mm_sub_epi8(counters, lines);
    if (++turns == 255) {
      count += SumBytesSse2(counters);
      counters = _mm_setzero_si128();
      turns = 0;
    }
  }
  newlines += count + SumBytesSse2(counters);
  return FindCandidateCountingBytewise(p, i, n, before, newlines);
}

std::size_t FindCandidateAvx2(const char* p, std::size_t from, std::size_t n, char before) {
  std::size_t newlines = 0;
  return FindCandidateCountingAvx2(p, from, n, before, newlines);
}

std::size_t FindCandidateSse2(const char* p, std::size_t from, std::size_t n, char before) {
  std::size_t newlines = 0;
  return FindCandidateCountingSse2(p, from, n, before, newlines);
}

__attribute__((target("avx2"))) std::size_t FindSeparatorAvx2(const char* p, std::size_t from,
                                                              std::size_t n) {
  const __m256i underscore = _mm256_set1_epi8('_');
  const __m256i percent = _mm256_set1_epi8('%');
  std::size_t i = from;
  for (; i + 64 <= n; i += 64) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
    const __m256i hit_a =
        _mm256_or_si256(_mm256_cmpeq_epi8(a, underscore), _mm256_cmpeq_epi8(a, percent));
    const __m256i hit_b =
        _mm256_or_si256(_mm256_cmpeq_epi8(b, underscore), _mm256_cmpeq_epi8(b, percent));
    const __m256i hit = _mm256_or_si256(hit_a, hit_b);
    if (_mm256_testz_si256(hit, hit) != 0) continue;
    const std::uint64_t mask =
        static_cast<std::uint32_t>(_mm256_movemask_epi8(hit_a)) |
        std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(hit_b))} << 32;
    return i + static_cast<std::size_t>(__builtin_ctzll(mask));
  }
  return FindSeparatorBytewise(p, i, n);
}

// CountNewlines' vector loops count in byte-wide counters: a compare gives -1 in each byte that
// is '\n', and subtracting it adds 1 there. Four vectors a turn, so a counter gains at most 4 a
// turn: after kTurns (63) turns, 252 at most, the counters are summed (a sum of absolute
// differences with zero) and start again: a load, a compare and an add per vector, not also a
// mask and a popcount. The count re-reads the text between two findings; over bench/scan.sh's
// corpus it was a third of the search's CPU samples (5.4 % beside FindCandidate's 16.4 %), now
// 3.8 %.
constexpr std::size_t kTurns = 63;

// -1 in each byte of the 32 at p that is '\n', 0 in the others.
__attribute__((target("avx2"))) inline __m256i NewlinesAvx2(const char* p, __m256i newline) {
  return _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), newline);
}

__attribute__((target("avx2,popcnt"))) std::size_t CountNewlinesAvx2(const char* p, std::size_t n) {
  const __m256i newline = _mm256_set1_epi8('\n');
  const __m256i zero = _mm256_setzero_si256();
  std::size_t count = 0;
  std::size_t i = 0;
  while (i + 128 <= n) {
    const std::size_t turns = std::min((n - i) / 128, kTurns);
    __m256i counters = zero;
    for (std::size_t turn = 0; turn < turns; ++turn, i += 128) {
      const __m256i two =
          _mm256_add_epi8(NewlinesAvx2(p + i, newline), NewlinesAvx2(p + i + 32, newline));
      const __m256i other_two =
          _mm256_add_epi8(NewlinesAvx2(p + i + 64, newline), NewlinesAvx2(p + i + 96, newline));
      counters = _mm256_sub_epi8(counters, _mm256_add_epi8(two, other_two));
    }
    count += SumBytesAvx2(counters);
  }
  for (; i + 32 <= n; i += 32) {
    count += static_cast<std::size_t>(__builtin_popcount(
        static_cast<std::uint32_t>(_mm256_movemask_epi8(NewlinesAvx2(p + i, newline)))));
  }
  for (; i < n; ++i) count += p[i] == '\n' ? 1 : 0;
  return count;
}

std::size_t CountNewlinesSse2(const char* p, std::size_t n) {
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  const auto at = [&](std::size_t i) {
    return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), newline);
  };
  std::size_t count = 0;
  std::size_t i = 0;
  while (i + 64 <= n) {
    const std::size_t turns = std::min((n - i) / 64, kTurns);
    __m128i counters = zero;
    for (std::size_t turn = 0; turn < turns; ++turn, i += 64) {
      const __m128i two = _mm_add_epi8(at(i), at(i + 16));
      const __m128i other_two = _mm_add_epi8(at(i + 32), at(i + 48));
      counters = _mm_sub_epi8(counters, _mm_add_epi8(two, other_two));
    }
    count += SumBytesSse2(counters);
  }
  for (; i + 16 <= n; i += 16) {
    count += static_cast<std::size_t>(
        __builtin_popcount(static_cast<std::uint32_t>(_mm_movemask_epi8(at(i)))));
  }
  for (; i < n; ++i) count += p[i] == '\n' ? 1 : 0;
  return count;
}

std::size_t FindSeparatorSse2(const char* p, std::size_t from, std::size_t n) {
  const __m128i underscore = _mm_set1_epi8('_');
  const __m128i percent = _mm_set1_epi8('%');
  std::size_t i = from;
  for (; i + 32 <= n; i += 32) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 16));
    const int mask_a =
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(a, underscore), _mm_cmpeq_epi8(a, percent)));
    const int mask_b =
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(b, underscore), _mm_cmpeq_epi8(b, percent)));
    if ((mask_a | mask_b) == 0) continue;
    const auto mask = static_cast<std::uint32_t>(mask_a) | static_cast<std::uint32_t>(mask_b) << 16;
    return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
  return FindSeparatorBytewise(p, i, n);
}
#endif

std::size_t CountNewlines(const char* p, std::size_t n) {
#if defined(__x86_64__)
  using Count = std::size_t (*)(const char*, std::size_t);
  static const Count count = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") ? CountNewlinesAvx2
                                                                              : CountNewlinesSse2;
  }();
  return count(p, n);
#else
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += p[i] == '\n' ? 1 : 0;
  return count;
#endif
}

std::size_t FindSeparator(std::string_view text, std::size_t from) {
  if (from >= text.size()) return text.size();
#if defined(__x86_64__)
  using Search = std::size_t (*)(const char*, std::size_t, std::size_t);
  static const Search search = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? FindSeparatorAvx2 : FindSeparatorSse2;
  }();
  return search(text.data(), from, text.size());
#else
  return FindSeparatorBytewise(text.data(), from, text.size());
#endif
}

std::size_t FindCandidateCountingNewlines(std::string_view text, std::size_t from, char before,
                                          std::size_t& newlines) {
  if (from >= text.size()) return text.size();
#if defined(__x86_64__)
  using Search = std::size_t (*)(const char*, std::size_t, std::size_t, char, std::size_t&);
  static const Search search = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")
               ? FindCandidateCountingAvx2
               : FindCandidateCountingSse2;
  }();
  return search(text.data(), from, text.size(), before, newlines);
#else
  return FindCandidateCountingBytewise(text.data(), from, text.size(), before, newlines);
#endif
}

std::size_t FindCandidate(std::string_view text, std::size_t from, char before) {
  std::size_t newlines = 0;
  return FindCandidateCountingNewlines(text, from, before, newlines);
}

}  // namespace keyward::scan
