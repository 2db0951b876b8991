#include "api/request_log.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <random>

#include "common/log.h"

namespace keyward {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::size_t kPrefixDigits = 12;

bool IdCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

// The process's random prefix, with its '-': drawn once, on first use.
const char* Prefix() {
  static const auto prefix = [] {
    std::array<char, kPrefixDigits + 1> out{};
    std::random_device device;
    std::uint64_t bits = (static_cast<std::uint64_t>(device()) << 32) | device();
    for (std::size_t i = 0; i < kPrefixDigits; ++i, bits >>= 4) out[i] = kHex[bits & 0xF];
    out[kPrefixDigits] = '-';
    return out;
  }();
  return prefix.data();
}

std::atomic<std::uint64_t> g_next{1};

}  // namespace

bool RequestId::Valid(std::string_view text) {
  return !text.empty() && text.size() <= kMaxSize && std::ranges::all_of(text, IdCharacter);
}

RequestId RequestId::Make() {
  RequestId id;
  std::copy_n(Prefix(), kPrefixDigits + 1, id.data_);
  std::size_t size = kPrefixDigits + 1;
  std::uint64_t n = g_next.fetch_add(1, std::memory_order_relaxed);
  char digits[16];
  std::size_t count = 0;
  do {
    digits[count++] = kHex[n & 0xF];
    n >>= 4;
  } while (n != 0);
  while (count > 0) id.data_[size++] = digits[--count];
  id.size_ = static_cast<std::uint8_t>(size);
  return id;
}

RequestId RequestId::Of(const http::Request& request) {
  auto it = request.find("X-Request-Id");
  if (it == request.end()) return Make();
  const std::string_view given(it->value().data(), it->value().size());
  if (!Valid(given)) return Make();
  RequestId id;
  std::copy(given.begin(), given.end(), id.data_);
  id.size_ = static_cast<std::uint8_t>(given.size());
  return id;
}

void FinishResponse(http::Response& response, const RequestTrace& trace, std::string_view route,
                    std::string_view user, std::string_view key_name) {
  response.insert("X-Request-Id", trace.id.view());
  if (!log::AccessEnabled()) return;
  const std::chrono::duration<double, std::milli> took =
      std::chrono::steady_clock::now() - trace.started;
  const auto method = http::beast_http::to_string(trace.method);
  log::Access({.request_id = trace.id.view(),
               .method = std::string_view(method.data(), method.size()),
               .route = route,
               .status = static_cast<int>(response.result_int()),
               .latency_ms = took.count(),
               .user = user,
               .key_name = key_name});
}

}  // namespace keyward
