# Every dependency comes from Debian 12's packages (scripts/setup.sh installs them).
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(yaml-cpp 0.7 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(spdlog 1.10 REQUIRED)
find_package(CLI11 2.1 REQUIRED)
find_package(Threads REQUIRED)
find_package(PahoMqttCpp 1.2 REQUIRED)
# cpp-httplib and libsystemd ship pkg-config files only. httplib is a compiled library whose
# flags change class layouts: always take them from pkg-config.
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
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
