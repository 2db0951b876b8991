#include "common/libcurl_loader.h"

#include <curl/curl.h>

#include <cstdarg>

#include "common/shared_library.h"

// Every libcurl function Keyward calls; a new one fails the link until it is added here.
// clang-format off
#define KW_LIBCURL_FUNCTIONS(X) \
  X(curl_easy_cleanup) X(curl_easy_escape) X(curl_easy_getinfo) X(curl_easy_init)        \
  X(curl_easy_perform) X(curl_easy_reset) X(curl_easy_setopt) X(curl_easy_strerror)      \
  X(curl_free) X(curl_global_init) X(curl_slist_append) X(curl_slist_free_all)
// clang-format on

namespace keyward {
namespace {

// clang-format off
enum LibcurlFunction {
#define KW_INDEX(name) k_##name,
  KW_LIBCURL_FUNCTIONS(KW_INDEX)
#undef KW_INDEX
  kFunctionCount
};
// clang-format on

void* g_libcurl_functions[kFunctionCount];

const Status& LibcurlLoaded() {
  // clang-format off
  static const Status status = OpenSharedLibrary("libcurl.so.4", "libcurl4", {
#define KW_SYMBOL(name) {#name, &g_libcurl_functions[k_##name]},
    KW_LIBCURL_FUNCTIONS(KW_SYMBOL)
#undef KW_SYMBOL
  });
  // clang-format on
  return status;
}

}  // namespace

Status LoadLibcurl() { return LibcurlLoaded(); }

// libcurl's function `F`, of the type curl.h declares.
template <typename F>
F Libcurl(LibcurlFunction function) {
  if (!LibcurlLoaded().ok()) LibraryMissing(LibcurlLoaded());
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym gives functions as void*
  return reinterpret_cast<F>(g_libcurl_functions[function]);
}

}  // namespace keyward

// With GCC, curl.h makes curl_easy_setopt and curl_easy_getinfo type-checking macros: the
// parentheses below name the functions themselves.
#define KW_LIBCURL(name) keyward::Libcurl<decltype(&(::name))>(keyward::k_##name)

// The forwarders, with curl.h's declarations (the compiler checks they match).
extern "C" {

void curl_easy_cleanup(CURL* curl) { KW_LIBCURL(curl_easy_cleanup)(curl); }
char* curl_easy_escape(CURL* handle, const char* string, int length) {
  return KW_LIBCURL(curl_easy_escape)(handle, string, length);
}
// curl.h's last named parameters are enums, which clang says may be promoted (they are int-sized
// here, as libcurl's own definitions, which read them the same way, rely on).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvarargs"
#endif

// Every CURLINFO takes one pointer.
CURLcode(curl_easy_getinfo)(CURL* curl, CURLINFO info, ...) {
  va_list args;
  va_start(args, info);
  void* result = va_arg(args, void*);
  va_end(args);
  return KW_LIBCURL(curl_easy_getinfo)(curl, info, result);
}
CURL* curl_easy_init() { return KW_LIBCURL(curl_easy_init)(); }
CURLcode curl_easy_perform(CURL* curl) { return KW_LIBCURL(curl_easy_perform)(curl); }
void curl_easy_reset(CURL* curl) { KW_LIBCURL(curl_easy_reset)(curl); }
// An option's number says the type of its one argument (curl.h's CURLOPTTYPE_* ranges), as
// libcurl's own curl_easy_setopt reads it.
CURLcode(curl_easy_setopt)(CURL* curl, CURLoption option, ...) {
  va_list args;
  va_start(args, option);
  const auto setopt = KW_LIBCURL(curl_easy_setopt);
  CURLcode result;
  // curl_off_t is long here, not on every platform: the first two branches look alike.
  if (option < CURLOPTTYPE_OBJECTPOINT) {  // NOLINT(bugprone-branch-clone)
    result = setopt(curl, option, va_arg(args, long));
  } else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB) {
    result = setopt(curl, option, va_arg(args, curl_off_t));
  } else {  // objects, functions and blobs: a pointer
    result = setopt(curl, option, va_arg(args, void*));
  }
  va_end(args);
  return result;
}

#if defined(__clang__)
#pragma clang diagnostic pop
#endif
const char* curl_easy_strerror(CURLcode code) { return KW_LIBCURL(curl_easy_strerror)(code); }
void curl_free(void* p) { KW_LIBCURL(curl_free)(p); }
CURLcode curl_global_init(long flags) { return KW_LIBCURL(curl_global_init)(flags); }
curl_slist* curl_slist_append(curl_slist* list, const char* data) {
  return KW_LIBCURL(curl_slist_append)(list, data);
}
void curl_slist_free_all(curl_slist* list) { KW_LIBCURL(curl_slist_free_all)(list); }

}  // extern "C"
