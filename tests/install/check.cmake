# Installs pmdi from SRC into WORK/prefix and builds the consumer in this folder
# against it with find_package(pmdi). Fails on any step.
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install check: '${ARGN}' failed (${rc})")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SRC} -B ${WORK}/build -DPMDI_BUILD_TESTS=OFF -DPMDI_BUILD_BENCH=OFF
    -DPMDI_BUILD_EXAMPLES=OFF -DPMDI_WITH_ONNX=OFF -DCMAKE_INSTALL_PREFIX=${WORK}/prefix)
run(${CMAKE_COMMAND} --build ${WORK}/build -j2)  # the installed tools (pmdi-keygen) must exist first
run(${CMAKE_COMMAND} --install ${WORK}/build)
run(${CMAKE_COMMAND} -S ${SRC}/tests/install/consumer -B ${WORK}/consumer -DCMAKE_PREFIX_PATH=${WORK}/prefix)
run(${CMAKE_COMMAND} --build ${WORK}/consumer)
run(${WORK}/consumer/consumer)
