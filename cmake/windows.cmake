# The Windows (mingw-w64) build: only what is portable. No prometheus-cpp, civetweb, curl,
# OpenSSL or Abseil exist for mingw in Debian, so this build has
#   - platform/absl_lite: our own small implementation of the Abseil subset the shared files
#     use (absl/... headers, Windows build only; see its README),
#   - platform/openssl_bcrypt: SHA-256/HMAC for cmdline_privacy over Windows CNG,
#   - nlohmann-json from Debian's header-only nlohmann-json3-dev (linked into the build tree),
# and builds: the Toolhelp/PSS probe, CPU windows, CSV/JSON/table rendering, command-line
# privacy, nodeproc.exe (agent/windows/main.cc: `snapshot`, `pss`, `version`), and the unit
# tests that apply, against GoogleTest's sources from Debian's googletest package.
# Included from the top-level CMakeLists.txt when WIN32; the Linux build never reads it.

# Windows 8.1 API level (PSS needs it; GetProcAddress guards it at run time anyway).
add_compile_definitions(_WIN32_WINNT=0x0603 WINVER=0x0603 WIN32_LEAN_AND_MEAN NOMINMAX UNICODE _UNICODE)

execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE NODEPROC_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT NODEPROC_GIT_COMMIT)
  set(NODEPROC_GIT_COMMIT unknown)
endif()

# Header-only nlohmann-json from the Debian package, without putting /usr/include (Linux
# headers) on the mingw include path: only its own folder is linked into the build tree.
set(NODEPROC_NLOHMANN_DIR /usr/include/nlohmann CACHE PATH "folder holding nlohmann/json.hpp")
if(NOT EXISTS ${NODEPROC_NLOHMANN_DIR}/json.hpp)
  message(FATAL_ERROR "nlohmann/json.hpp not found in ${NODEPROC_NLOHMANN_DIR} (apt-get install nlohmann-json3-dev)")
endif()
set(NODEPROC_THIRD_PARTY_INCLUDE ${CMAKE_BINARY_DIR}/third_party_include)
file(MAKE_DIRECTORY ${NODEPROC_THIRD_PARTY_INCLUDE})
if(NOT EXISTS ${NODEPROC_THIRD_PARTY_INCLUDE}/nlohmann)
  file(CREATE_LINK ${NODEPROC_NLOHMANN_DIR} ${NODEPROC_THIRD_PARTY_INCLUDE}/nlohmann SYMBOLIC)
endif()

add_library(absl_lite STATIC
  platform/absl_lite/status.cc
  platform/absl_lite/str_cat.cc
  platform/absl_lite/time.cc)
target_include_directories(absl_lite PUBLIC ${CMAKE_SOURCE_DIR}/platform/absl_lite)

add_library(openssl_bcrypt STATIC platform/openssl_bcrypt/bcrypt_sha256.cc)
target_include_directories(openssl_bcrypt PUBLIC ${CMAKE_SOURCE_DIR}/platform/openssl_bcrypt)
target_link_libraries(openssl_bcrypt PUBLIC bcrypt)

file(GLOB NODEPROC_WIN_PROBE_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/collectors/windows/*.cc)
add_library(nodeproc_win STATIC
  core/log.cc
  core/log_limiter.cc
  core/process_state.cc
  core/utf8.cc
  collectors/cpu_windows.cc
  ${NODEPROC_WIN_PROBE_SOURCES}
  exporters/csv_format.cc
  exporters/snapshot_format.cc
  exporters/cmdline_privacy.cc)
target_include_directories(nodeproc_win PUBLIC ${CMAKE_SOURCE_DIR})
target_include_directories(nodeproc_win SYSTEM PUBLIC ${NODEPROC_THIRD_PARTY_INCLUDE})
target_link_libraries(nodeproc_win PUBLIC absl_lite openssl_bcrypt psapi)

add_executable(nodeproc agent/windows/main.cc)
target_link_libraries(nodeproc PRIVATE nodeproc_win)
target_compile_definitions(nodeproc PRIVATE
  NODEPROC_VERSION="${PROJECT_VERSION}" NODEPROC_GIT_COMMIT="${NODEPROC_GIT_COMMIT}")
install(TARGETS nodeproc RUNTIME DESTINATION bin)

if(NODEPROC_BUILD_TESTS)
  set(NODEPROC_GTEST_SOURCE_DIR /usr/src/googletest CACHE PATH "GoogleTest sources (Debian package googletest)")
  if(NOT EXISTS ${NODEPROC_GTEST_SOURCE_DIR}/CMakeLists.txt)
    message(FATAL_ERROR "GoogleTest sources not found in ${NODEPROC_GTEST_SOURCE_DIR} (apt-get install googletest)")
  endif()
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  add_subdirectory(${NODEPROC_GTEST_SOURCE_DIR} ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)

  enable_testing()
  # The unit tests of the shared files that this build compiles, plus the Windows-only ones.
  set(NODEPROC_WIN_TEST_SOURCES
    tests/unit/core/log_test.cc
    tests/unit/core/process_state_test.cc
    tests/unit/collectors/cpu_windows_test.cc
    tests/unit/collectors/windows_convert_test.cc
    tests/unit/exporters/csv_format_test.cc
    tests/unit/exporters/csv_hostile_values_test.cc
    tests/unit/exporters/snapshot_format_test.cc
    tests/unit/exporters/cmdline_privacy_test.cc
    tests/unit/exporters/cmdline_privacy_gaps_test.cc
    tests/unit/exporters/unknown_uid_test.cc
    tests/unit/platform/absl_lite_test.cc)
  file(GLOB NODEPROC_WIN_ONLY_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/collectors/windows/*_test.cc)
  add_executable(windows_unit_tests ${NODEPROC_WIN_TEST_SOURCES} ${NODEPROC_WIN_ONLY_TESTS}
    tests/unit/collectors/windows/temp_dir_windows.cc)
  target_link_libraries(windows_unit_tests PRIVATE nodeproc_win gmock gtest gtest_main)
  add_test(NAME windows_unit_tests COMMAND windows_unit_tests)
endif()
