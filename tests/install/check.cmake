# Installs pmdi from the build tree BIN (the tools built there) into WORK/prefix,
# as a user's `cmake --install build --prefix ...` does, and builds the consumer in this folder
# against it with find_package(pmdi COMPONENTS onnx io): the consumer itself,
# and the ONNX-loading cloud of a user's own network (tiny-cloud). Then checks
# the installed tools and the refusals when ONNX is missing. Fails on any step.
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install check: '${ARGN}' failed (${rc}):\n${out}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()
# Configures the consumer with ARGN, expecting it to fail with `expected` in its output.
function(refused expected)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SRC}/tests/install/consumer -B ${WORK}/refused
                          -DCMAKE_PREFIX_PATH=${WORK}/prefix ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(REGEX REPLACE "[ \t\r\n]+" " " flat "${out}")
  if(rc EQUAL 0 OR NOT flat MATCHES "${expected}")
    message(FATAL_ERROR "install check: configuring with ${ARGN} should fail with '${expected}' (rc ${rc}):\n${out}")
  endif()
  file(REMOVE_RECURSE ${WORK}/refused)
endfunction()

# The project configures without its tests, benchmarks and examples (what a
# packager does); the tools it installs are the ones the build tree already
# built, so nothing of the project is compiled twice.
run(${CMAKE_COMMAND} -S ${SRC} -B ${WORK}/build -DPMDI_BUILD_TESTS=OFF -DPMDI_BUILD_BENCH=OFF
    -DPMDI_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --install ${BIN} --prefix ${WORK}/prefix)
foreach(tool pmdi-keygen pmdi-plan onnx2pmdi)
  if(NOT EXISTS ${WORK}/prefix/bin/${tool})
    message(FATAL_ERROR "install check: ${tool} is not installed in ${WORK}/prefix/bin")
  endif()
endforeach()
run(${WORK}/prefix/bin/onnx2pmdi ${SRC}/examples/models/minionn_fashion.onnx minionn)
if(NOT run_output MATCHES "using minionn = pmdi::nn::sequential<")
  message(FATAL_ERROR "install check: the installed onnx2pmdi printed:\n${run_output}")
endif()

# The consumer in Debug (-O0): this checks the package, not the code's speed,
# and compiles in about half the time.
run(${CMAKE_COMMAND} -S ${SRC}/tests/install/consumer -B ${WORK}/consumer -DCMAKE_BUILD_TYPE=Debug
    -DCMAKE_PREFIX_PATH=${WORK}/prefix)
run(${CMAKE_COMMAND} --build ${WORK}/consumer --target consumer tiny-cloud -j2)
run(${WORK}/consumer/consumer)
run(${WORK}/consumer/tiny-cloud --help)
if(NOT run_output MATCHES "ONNX weights: yes")
  message(FATAL_ERROR "install check: tiny-cloud --help does not say it reads ONNX:\n${run_output}")
endif()

# Without ONNX: the component is refused by find_package, and ONNX by
# pmdi_add_deployment, each with its reason, at configure time.
refused("pmdi component 'onnx' is missing: ONNX \\(libonnx-dev, with protobuf\\) is not found"
        -DCMAKE_DISABLE_FIND_PACKAGE_ONNX=TRUE)
refused("pmdi_add_deployment\\(tiny\\): ONNX is asked for, but there is no pmdi::onnx target"
        -DCMAKE_DISABLE_FIND_PACKAGE_ONNX=TRUE -DCONSUMER_COMPONENTS=io)
