# twind_sanitizers: -DTWIND_SANITIZERS=address,undefined (or thread: not with address) builds
# everything instrumented.
add_library(twind_sanitizers INTERFACE)
if(TWIND_SANITIZERS)
  target_compile_options(twind_sanitizers INTERFACE
    -fsanitize=${TWIND_SANITIZERS} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(twind_sanitizers INTERFACE -fsanitize=${TWIND_SANITIZERS})
  # AddressSanitizer's executables are linked at a fixed address (-no-pie): a position-independent
  # test executable spends half of its start-up in the dynamic loader, patching over a million
  # relative relocations in ASan's and UBSan's metadata (test_core: 0.30 s to start and exit
  # instead of 0.16 s, measured 2026-12-04), and every test case is a process of its own.
  if(TWIND_SANITIZERS MATCHES "address")
    target_link_options(twind_sanitizers INTERFACE -no-pie)
  endif()
endif()
