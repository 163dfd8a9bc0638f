# The functions cmake/sources.cmake calls: one per Bazel rule kind, each
# making the CMake target or CTest test of the same shape as the rule.
#
# Tests run as Bazel runs them: from a runfiles tree (build-dir/runfiles/slate,
# the source tree's files plus every built binary at its Bazel path, e.g.
# tools/slate), with TEST_SRCDIR, TEST_WORKSPACE, a fresh TEST_TMPDIR and
# TEST_UNDECLARED_OUTPUTS_DIR set by cmake/run_test.sh, which also asks
# GoogleTest for an XML report (build-dir/test-xml/) that ./dev.sh counts.

set(SLATE_WARNINGS -Wall -Wextra)
if(SLATE_WERROR)
  list(APPEND SLATE_WARNINGS -Werror)
endif()
set(SLATE_RUNFILES "${CMAKE_CURRENT_BINARY_DIR}/runfiles")
# Tools, examples and tests include "tests/...", "tools/..." from the root.
include_directories("${CMAKE_CURRENT_SOURCE_DIR}")
set(_slate_timeout_small 60)
set(_slate_timeout_medium 300)
set(_slate_timeout_large 900)
set(_slate_timeout_enormous 3600)

# slate_map_deps(OUT dep...): "slate" is the library (static inside the
# build, as Bazel links it), EXT:repo:name an external target (variables
# SLATE_EXT_<repo>_<name> in CMakeLists.txt), anything else a target of ours.
function(slate_map_deps out)
  set(result)
  foreach(dep IN LISTS ARGN)
    if(dep STREQUAL "slate")
      list(APPEND result slate_static)
    elseif(dep MATCHES "^EXT:([^:]+):(.+)$")
      set(var "SLATE_EXT_${CMAKE_MATCH_1}_${CMAKE_MATCH_2}")
      if(NOT DEFINED ${var})
        message(FATAL_ERROR "Bazel dependency @${CMAKE_MATCH_1}//:${CMAKE_MATCH_2} "
                            "has no CMake mapping: set ${var} in CMakeLists.txt")
      endif()
      list(APPEND result ${${var}})
    else()
      list(APPEND result ${dep})
    endif()
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

function(_slate_wanted name out)
  set(ok TRUE)
  if(name MATCHES "^tests_" AND NOT SLATE_BUILD_TESTS)
    set(ok FALSE)
  endif()
  if(name MATCHES "^bench_" AND NOT SLATE_BUILD_BENCHMARKS)
    set(ok FALSE)
  endif()
  set(${out} ${ok} PARENT_SCOPE)
endfunction()

function(_slate_sources target)
  foreach(src IN LISTS ARGN)
    target_sources(${target} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/${src}")
  endforeach()
endfunction()

# A cc_library outside //lib: a static library, or an object library when
# Bazel says alwayslink; header-only ones are interface libraries.
function(slate_cc_library name)
  cmake_parse_arguments(A "ALWAYSLINK" "" "SRCS;HDRS;DEPS" ${ARGN})
  _slate_wanted(${name} wanted)
  if(NOT wanted)
    return()
  endif()
  slate_map_deps(deps ${A_DEPS})
  if(NOT A_SRCS)
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE ${deps})
    return()
  endif()
  if(A_ALWAYSLINK)
    add_library(${name} OBJECT)
  else()
    add_library(${name} STATIC)
  endif()
  _slate_sources(${name} ${A_SRCS} ${A_HDRS})
  target_compile_options(${name} PRIVATE ${SLATE_WARNINGS})
  target_link_libraries(${name} PUBLIC ${deps})
endfunction()

