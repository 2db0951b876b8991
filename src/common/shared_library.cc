#include "common/shared_library.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace keyward {

Status OpenSharedLibrary(const char* soname, const char* debian_package,
                         std::initializer_list<LibrarySymbol> symbols) {
  // RTLD_LOCAL: its symbols do not join the global scope (the forwarders keep their names).
  void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = ::dlerror();
    return Status::Unavailable(fmt::format("cannot load {} (Debian package {}): {}", soname,
                                           debian_package,
                                           reason != nullptr ? reason : "unknown error"));
  }
  for (const LibrarySymbol& symbol : symbols) {
    void* address = ::dlsym(handle, symbol.name);
    if (address == nullptr) {
      return Status::Unavailable(fmt::format("{} has no function {}; install Debian's {}", soname,
                                             symbol.name, debian_package));
    }
    *symbol.address = address;
  }
  return Status();
}

void LibraryMissing(const Status& status) {
  std::fprintf(stderr, "ERRO %s\n", status.message().c_str());
  std::abort();
}

}  // namespace keyward
