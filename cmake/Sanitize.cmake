# -DSHARDSAFE_SANITIZE=<list>: builds the product, the sandbox and the tests with those
# sanitizers (scripts/test.sh --sanitize=address,undefined or --sanitize=thread), in a build
# directory of its own. -O1 keeps the instrumented suite fast enough to run whole while
# leaving stacks readable; UBSan stops at its first report so ctest sees it as a failure.
if(NOT SHARDSAFE_SANITIZE)
  return()
endif()
set(sanitize_flags -fsanitize=${SHARDSAFE_SANITIZE} -fno-omit-frame-pointer -O1)
if(SHARDSAFE_SANITIZE MATCHES "undefined")
  list(APPEND sanitize_flags -fno-sanitize-recover=undefined)
endif()
add_compile_options(${sanitize_flags})
add_link_options(${sanitize_flags})
