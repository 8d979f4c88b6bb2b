# Installs the project into a scratch prefix and builds tests/package/consumer
# against it with find_package(heartbeat CONFIG), then runs the consumer.
file(REMOVE_RECURSE ${BINARY_DIR})
set(prefix ${BINARY_DIR}/prefix)

# Runs one step (execute_process arguments after `what`) and stops with "<what> failed" if it fails.
function(step what)
  execute_process(${ARGN} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "${what} failed")
  endif()
endfunction()

step("configuring heartbeat" COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR}/hb
  -DHB_BUILD_PROGRAMS=OFF -DHB_BUILD_TESTS=OFF -DHB_BUILD_BENCHMARKS=OFF -DCMAKE_INSTALL_PREFIX=${prefix})
step("installing heartbeat" COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR}/hb)
step("configuring the consumer with find_package(heartbeat)" COMMAND ${CMAKE_COMMAND}
  -S ${SOURCE_DIR}/tests/package/consumer -B ${BINARY_DIR}/consumer -DCMAKE_PREFIX_PATH=${prefix})
step("building the consumer" COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR}/consumer)
execute_process(COMMAND ${BINARY_DIR}/consumer/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
message(STATUS "consumer said: ${out}")
if(rc)
  message(FATAL_ERROR "the consumer failed")
endif()
