# Files left out of the unity build (KEYWARD_UNITY, on in the ci and asan presets: the top
# CMakeLists.txt says why). Each defines a name that another file of its target defines too (in
# its anonymous namespace, or shadowed), so it compiles alone. A new file that clashes goes here.
# Included by the top CMakeLists.txt after all targets exist.

# kw_unity_skip(DIR FILE...): FILEs (relative to DIR) of the targets that DIR/CMakeLists.txt
# defines compile on their own.
function(kw_unity_skip dir)
  list(TRANSFORM ARGN PREPEND ${PROJECT_SOURCE_DIR}/${dir}/)
  set_source_files_properties(${ARGN} DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}
                              PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
endfunction()

kw_unity_skip(src/store
  # kInsertUser and the other SQL statements, named as sqlite_store.cc names its own.
  postgres/postgres_store.cc)

kw_unity_skip(src/app
  # Its test's local struct Row would shadow route_access_test.cc's Row (g++ -Wshadow).
  scopes_test.cc)

# The generated files (the embedded web UI, OpenAPI document and migrations) compile alone too:
# they are data, an edit of one recompiles only it, and clang-tidy, which checks the unity files
# of a configured but unbuilt directory (scripts/test-all), finds no generated file included.
set_source_files_properties(${PROJECT_BINARY_DIR}/web/web_assets.cc
                            DIRECTORY ${PROJECT_SOURCE_DIR}/web
                            PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
set_source_files_properties(${PROJECT_BINARY_DIR}/src/api/openapi_text.cc
                            DIRECTORY ${PROJECT_SOURCE_DIR}/src/api
                            PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
set_source_files_properties(${PROJECT_BINARY_DIR}/src/store/sqlite_migrations_embedded.cc
                            ${PROJECT_BINARY_DIR}/src/store/postgres_migrations_embedded.cc
                            DIRECTORY ${PROJECT_SOURCE_DIR}/src/store
                            PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
