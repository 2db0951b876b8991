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
