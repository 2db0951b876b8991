// A system library opened when first needed (dlopen) instead of at every start of the binary.
//
// libpq and libcurl (with Kerberos, LDAP, GnuTLS, nghttp2… behind them: 28 of the 43 libraries
// `keyward` loaded) were mapped and relocated by the dynamic loader on every run, 7 ms of CPU
// before main(), although only `serve --db postgresql://…`, webhooks and the CLI's HTTP calls
// use them. store/postgres/libpq_loader.cc and common/libcurl_loader.cc define those libraries'
// functions as forwarders to the real ones, resolved here on the first call.
#pragma once

#include <initializer_list>
#include <string>

#include "common/status.h"

namespace keyward {

// A function of the library and where its address goes.
struct LibrarySymbol {
  const char* name;
  void** address;
};

// Opens `soname` (e.g. "libpq.so.5") and resolves every symbol; Unavailable naming the library,
// the Debian package that has it and the loader's reason when it cannot. Thread safe; a library
// opened twice is the same one.
Status OpenSharedLibrary(const char* soname, const char* debian_package,
                         std::initializer_list<LibrarySymbol> symbols);

// For a forwarder called although its library could not be opened (the callers check the
// library's Load…() first): prints `status` and aborts.
[[noreturn]] void LibraryMissing(const Status& status);

}  // namespace keyward
