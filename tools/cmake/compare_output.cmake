# Runs EXE MODEL minionn and compares its standard output with the file EXPECTED.
execute_process(COMMAND ${EXE} ${MODEL} minionn OUTPUT_VARIABLE got ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "onnx2pmdi failed (${rc}): ${err}")
endif()
file(READ ${EXPECTED} want)
if(NOT got STREQUAL want)
  message(FATAL_ERROR "onnx2pmdi printed\n${got}\nbut the declared type is\n${want}")
endif()
