# Helpers that keep every layer's CMakeLists.txt to a few lines.

# Warnings are errors for our own code only; third-party headers come in as SYSTEM.
function(shardsafe_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
                         -Wno-missing-field-initializers)
endfunction()

# shardsafe_layer(NAME <lib> DEPS <targets...>)
# Builds every .cpp file of the calling folder into a static library `<lib>`.
# Headers are included as "<layer>/<file>.h" from src/.
function(shardsafe_layer)
  cmake_parse_arguments(L "" "NAME" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp
       ${CMAKE_CURRENT_SOURCE_DIR}/*/*.cpp)
  if(NOT sources)
    # A layer whose code has not landed yet still links, so dependents can name it.
    add_library(${L_NAME} INTERFACE)
    target_include_directories(${L_NAME} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${L_NAME} INTERFACE ${L_DEPS})
    return()
  endif()
  add_library(${L_NAME} STATIC ${sources})
  target_include_directories(${L_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${L_NAME} PUBLIC ${L_DEPS})
  shardsafe_warnings(${L_NAME})
endfunction()

# shardsafe_test_suite(NAME <exe> LABEL unit|integration DEPS <targets...> [SOURCES files...])
# One GoogleTest executable per tests/<layer> folder and label; ctest sees every TEST.
function(shardsafe_test_suite)
  cmake_parse_arguments(T "" "NAME;LABEL" "DEPS;SOURCES" ${ARGN})
  if(NOT T_SOURCES)
    return()
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  shardsafe_warnings(${T_NAME})
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  gtest_discover_tests(${T_NAME} PROPERTIES LABELS ${T_LABEL}
                       ENVIRONMENT "SHARDSAFE_BUILD_DIR=${CMAKE_BINARY_DIR}"
                       DISCOVERY_TIMEOUT 60)
endfunction()

# shardsafe_tests(LAYER <name> DEPS <targets...>)
# In a tests/<layer> folder: *_test.cpp are unit tests, *_itest.cpp integration tests
# (they start sandbox processes, s3rver or other real peers).
function(shardsafe_tests)
  cmake_parse_arguments(T "" "LAYER" "DEPS" ${ARGN})
  file(GLOB unit CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
  file(GLOB integration CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_itest.cpp)
  shardsafe_test_suite(NAME ${T_LAYER}_unit_tests LABEL unit DEPS ${T_DEPS} SOURCES ${unit})
  shardsafe_test_suite(NAME ${T_LAYER}_integration_tests LABEL integration
                       DEPS ${T_DEPS} shardsafe_test_support SOURCES ${integration})
endfunction()
