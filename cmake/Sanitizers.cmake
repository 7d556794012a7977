# twind_sanitizers: -DTWIND_SANITIZERS=address,undefined (or thread: not with address) builds
# everything instrumented.
add_library(twind_sanitizers INTERFACE)
if(TWIND_SANITIZERS)
  target_compile_options(twind_sanitizers INTERFACE
    -fsanitize=${TWIND_SANITIZERS} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(twind_sanitizers INTERFACE -fsanitize=${TWIND_SANITIZERS})
endif()
