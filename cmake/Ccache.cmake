# ccache, when present, makes the CI's second build (sanitizers) and local rebuilds cheap.
find_program(TWIND_CCACHE ccache)
if(TWIND_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${TWIND_CCACHE}")
endif()
