# pmdi-keygen --ring: EXE writes the ring it is given into the deployment file,
# and refuses a ring it cannot write with the usage status 2, naming the flag
# and the value. DIR is a scratch directory (emptied first).
file(REMOVE_RECURSE ${DIR})
execute_process(COMMAND ${EXE} --clusters 1 --compute 1 --dir ${DIR} --ring 32/5
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pmdi-keygen --ring 32/5 failed (${rc}): ${err}")
endif()
file(READ ${DIR}/deployment.json text)
string(JSON bits GET "${text}" ring bits)
string(JSON frac GET "${text}" ring fraction_bits)
if(NOT bits EQUAL 32 OR NOT frac EQUAL 5)
  message(FATAL_ERROR "pmdi-keygen --ring 32/5 wrote ring bits ${bits}, fraction_bits ${frac}")
endif()

# Without --ring: the default ring<64, 13>.
execute_process(COMMAND ${EXE} --clusters 1 --compute 1 --dir ${DIR}/default RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pmdi-keygen without --ring failed (${rc}): ${err}")
endif()
file(READ ${DIR}/default/deployment.json text)
string(JSON bits GET "${text}" ring bits)
string(JSON frac GET "${text}" ring fraction_bits)
if(NOT bits EQUAL 64 OR NOT frac EQUAL 13)
  message(FATAL_ERROR "pmdi-keygen without --ring wrote ring bits ${bits}, fraction_bits ${frac}")
endif()

foreach(bad "33/5" "32" "32/31" "64/" "/13" "x/5" "64/13/1")
  execute_process(COMMAND ${EXE} --clusters 1 --compute 1 --dir ${DIR}/refused --ring ${bad}
    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 2)
    message(FATAL_ERROR "pmdi-keygen --ring ${bad}: exit status ${rc}, expected 2 (usage)\n${err}")
  endif()
  string(FIND "${err}" "--ring: expected BITS/FRAC" at_flag)
  string(FIND "${err}" "got '${bad}'" at_value)
  if(at_flag EQUAL -1 OR at_value EQUAL -1)
    message(FATAL_ERROR "pmdi-keygen --ring ${bad}: the error does not name the flag and the value:\n${err}")
  endif()
  if(EXISTS ${DIR}/refused/deployment.json)
    message(FATAL_ERROR "pmdi-keygen --ring ${bad} wrote a deployment file")
  endif()
endforeach()
