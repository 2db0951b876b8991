# KEYWARD_TEST_CODE_OPTIONS: compile options for the test code only — the test executables
# (`*_test`, `*_pgtest`) and their helper libraries (everything under tests/, the V002 store
# fixture, kw_test_main) — never for the libraries they test, which keep the preset's flags
# (inline and template code of ours that a test file instantiates is compiled with the test's).
# The ci preset sets -O1: its test code (the integration tests parse Boost.Beast and GoogleTest
# and instantiate much of them) then compiles in a third less time (tests/README.md, "Build
# time"). Included by the top CMakeLists.txt after all targets exist.
set(KEYWARD_TEST_CODE_OPTIONS "" CACHE STRING
    "Compile options for the test code only (the ci preset: -O1)")

function(kw_test_code_options dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  file(RELATIVE_PATH relative ${PROJECT_SOURCE_DIR} ${dir})
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type MATCHES "^(EXECUTABLE|STATIC_LIBRARY)$"
       AND (target MATCHES "(_test|_pgtest)$"
            OR target MATCHES "^kw_(store_upgrade_fixture|test_main)$"
            OR relative MATCHES "^tests(/|$)"))
      target_compile_options(${target} PRIVATE ${kw_test_code_options})
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    kw_test_code_options(${subdir})
  endforeach()
endfunction()

if(KEYWARD_TEST_CODE_OPTIONS)
  separate_arguments(kw_test_code_options UNIX_COMMAND "${KEYWARD_TEST_CODE_OPTIONS}")
  kw_test_code_options(${PROJECT_SOURCE_DIR})
endif()
