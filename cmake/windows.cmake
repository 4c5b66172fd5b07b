# The Windows (mingw-w64) build: the same agent as Linux with the Toolhelp/PSS probe.
# Abseil, prometheus-cpp (core + pull) and civetweb are cross-built from Debian's source
# packages at the Linux build's versions by scripts/windows-deps.sh (built once, cached; pass
# -DNODEPROC_MINGW_DEPS_DIR=<its output> or let this file run it). Shared with Linux: flags,
# configuration, the snapshot pipeline, the snapshot writer (CSV contract, retention), the
# metrics collectable and self metrics, command-line privacy, CPU windows, rendering.
# Windows-only: collectors/windows (the probe), core/platform_windows.cc (file and host
# calls), agent/windows (entry point and the /metrics server over civetweb),
# platform/openssl_bcrypt (SHA-256/HMAC over Windows CNG for --anonymize).
# Not here: procfs (files snapshot, packages, cgroup -> container mapping) and the kubelet
# client (no curl/OpenSSL for mingw in Debian). Included from the top-level CMakeLists.txt
# when WIN32; the Linux build never reads it.

# Windows 8.1 API level (PSS needs it; GetProcAddress guards it at run time anyway).
add_compile_definitions(_WIN32_WINNT=0x0603 WINVER=0x0603 WIN32_LEAN_AND_MEAN NOMINMAX UNICODE _UNICODE)

execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE NODEPROC_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT NODEPROC_GIT_COMMIT)
  set(NODEPROC_GIT_COMMIT unknown)
endif()

# The cross-built dependencies (cached by the script; a no-op when already built).
if(NOT NODEPROC_MINGW_DEPS_DIR)
  execute_process(COMMAND ${CMAKE_SOURCE_DIR}/scripts/windows-deps.sh
    OUTPUT_VARIABLE NODEPROC_MINGW_DEPS_DIR OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE deps_result)
  if(NOT deps_result EQUAL 0)
    message(FATAL_ERROR "scripts/windows-deps.sh failed (${deps_result})")
  endif()
  set(NODEPROC_MINGW_DEPS_DIR ${NODEPROC_MINGW_DEPS_DIR} CACHE PATH "cross-built Abseil/prometheus-cpp/civetweb" FORCE)
  list(APPEND CMAKE_FIND_ROOT_PATH ${NODEPROC_MINGW_DEPS_DIR})
