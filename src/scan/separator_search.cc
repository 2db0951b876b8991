#include "scan/separator_search.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cstdint>

namespace keyward::scan {

std::size_t FindSeparatorBytewise(const char* p, std::size_t from, std::size_t n) {
  for (std::size_t i = from; i < n; ++i) {
    if (p[i] == '_' || p[i] == '%') return i;
  }
  return n;
}

std::size_t FindCandidateBytewise(const char* p, std::size_t from, std::size_t n, char before) {
  for (std::size_t i = from == 0 ? 1 : from; i < n; ++i) {
    if (p[i] == '%' || (p[i] == '_' && p[i - 1] == before)) return i;
  }
  return n;
}

#if defined(__x86_64__)

__attribute__((target("avx2"))) std::size_t FindCandidateAvx2(const char* p, std::size_t from,
                                                              std::size_t n, char before) {
  const __m256i underscore = _mm256_set1_epi8('_');
  const __m256i percent = _mm256_set1_epi8('%');
  const __m256i end = _mm256_set1_epi8(before);
  std::size_t i = from == 0 ? 1 : from;  // p[i - 1] is read
  // 64 bytes a turn; the bytes before are read only when a '_' or '%' is among them (in most
  // text, not).
  for (; i + 64 <= n; i += 64) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
    const __m256i underscore_a = _mm256_cmpeq_epi8(a, underscore);
    const __m256i underscore_b = _mm256_cmpeq_epi8(b, underscore);
    const __m256i percent_a = _mm256_cmpeq_epi8(a, percent);
    const __m256i percent_b = _mm256_cmpeq_epi8(b, percent);
    const __m256i any = _mm256_or_si256(_mm256_or_si256(underscore_a, underscore_b),
                                        _mm256_or_si256(percent_a, percent_b));
    if (_mm256_testz_si256(any, any) != 0) continue;
    const __m256i prev_a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i - 1));
    const __m256i prev_b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 31));
    const __m256i hit_a =
        _mm256_or_si256(_mm256_and_si256(underscore_a, _mm256_cmpeq_epi8(prev_a, end)), percent_a);
    const __m256i hit_b =
        _mm256_or_si256(_mm256_and_si256(underscore_b, _mm256_cmpeq_epi8(prev_b, end)), percent_b);
    const std::uint64_t mask =
        static_cast<std::uint32_t>(_mm256_movemask_epi8(hit_a)) |
        std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(hit_b))} << 32;
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctzll(mask));
  }
  for (; i + 32 <= n; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i prev = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i - 1));
    const __m256i hit = _mm256_or_si256(
        _mm256_and_si256(_mm256_cmpeq_epi8(a, underscore), _mm256_cmpeq_epi8(prev, end)),
        _mm256_cmpeq_epi8(a, percent));
    const auto mask = static_cast<std::uint32_t>(_mm256_movemask_epi8(hit));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
  return FindCandidateBytewise(p, i, n, before);
}

std::size_t FindCandidateSse2(const char* p, std::size_t from, std::size_t n, char before) {
  const __m128i underscore = _mm_set1_epi8('_');
  const __m128i percent = _mm_set1_epi8('%');
  const __m128i end = _mm_set1_epi8(before);
  std::size_t i = from == 0 ? 1 : from;  // p[i - 1] is read
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i prev = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i - 1));
    const __m128i hit =
        _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(a, underscore), _mm_cmpeq_epi8(prev, end)),
                     _mm_cmpeq_epi8(a, percent));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
  return FindCandidateBytewise(p, i, n, before);
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

__attribute__((target("avx2,popcnt"))) std::size_t CountNewlinesAvx2(const char* p, std::size_t n) {
  const __m256i newline = _mm256_set1_epi8('\n');
  std::size_t count = 0;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    count += static_cast<std::size_t>(__builtin_popcount(
        static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, newline)))));
  }
  for (; i < n; ++i) count += p[i] == '\n' ? 1 : 0;
  return count;
}

std::size_t CountNewlinesSse2(const char* p, std::size_t n) {
  const __m128i newline = _mm_set1_epi8('\n');
  std::size_t count = 0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    count += static_cast<std::size_t>(__builtin_popcount(
        static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(a, newline)))));
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

std::size_t FindCandidate(std::string_view text, std::size_t from, char before) {
  if (from >= text.size()) return text.size();
#if defined(__x86_64__)
  using Search = std::size_t (*)(const char*, std::size_t, std::size_t, char);
  static const Search search = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? FindCandidateAvx2 : FindCandidateSse2;
  }();
  return search(text.data(), from, text.size(), before);
#else
  return FindCandidateBytewise(text.data(), from, text.size(), before);
#endif
}

}  // namespace keyward::scan
