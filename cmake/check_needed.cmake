# cmake -DBINARY=<file> -P check_needed.cmake: fails when the binary needs libpq or libcurl at
# start-up. They are opened on first use (src/common/shared_library.h): linking either again,
# directly or through a library, brings back ~28 libraries and 7 ms before main() on every run.
execute_process(COMMAND readelf -d ${BINARY} OUTPUT_VARIABLE dynamic RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR NOT dynamic MATCHES "NEEDED[^\n]*libc\\.so")
  message(FATAL_ERROR "readelf -d ${BINARY} failed or lists no libc:\n${dynamic}")
endif()
string(REGEX MATCHALL "NEEDED[^\n]*(libpq|libcurl)[^\n]*" needed "${dynamic}")
if(needed)
  message(FATAL_ERROR "${BINARY} needs at start-up what it must open on first use:\n${needed}")
endif()
message(STATUS "${BINARY}: neither libpq nor libcurl is loaded at start-up")
