# Installs the project into a scratch prefix and builds tests/package/consumer
# against it with find_package(heartbeat CONFIG), then runs the consumer.
file(REMOVE_RECURSE ${BINARY_DIR})
set(prefix ${BINARY_DIR}/prefix)
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR}/hb
  -DHB_BUILD_PROGRAMS=OFF -DHB_BUILD_TESTS=OFF -DHB_BUILD_BENCHMARKS=OFF -DCMAKE_INSTALL_PREFIX=${prefix}
  RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring heartbeat failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR}/hb RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "installing heartbeat failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package/consumer -B ${BINARY_DIR}/consumer
  -DCMAKE_PREFIX_PATH=${prefix} RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer with find_package(heartbeat) failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR}/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed")
endif()
execute_process(COMMAND ${BINARY_DIR}/consumer/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
message(STATUS "consumer said: ${out}")
if(rc)
  message(FATAL_ERROR "the consumer failed")
endif()
