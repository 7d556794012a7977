# twind_warnings: linked PRIVATE by every twind target, never set globally, so third-party
# headers keep their own flags.
add_library(twind_warnings INTERFACE)
target_compile_options(twind_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough)
# Not -Wnull-dereference: with GCC 12 at -O2 it fires inside libstdc++'s std::string as inlined
# into CLI11 (a false positive we cannot fix from here).
if(TWIND_WARNINGS_AS_ERRORS)
  target_compile_options(twind_warnings INTERFACE -Werror)
endif()
