# -DSHARDSAFE_FUZZ=ON: a build of the libFuzzer targets in tests/fuzz (see its README), in its
# own build directory. Every object, product code included, is compiled with coverage
# instrumentation and ASan + UBSan, so the fuzzer sees and checks the code it feeds; UBSan
# aborts on its first report so libFuzzer records it as a crash.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "SHARDSAFE_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
endif()
set(SHARDSAFE_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
add_compile_options(${SHARDSAFE_SANITIZERS} -fsanitize=fuzzer-no-link)
add_link_options(${SHARDSAFE_SANITIZERS})