endif()
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(civetweb CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
message(STATUS "Windows deps (Abseil, civetweb, prometheus-cpp): ${NODEPROC_MINGW_DEPS_DIR}")

# Header-only libraries from the Debian packages, without putting /usr/include (Linux
# headers) on the mingw include path: only their own folders are linked into the build tree.
set(NODEPROC_THIRD_PARTY_INCLUDE ${CMAKE_BINARY_DIR}/third_party_include)
file(MAKE_DIRECTORY ${NODEPROC_THIRD_PARTY_INCLUDE})
foreach(header_dir nlohmann rapidjson)
  if(NOT EXISTS /usr/include/${header_dir})
    message(FATAL_ERROR "/usr/include/${header_dir} not found (apt-get install nlohmann-json3-dev rapidjson-dev)")
  endif()
  if(NOT EXISTS ${NODEPROC_THIRD_PARTY_INCLUDE}/${header_dir})
    file(CREATE_LINK /usr/include/${header_dir} ${NODEPROC_THIRD_PARTY_INCLUDE}/${header_dir} SYMBOLIC)
  endif()
endforeach()

add_library(openssl_bcrypt STATIC platform/openssl_bcrypt/bcrypt_sha256.cc)
target_include_directories(openssl_bcrypt PUBLIC ${CMAKE_SOURCE_DIR}/platform/openssl_bcrypt)
target_link_libraries(openssl_bcrypt PUBLIC bcrypt)

file(GLOB NODEPROC_WIN_PROBE_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/collectors/windows/*.cc)
add_library(nodeproc_win STATIC
  core/log.cc
  core/log_limiter.cc
  core/process_state.cc
  core/read_file.cc
  core/utf8.cc
  core/platform_windows.cc
  collectors/cpu_windows.cc
  ${NODEPROC_WIN_PROBE_SOURCES}
  kube/cgroup_parser.cc
  kube/container_resolver.cc
  kube/enrichment.cc
  kube/json_filter.cc
  kube/json_util.cc
  kube/kubelet_cache.cc
  kube/kubelet_source.cc
  kube/pods_parser.cc
  kube/summary_parser.cc
  exporters/csv_format.cc
  exporters/snapshot_format.cc
  exporters/cmdline_privacy.cc
  exporters/cmdline_privacy_cache.cc
  exporters/label_values.cc
  exporters/atomic_file.cc
  exporters/snapshot_writer.cc
  exporters/process_accounting.cc
  exporters/metrics_collectable.cc
  exporters/self_metrics.cc
  agent/flags.cc
  agent/config.cc
  agent/module_options.cc
  agent/snapshot_pipeline.cc
  agent/windows/container_filter_windows.cc
  agent/windows/metrics_server.cc
  agent/windows/upload_wiring_windows.cc
  agent/windows/windows_agent.cc)
# The pipeline links ContainerResolver (cgroup -> container) and KubeletCache (with its
# fixture source) but Windows passes neither (no procfs, no kubelet client): the resolver's
# openat(2) constant only has to compile here. No ContainerFilter either (kube/container_filter.cc
# needs RE2, absent for mingw): it only ever drops container processes, and Windows has none;
# --container-include/--container-exclude are refused there and agent/windows/
# container_filter_windows.cc only defines what the pipeline references.
set_source_files_properties(kube/container_resolver.cc PROPERTIES COMPILE_DEFINITIONS AT_FDCWD=-100)
target_include_directories(nodeproc_win PUBLIC ${CMAKE_SOURCE_DIR})
target_include_directories(nodeproc_win SYSTEM PUBLIC ${NODEPROC_THIRD_PARTY_INCLUDE})
# Only the file that prints them: a new commit must not recompile the whole library.
set_source_files_properties(agent/windows/windows_agent.cc PROPERTIES COMPILE_DEFINITIONS
  "NODEPROC_VERSION=\"${PROJECT_VERSION}\";NODEPROC_GIT_COMMIT=\"${NODEPROC_GIT_COMMIT}\"")
target_link_libraries(nodeproc_win PUBLIC
  absl::flags absl::flags_parse absl::flags_usage absl::status absl::statusor absl::strings
  absl::str_format absl::time absl::synchronization absl::flat_hash_map absl::flat_hash_set
  prometheus-cpp::core civetweb::civetweb openssl_bcrypt psapi ws2_32 Threads::Threads)

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
    tests/unit/core/platform_test.cc
    tests/unit/collectors/cpu_windows_test.cc
    tests/unit/collectors/windows_convert_test.cc
    tests/unit/exporters/csv_format_test.cc
    tests/unit/exporters/csv_hostile_values_test.cc
    tests/unit/exporters/snapshot_format_test.cc
    tests/unit/exporters/cmdline_privacy_test.cc
    tests/unit/exporters/cmdline_privacy_gaps_test.cc
    tests/unit/exporters/unknown_uid_test.cc
    tests/unit/exporters/snapshot_writer_contract_test.cc
    tests/unit/exporters/metrics_collectable_test.cc
    tests/unit/exporters/metrics_self_test.cc
    tests/unit/exporters/process_accounting_test.cc
    tests/unit/exporters/windows/atomic_file_windows_test.cc)
  file(GLOB NODEPROC_WIN_ONLY_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/collectors/windows/*_test.cc)
  add_executable(windows_unit_tests ${NODEPROC_WIN_TEST_SOURCES} ${NODEPROC_WIN_ONLY_TESTS}
    tests/unit/collectors/windows/temp_dir_windows.cc)
  target_link_libraries(windows_unit_tests PRIVATE nodeproc_win gmock gtest gtest_main)
  # --scrub-pattern needs RE2 (exporters/cmdline_privacy.cc): its tests skip here, with the reason.
  target_compile_definitions(windows_unit_tests PRIVATE NODEPROC_TEST_NO_RE2=1)
  add_test(NAME windows_unit_tests COMMAND windows_unit_tests)
endif()
