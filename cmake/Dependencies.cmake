# Every dependency comes from Debian 12's packages (scripts/setup.sh installs them).
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(yaml-cpp 0.7 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(spdlog 1.10 REQUIRED)
find_package(CLI11 2.1 REQUIRED)
find_package(Threads REQUIRED)
if(TWIND_BUILD_TESTS)
  find_package(GTest 1.12 REQUIRED)
  include(GoogleTest)
endif()
if(TWIND_BUILD_BENCHMARKS)
  find_package(benchmark 1.7 REQUIRED)
endif()

# Common settings for a twind library or executable target.
function(twind_target_defaults target)
  target_link_libraries(${target} PRIVATE twind_warnings twind_sanitizers)
endfunction()
