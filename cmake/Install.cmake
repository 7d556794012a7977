# Install rules, included at the end of the top-level CMakeLists.txt:
#
#   cmake --install build --prefix /usr                     # as root, onto this machine
#   DESTDIR=/tmp/stage cmake --install build --prefix /usr  # staged (what tests/deploy checks)
#
# Layout for prefix P (GNUInstallDirs names; every path follows the prefix given at *install*
# time, `--prefix` included, not only the one configured):
#   P/bin/twind, P/bin/twin-sim
#   P/lib/systemd/system/twind.service   (TWIND_SYSTEMD_UNIT_DIR; systemd searches both
#                                         /usr/lib/systemd/system and /usr/local/lib/systemd/system)
#   P/lib/systemd/system/twind@.service  the template unit of a cluster's replicas (twind@<member>)
#   SYSCONFDIR/twind/twind.yaml          (/etc when P is /usr or /, /etc/opt/X when P is /opt/X,
#                                         else P/etc; never overwrites an edited file: the new one
#                                         is installed beside it as twind.yaml.new)
#   SYSCONFDIR/twind/cluster.yaml        twind@.service's configuration, installed the same way
#   P/share/doc/twind/                   README.md, docs/*.md, examples/*.yaml
include(GNUInstallDirs)

set(TWIND_SYSTEMD_UNIT_DIR "lib/systemd/system"
    CACHE STRING "Where twind.service is installed: relative to the install prefix, or absolute")

# This file lives in <repo>/cmake: locate the repository from here, not from PROJECT_SOURCE_DIR,
# so the rules hold whichever project includes them.
get_filename_component(_twind_repo "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(_twind_docdir "${CMAKE_INSTALL_DATAROOTDIR}/doc/twind")

install(TARGETS twind twin-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES "${_twind_repo}/README.md" DESTINATION ${_twind_docdir})
install(DIRECTORY "${_twind_repo}/docs/" DESTINATION ${_twind_docdir} FILES_MATCHING PATTERN "*.md")
install(DIRECTORY "${_twind_repo}/config/" DESTINATION ${_twind_docdir}/examples
        FILES_MATCHING PATTERN "*.yaml")

# The unit and the configuration depend on the final prefix, which `cmake --install --prefix`
# may change after configuration: CMAKE_INSTALL_FULL_* (fixed at configure time) would then name
# /usr/local/bin/twind in a unit installed under /usr. So both are placed by install-time code
# that derives the absolute directories from the prefix in force, by GNUInstallDirs' own rules.
install(CODE "
set(_twind_systemd [[${_twind_repo}/systemd]])
set(_twind_configs [[${_twind_repo}/config]])
set(_twind_stage [[${CMAKE_CURRENT_BINARY_DIR}/twind-install]])
set(_twind_bindir [[${CMAKE_INSTALL_BINDIR}]])
set(_twind_sysconfdir [[${CMAKE_INSTALL_SYSCONFDIR}]])
set(_twind_docdir [[${_twind_docdir}]])
set(_twind_unitdir [[${TWIND_SYSTEMD_UNIT_DIR}]])
")
install(CODE [[
function(_twind_absolute out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
_twind_absolute(CMAKE_INSTALL_FULL_BINDIR "${_twind_bindir}")
_twind_absolute(CMAKE_INSTALL_FULL_DOCDIR "${_twind_docdir}")
_twind_absolute(_twind_unit_full "${_twind_unitdir}")
# GNUInstallDirs: SYSCONFDIR is /etc for the prefixes / and /usr, /etc/opt/X for /opt/X.
if(IS_ABSOLUTE "${_twind_sysconfdir}")
  set(CMAKE_INSTALL_FULL_SYSCONFDIR "${_twind_sysconfdir}")
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/(usr/?)?$")
  set(CMAKE_INSTALL_FULL_SYSCONFDIR "/${_twind_sysconfdir}")
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/opt/(.+)$")
  set(CMAKE_INSTALL_FULL_SYSCONFDIR "/${_twind_sysconfdir}/opt/${CMAKE_MATCH_1}")
else()
  set(CMAKE_INSTALL_FULL_SYSCONFDIR "${CMAKE_INSTALL_PREFIX}/${_twind_sysconfdir}")
endif()
string(REGEX REPLACE "/+$" "" CMAKE_INSTALL_FULL_SYSCONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}")

# The daemon's unit, and the template unit of a cluster's replicas (twind@<member>).
foreach(_twind_unit twind.service twind@.service)
  configure_file("${_twind_systemd}/${_twind_unit}.in" "${_twind_stage}/${_twind_unit}" @ONLY)
  file(INSTALL DESTINATION "${_twind_unit_full}" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${_twind_stage}/${_twind_unit}")
endforeach()

# World-readable: the service runs as a DynamicUser, not root. Secrets go in separate files.
# twind.yaml for twind.service, cluster.yaml for twind@.service.
set(_twind_conf_dir "${CMAKE_INSTALL_FULL_SYSCONFDIR}/twind")
foreach(_twind_conf twind.yaml cluster.yaml)
  set(_twind_conf_name ${_twind_conf})
  if(EXISTS "$ENV{DESTDIR}${_twind_conf_dir}/${_twind_conf}")
    file(SHA256 "$ENV{DESTDIR}${_twind_conf_dir}/${_twind_conf}" _twind_have)
    file(SHA256 "${_twind_configs}/${_twind_conf}" _twind_ship)
    if(NOT _twind_have STREQUAL _twind_ship)
      set(_twind_conf_name ${_twind_conf}.new)
      message(STATUS "Keeping the edited $ENV{DESTDIR}${_twind_conf_dir}/${_twind_conf}; "
                     "the shipped one is installed beside it as ${_twind_conf}.new")
    endif()
  endif()
  file(INSTALL DESTINATION "${_twind_conf_dir}" TYPE FILE RENAME "${_twind_conf_name}"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${_twind_configs}/${_twind_conf}")
endforeach()
]])
