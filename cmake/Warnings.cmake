# twind_warnings: linked PRIVATE by every twind target, never set globally, so third-party
# headers keep their own flags.
add_library(twind_warnings INTERFACE)
target_compile_options(twind_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wdouble-promotion
  -Wformat=2 -Wimplicit-fallthrough)
if(TWIND_WARNINGS_AS_ERRORS)
  target_compile_options(twind_warnings INTERFACE -Werror)
endif()
