# One compile-fail test: building TARGET in BIN must fail, and the compiler's
# errors must read as docs/errors.md promises:
#   - the first error line contains FIRST (the file's "// first error: ..."
#     line: the identifier, the layer and the numbers that matter);
#   - every error line names an identifier (PMDI_E_...): no unlabelled
#     "static assertion failed" and no cascade follows the report;
#   - EXPECTED (the file's "// expect: ..." identifier) appears.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BIN} --target ${TARGET}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled; it must fail with ${EXPECTED}")
endif()
string(REPLACE ";" "<semicolon>" out "${out}")
string(REGEX MATCHALL "error: [^\n]*" errors "${out}")
if(NOT errors)
  message(FATAL_ERROR "${TARGET} failed without a compiler error:\n${out}")
endif()
list(GET errors 0 first)
string(REPLACE "<semicolon>" ";" first "${first}")
string(FIND "${first}" "${FIRST}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${TARGET}: the first error line\n  ${first}\ndoes not contain\n  ${FIRST}")
endif()
foreach(e IN LISTS errors)
  if(NOT e MATCHES "PMDI_E_")
    message(FATAL_ERROR "${TARGET}: an error line names no identifier:\n  ${e}\nall errors:\n${errors}")
  endif()
endforeach()
string(FIND "${out}" "${EXPECTED}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${TARGET}: the output does not name ${EXPECTED}")
endif()
list(LENGTH errors n)
message(STATUS "${TARGET}: ${n} error lines, the first: ${first}")
