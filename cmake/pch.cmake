# One precompiled header of the heavy third-party headers (Boost.Asio/Beast/JSON/URL, fmt,
# GoogleTest, CLI11 and the standard library), built once per build directory by kw_pch and
# reused by every target of ours: each of them compiles with the same flags (keyward_options),
# which is what a shared PCH needs. Included by the top CMakeLists.txt after all targets exist.
#
# Off unless -DKEYWARD_PCH=ON, because it made the build slower. Measured on 2 cores (user CPU
# seconds per file, ccache off): with GCC 12 -O2 -g, src/common/clock.cc took 6.3 s with the
# PCH and 0.7 s without (GCC instantiates and emits, in every file, what the PCH's inline code
# uses), the PCH itself 2 minutes (on a loaded machine), the heaviest files save < 2 s each; with
# clang 14 (tsan preset) the heavy files got 25% faster (server_test.cc 6.3 -> 5.0 s) but small
# ones three times slower (clock.cc 0.5 -> 1.5 s): a wash. A PCH per group of targets with only
# the headers that group uses might still pay off.

# Every target compiles with the macros the imported targets below add to some of them, so one
# PCH fits all: a PCH made with FMT_SHARED cannot be used by a file compiled without it.
set(kw_pch_libraries Boost::headers Boost::json Boost::url fmt::fmt GTest::gtest CLI11::CLI11)
foreach(lib IN LISTS kw_pch_libraries)
  target_compile_definitions(keyward_options INTERFACE
                             $<TARGET_PROPERTY:${lib},INTERFACE_COMPILE_DEFINITIONS>)
  target_compile_options(keyward_options INTERFACE
                         $<TARGET_PROPERTY:${lib},INTERFACE_COMPILE_OPTIONS>)
endforeach()

# With GCC, ccache can cache a file compiled with the PCH only if told where the PCH comes in.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(keyward_options INTERFACE -fpch-preprocess)
endif()

add_library(kw_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/pch.cc)
target_link_libraries(kw_pch PRIVATE keyward_options ${kw_pch_libraries})
target_precompile_headers(kw_pch PRIVATE
  <algorithm> <array> <atomic> <chrono> <cstdint> <cstring> <filesystem> <fstream> <functional>
  <map> <memory> <mutex> <optional> <set> <sstream> <string> <string_view> <thread>
  <unordered_map> <utility> <variant> <vector>
  # Not Asio's SSL headers: every file that includes them must link OpenSSL.
  <boost/asio.hpp> <boost/beast/core.hpp> <boost/beast/http.hpp>
  <boost/json.hpp> <boost/url.hpp>
  <fmt/format.h> <gtest/gtest.h> <CLI/CLI.hpp>)

# True if `target` links keyward_options, directly or through targets of ours.
function(kw_uses_options target out)
  get_target_property(libs ${target} LINK_LIBRARIES)
  set(found FALSE)
  foreach(lib IN LISTS libs)
    if(lib STREQUAL "keyward_options")
      set(found TRUE)
    elseif(TARGET ${lib})
      get_target_property(imported ${lib} IMPORTED)
      if(NOT imported)
        kw_uses_options(${lib} found)
      endif()
    endif()
    if(found)
      break()
    endif()
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

# Every executable and library of ours below `dir` that compiles with keyward_options.
function(kw_reuse_pch dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(NOT target STREQUAL "kw_pch" AND type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|OBJECT_LIBRARY)$")
      kw_uses_options(${target} uses)
      if(uses)
        target_precompile_headers(${target} REUSE_FROM kw_pch)
      endif()
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    kw_reuse_pch(${subdir})
  endforeach()
endfunction()

kw_reuse_pch(${PROJECT_SOURCE_DIR})
