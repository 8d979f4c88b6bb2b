# Installs the project into a scratch prefix and builds two projects against it with
# find_package(heartbeat CONFIG):
#  - consumer/: every installed header, linked against heartbeat::heartbeat, then run;
#  - consumer_core/: every heartbeat::core header, linked against heartbeat::core, configured
#    with every dependency of the package disabled, then run; the compiler's dependency files
#    must name only the installed headers and the toolchain's (Debian: libc6-dev, libstdc++,
#    libgcc, linux-libc-dev), and the program may need only the C and C++ runtime libraries.
# Usage: cmake -DSOURCE_DIR=... -DBINARY_DIR=... -P run.cmake
file(REMOVE_RECURSE ${BINARY_DIR})
set(prefix ${BINARY_DIR}/prefix)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "${what} failed (${rc})")
  endif()
endfunction()

run("configuring heartbeat" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR}/hb -DHB_BUILD_PROGRAMS=OFF
  -DHB_BUILD_TESTS=OFF -DHB_BUILD_BENCHMARKS=OFF -DCMAKE_INSTALL_PREFIX=${prefix})
run("installing heartbeat" ${CMAKE_COMMAND} --install ${BINARY_DIR}/hb)

# Every header, every part.
run("configuring the consumer with find_package(heartbeat)" ${CMAKE_COMMAND}
  -S ${SOURCE_DIR}/tests/package/consumer -B ${BINARY_DIR}/consumer -DCMAKE_PREFIX_PATH=${prefix})
run("building the consumer of every header" ${CMAKE_COMMAND} --build ${BINARY_DIR}/consumer -j 2)
execute_process(COMMAND ${BINARY_DIR}/consumer/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
message(STATUS "consumer said: ${out}")
if(rc)
  message(FATAL_ERROR "the consumer failed (${rc})")
endif()

# heartbeat::core with nothing else: every package the config file could look for is disabled.
file(GLOB config_files ${prefix}/share/cmake/heartbeat/heartbeatConfig.cmake)
file(STRINGS ${config_files} lookups REGEX "find_dependency\\(")
set(disabled "")
foreach(line IN LISTS lookups)
  string(REGEX REPLACE ".*find_dependency\\(([A-Za-z0-9_.+-]+).*" "\\1" name "${line}")
  list(APPEND disabled -DCMAKE_DISABLE_FIND_PACKAGE_${name}=ON)
endforeach()
list(LENGTH disabled n)
if(n LESS 5)
  message(FATAL_ERROR "heartbeatConfig.cmake names fewer dependencies than expected: ${lookups}")
endif()
run("configuring the heartbeat::core consumer with every dependency disabled" ${CMAKE_COMMAND}
  -S ${SOURCE_DIR}/tests/package/consumer_core -B ${BINARY_DIR}/consumer_core
  -DCMAKE_PREFIX_PATH=${prefix} --no-warn-unused-cli ${disabled})
run("building the heartbeat::core consumer" ${CMAKE_COMMAND} --build ${BINARY_DIR}/consumer_core -j 2)
execute_process(COMMAND ${BINARY_DIR}/consumer_core/consumer_core RESULT_VARIABLE rc OUTPUT_VARIABLE out)
message(STATUS "consumer_core said: ${out}")
if(rc)
  message(FATAL_ERROR "the heartbeat::core consumer failed (${rc})")
endif()

# What the compiler read besides the installed headers and the consumer's own files.
file(GLOB_RECURSE depfiles ${BINARY_DIR}/consumer_core/*.o.d)
set(system_headers "")
foreach(depfile IN LISTS depfiles)
  file(READ ${depfile} text)
  string(REGEX REPLACE "[ \t\r\n\\\\]+" ";" words "${text}")
  foreach(w IN LISTS words)
    string(FIND "${w}" "${SOURCE_DIR}/" in_source)
    string(FIND "${w}" "${BINARY_DIR}/" in_binary)  # the prefix and the consumer's generated files
    if(w MATCHES ":$" OR NOT IS_ABSOLUTE "${w}" OR in_source EQUAL 0 OR in_binary EQUAL 0)
      continue()
    endif()
    get_filename_component(real "${w}" REALPATH)
    list(APPEND system_headers ${real})
  endforeach()
endforeach()
list(REMOVE_DUPLICATES system_headers)
list(LENGTH system_headers n)
if(n EQUAL 0)
  message(FATAL_ERROR "no dependency files found under ${BINARY_DIR}/consumer_core")
endif()
find_program(DPKG_QUERY dpkg-query)
if(DPKG_QUERY)
  execute_process(COMMAND ${DPKG_QUERY} -S ${system_headers} OUTPUT_VARIABLE owners ERROR_VARIABLE missing
    RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "headers of no Debian package were read: ${missing}")
  endif()
  string(REGEX REPLACE "\n$" "" owners "${owners}")
  string(REPLACE "\n" ";" owners "${owners}")
  set(toolchain "^(libc6-dev|libstdc\\+\\+-[0-9]+-dev|libgcc-[0-9]+-dev|gcc-[0-9]+|g\\+\\+-[0-9]+|linux-libc-dev|libcrypt-dev)(:[a-z0-9]+)?$")
  foreach(line IN LISTS owners)
    string(REGEX REPLACE ":? /.*" "" packages "${line}")
    string(REPLACE ", " ";" packages "${packages}")
    foreach(p IN LISTS packages)
      if(NOT p MATCHES "${toolchain}")
        message(FATAL_ERROR "heartbeat::core read a header of ${p}, not of the C++ toolchain: ${line}")
      endif()
    endforeach()
  endforeach()
  message(STATUS "consumer_core read ${n} system headers, all from the C++ toolchain")
else()
  message(STATUS "dpkg-query not found: which package the ${n} system headers come from is not checked")
endif()

# What the program needs at run time.
find_program(READELF readelf REQUIRED)
execute_process(COMMAND ${READELF} -d ${BINARY_DIR}/consumer_core/consumer_core OUTPUT_VARIABLE dyn)
string(REGEX MATCHALL "Shared library: \\[[^]]+\\]" needed "${dyn}")
foreach(lib IN LISTS needed)
  if(NOT lib MATCHES "\\[(libc|libm|libstdc\\+\\+|libgcc_s)\\.so\\.[0-9]+\\]")
    message(FATAL_ERROR "the heartbeat::core consumer needs ${lib}")
  endif()
endforeach()
message(STATUS "consumer_core needs only: ${needed}")
