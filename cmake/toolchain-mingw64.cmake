# Cross build for Windows x86-64 with Debian's mingw-w64 (package g++-mingw-w64-x86-64-posix):
#   cmake -S . -B build-windows -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake
# The -posix compilers are the ones with std::thread / std::mutex (winpthreads).
# Everything is linked statically, so nodeproc.exe and the tests run under wine or on a
# Windows node without the mingw runtime DLLs.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(NODEPROC_MINGW_PREFIX x86_64-w64-mingw32)

set(CMAKE_C_COMPILER ${NODEPROC_MINGW_PREFIX}-gcc-posix)
set(CMAKE_CXX_COMPILER ${NODEPROC_MINGW_PREFIX}-g++-posix)
set(CMAKE_RC_COMPILER ${NODEPROC_MINGW_PREFIX}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${NODEPROC_MINGW_PREFIX})
# The cross-built Abseil / prometheus-cpp / civetweb (scripts/windows-deps.sh prints the folder).
if(NODEPROC_MINGW_DEPS_DIR)
  list(APPEND CMAKE_FIND_ROOT_PATH ${NODEPROC_MINGW_DEPS_DIR})
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
# Lets `ctest` run the test binaries through wine when it is installed.
find_program(NODEPROC_WINE wine)
if(NODEPROC_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${NODEPROC_WINE})
endif()