# Binaries land at their Bazel path under the runfiles tree.
function(_slate_executable name path)
  cmake_parse_arguments(A "" "" "SRCS;HDRS;DEPS" ${ARGN})
  slate_map_deps(deps ${A_DEPS})
  add_executable(${name})
  if(NOT A_SRCS)
    # Everything comes from (alwayslink) deps; CMake wants one source.
    set(empty "${CMAKE_CURRENT_BINARY_DIR}/empty.cc")
    if(NOT EXISTS "${empty}")
      file(WRITE "${empty}" "// Intentionally empty.\n")
    endif()
    target_sources(${name} PRIVATE "${empty}")
  endif()
  _slate_sources(${name} ${A_SRCS} ${A_HDRS})
  target_compile_options(${name} PRIVATE ${SLATE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${deps})
  get_filename_component(dir "${path}" DIRECTORY)
  get_filename_component(base "${path}" NAME)
  set_target_properties(${name} PROPERTIES
    OUTPUT_NAME "${base}"
    RUNTIME_OUTPUT_DIRECTORY "${SLATE_RUNFILES}/slate/${dir}")
  set_property(GLOBAL APPEND PROPERTY SLATE_BINARY_PATHS "${path}")
endfunction()

function(slate_cc_binary name)
  cmake_parse_arguments(A "OPTIONAL" "PATH;SKIP" "SRCS;HDRS;DEPS;ARGS" ${ARGN})
  _slate_wanted(${name} wanted)
  if(NOT wanted)
    return()
  endif()
  if(A_SKIP)
    message(STATUS "Not built by CMake: //${A_PATH} (${A_SKIP})")
    return()
  endif()
  _slate_executable(${name} ${A_PATH} SRCS ${A_SRCS} HDRS ${A_HDRS} DEPS ${A_DEPS})
  if(A_OPTIONAL AND NOT name MATCHES "^bench_")
    # Bazel's "manual" targets: built only when asked for.
    set_target_properties(${name} PROPERTIES EXCLUDE_FROM_ALL ON)
  endif()
endfunction()

function(_slate_add_test name timeout)
  add_test(NAME "${name}"
           COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/cmake/run_test.sh"
                   "${CMAKE_CURRENT_BINARY_DIR}" "${name}" ${ARGN})
  set_tests_properties("${name}" PROPERTIES TIMEOUT ${timeout})
endfunction()

function(slate_cc_test name)
  cmake_parse_arguments(A "" "PATH;SIZE;SHARDS" "SRCS;HDRS;DEPS;ARGS" ${ARGN})
  _slate_wanted(${name} wanted)
  if(NOT wanted)
    return()
  endif()
  _slate_executable(${name} ${A_PATH} SRCS ${A_SRCS} HDRS ${A_HDRS} DEPS ${A_DEPS})
  set(timeout ${_slate_timeout_${A_SIZE}})
  if(A_SHARDS)
    math(EXPR last "${A_SHARDS} - 1")
    foreach(i RANGE ${last})
      math(EXPR k "${i} + 1")
      _slate_add_test("${A_PATH}/shard_${k}_of_${A_SHARDS}" ${timeout}
        env GTEST_TOTAL_SHARDS=${A_SHARDS} GTEST_SHARD_INDEX=${i}
        "$<TARGET_FILE:${name}>" ${A_ARGS})
    endforeach()
  else()
    _slate_add_test("${A_PATH}" ${timeout} "$<TARGET_FILE:${name}>" ${A_ARGS})
  endif()
endfunction()

function(slate_sh_test name)
  cmake_parse_arguments(A "" "PATH;SIZE;SCRIPT" "ARGS" ${ARGN})
  _slate_wanted(${name} wanted)
  if(NOT wanted)
    return()
  endif()
  _slate_add_test("${A_PATH}" ${_slate_timeout_${A_SIZE}}
    /bin/bash "${SLATE_RUNFILES}/slate/${A_SCRIPT}" ${A_ARGS})
endfunction()

# A genrule: its cmd (see genrule_cmd in cmake/gen_sources.py) run by sh from
# the source root, its outputs in the package's folder of the runfiles tree,
# where Bazel's runfiles would show them. Built with everything (ALL).
set(SLATE_TOOL_com_google_protobuf_protoc "${SLATE_PROTOC}")
function(slate_genrule name)
  cmake_parse_arguments(A "" "PKG;CMD" "SRCS;OUTS" ${ARGN})
  _slate_wanted(${name} wanted)
  if(NOT wanted)
    return()
  endif()
  set(ruledir "${SLATE_RUNFILES}/slate/${A_PKG}")
  set(cmd "${A_CMD}")
  string(REPLACE "@RULEDIR@" "${ruledir}" cmd "${cmd}")
  string(REGEX MATCHALL "@EXT:[^@]+@" tools "${cmd}")
  foreach(tool IN LISTS tools)
    string(REGEX REPLACE "^@EXT:([^:]+):(.+)@$" "SLATE_TOOL_\\1_\\2" var "${tool}")
    if(NOT DEFINED ${var})
      message(FATAL_ERROR "genrule ${name}: no ${var} for the tool ${tool}")
    endif()
    string(REPLACE "${tool}" "${${var}}" cmd "${cmd}")
  endforeach()
  set(outs)
  foreach(out IN LISTS A_OUTS)
    list(APPEND outs "${ruledir}/${out}")
    get_filename_component(dir "${ruledir}/${out}" DIRECTORY)
    list(APPEND dirs "${dir}")
    set_property(GLOBAL APPEND PROPERTY SLATE_BINARY_PATHS "${A_PKG}/${out}")
  endforeach()
  set(deps)
  foreach(src IN LISTS A_SRCS)
    list(APPEND deps "${CMAKE_CURRENT_SOURCE_DIR}/${src}")
  endforeach()
  add_custom_command(OUTPUT ${outs}
    COMMAND "${CMAKE_COMMAND}" -E make_directory ${dirs}
    COMMAND sh -c "${cmd}"
    DEPENDS ${deps}
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "genrule //${A_PKG}:${name}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${outs})
endfunction()

# The runfiles tree: real directories on the way to every binary, symbolic
# links to the source tree for everything else (so a test sees the files of
# every package, the way Bazel's runfiles show it its data).
function(_slate_mirror rel binaries)
  set(dst "${SLATE_RUNFILES}/slate${rel}")
  if(IS_SYMLINK "${dst}")
    file(REMOVE "${dst}")
  endif()
  file(MAKE_DIRECTORY "${dst}")
  file(GLOB entries LIST_DIRECTORIES true RELATIVE "${CMAKE_CURRENT_SOURCE_DIR}${rel}"
       "${CMAKE_CURRENT_SOURCE_DIR}${rel}/*")
  foreach(e IN LISTS entries)
    set(r "${rel}/${e}")
    if(r MATCHES "^/(build-cmake|bazel-[^/]*|\\.git)$")
      continue()
    endif()
    set(on_path FALSE)
    set(is_binary FALSE)
    foreach(b IN LISTS binaries)
      if("/${b}" STREQUAL r)
        set(is_binary TRUE)
      elseif("/${b}" MATCHES "^${r}/")
        set(on_path TRUE)
      endif()
    endforeach()
    if(is_binary)
      continue()
    elseif(on_path)
      _slate_mirror("${r}" "${binaries}")
    elseif(NOT EXISTS "${dst}/${e}" AND NOT IS_SYMLINK "${dst}/${e}")
      file(CREATE_LINK "${CMAKE_CURRENT_SOURCE_DIR}${r}" "${dst}/${e}" SYMBOLIC)
    endif()
  endforeach()
endfunction()

function(slate_make_runfiles)
  get_property(binaries GLOBAL PROPERTY SLATE_BINARY_PATHS)
  _slate_mirror("" "${binaries}")
endfunction()
