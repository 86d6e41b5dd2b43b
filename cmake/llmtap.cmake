# Helpers shared by every component's CMakeLists.txt.

# llmtap::test_support::source_dir() for tests: one generated file, so no test object embeds the path.
if(LLMTAP_TESTS)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/test_source_dir.cc.in
                 ${PROJECT_BINARY_DIR}/generated/test_source_dir.cc @ONLY)
  add_library(llmtap_test_source_dir STATIC ${PROJECT_BINARY_DIR}/generated/test_source_dir.cc)
  target_include_directories(llmtap_test_source_dir PUBLIC ${PROJECT_SOURCE_DIR})
endif()

# llmtap_unit_test(NAME SOURCES... LIBS ...): a GoogleTest binary registered with CTest.
function(llmtap_unit_test name)
  if(NOT LLMTAP_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_link_libraries(${name} PRIVATE llmtap_test_source_dir)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES TIMEOUT 300)
endfunction()

# llmtap_fuzz_target(NAME SOURCES... LIBS ...): a libFuzzer binary, built only with -DLLMTAP_FUZZ=ON under clang.
function(llmtap_fuzz_target name)
  if(NOT LLMTAP_FUZZ)
    return()
  endif()
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  set_property(GLOBAL APPEND PROPERTY LLMTAP_FUZZ_TARGETS ${name})
endfunction()
