#!/usr/bin/env bash
# Cross-builds the Windows build's C++ dependencies with Debian's mingw-w64 from Debian's own
# source packages, fetched by name with `apt-get source`, at exactly the versions the Linux
# build links (the installed libabsl-dev, prometheus-cpp-dev and libcivetweb-dev):
#   abseil (all of it), civetweb (C + C++ API, no TLS), prometheus-cpp (core + pull).
# Built once into a cache folder named after the versions and reused:
#   scripts/windows-deps.sh            -> prints the prefix (for -DCMAKE_PREFIX_PATH)
#   NODEPROC_MINGW_DEPS_DIR=DIR         overrides the cache folder (default
#     ${XDG_CACHE_HOME:-/var/cache}/nodeproc/mingw-<versions>, ~/.cache when /var/cache is
#     not writable); CI keeps it between runs to stay on the cached path
#   NODEPROC_JOBS=N                     build jobs (default 2)
# The deb-src entry (the same Debian release as the deb entries of this machine) lives in a
# private apt configuration in a temporary folder: the system's sources.list and apt lists are
# not touched, and no root is needed. Needs dpkg-dev (dpkg-source), cmake, ninja-build and
# g++-mingw-w64-x86-64-posix (scripts/deps.sh). Progress goes to stderr; the prefix to stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${NODEPROC_JOBS:-2}

# Source package and its Debian version, from the Linux build's binary packages: one version.
src_version() {
  dpkg-query -W -f='${source:Version}' "$1" 2>/dev/null ||
    { echo "windows-deps: $1 is not installed (scripts/deps.sh); its version pins the Windows build" >&2; exit 1; }
}
ABSL_V=$(src_version libabsl-dev)         # 20220623.1-1+deb12u2
PROM_V=$(src_version prometheus-cpp-dev)  # 1.0.1-1
CIVET_V=$(src_version libcivetweb-dev)    # 1.15+dfsg-4
TAG="absl-${ABSL_V}_prometheus-cpp-${PROM_V}_civetweb-${CIVET_V}"
TAG=${TAG//+/-}
CACHE_ROOT=${XDG_CACHE_HOME:-/var/cache}
[ -n "${XDG_CACHE_HOME:-}" ] || [ -w /var/cache ] || CACHE_ROOT=$HOME/.cache  # not root
PREFIX=${NODEPROC_MINGW_DEPS_DIR:-$CACHE_ROOT/nodeproc/mingw-$TAG}
# The toolchain file is part of the key (a changed compiler setup rebuilds), and RECIPE: bump it
# when the build options below change.
RECIPE=1
KEY="$TAG recipe-$RECIPE toolchain-$(sha256sum "$ROOT/cmake/toolchain-mingw64.cmake" | cut -c1-16)"

if [ -f "$PREFIX/.complete" ] && [ "$(cat "$PREFIX/.complete")" = "$KEY" ]; then
  echo "$PREFIX"
  exit 0
fi

log() { echo "windows-deps: $*" >&2; }
t0=$(date +%s)
log "building $TAG into $PREFIX (cold: Abseil takes most of it; measured 27 min wall on 2 cores shared at load ~20)"
WORK=$(mktemp -d /tmp/windows-deps.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$PREFIX"
rm -f "$PREFIX/.complete"

# Private apt configuration: deb-src for the release(s) of this machine's deb entries.
APT=$WORK/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/sources.list.d"
: >"$APT/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  case "$f" in
  *.sources)  # deb822: copy the stanzas that are Debian's, as deb-src
    awk 'BEGIN{RS="";ORS="\n\n"} /URIs:[^\n]*debian/ && /Types:[^\n]*deb/ {sub(/Types:[^\n]*/,"Types: deb-src"); print}' \
      "$f" >"$APT/sources.list.d/$(basename "$f")" ;;
  *)
    sed -n 's/^deb \(.*debian.*\)$/deb-src \1/p' "$f" >>"$APT/sources.list" ;;
  esac
done
APT_OPTS=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=$APT/sources.list.d"
  -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -qq)
log "apt-get update (deb-src, private lists)"
apt-get "${APT_OPTS[@]}" update >&2
cd "$WORK"
for pv in "abseil=$ABSL_V" "prometheus-cpp=$PROM_V" "civetweb=$CIVET_V"; do
  log "apt-get source $pv"
  apt-get "${APT_OPTS[@]}" source "$pv" >"$WORK/source-${pv%%=*}.log" 2>&1 ||
    { cat "$WORK/source-${pv%%=*}.log" >&2; exit 1; }
done
ABSL_SRC=$(ls -d "$WORK"/abseil-*/ | head -1)
PROM_SRC=$(ls -d "$WORK"/prometheus-cpp-*/ | head -1)
CIVET_SRC=$(ls -d "$WORK"/civetweb-*/ | head -1)

TOOLCHAIN=$ROOT/cmake/toolchain-mingw64.cmake
cmake_build() {  # name source-dir cmake-args...
  local name=$1 src=$2; shift 2
  local t=$(date +%s)
  # Per component, so an interrupted cold build resumes where it stopped.
  if [ -f "$PREFIX/.done-$name" ] && [ "$(cat "$PREFIX/.done-$name")" = "$KEY" ]; then
    log "$name: already built"; return 0
  fi
  log "building $name"
  cmake -S "$src" -B "$WORK/build-$name" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" -DNODEPROC_MINGW_DEPS_DIR="$PREFIX" \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF "$@" >"$WORK/$name-configure.log" 2>&1 ||
    { tail -40 "$WORK/$name-configure.log" >&2; exit 1; }
  cmake --build "$WORK/build-$name" -j "$JOBS" >"$WORK/$name-build.log" 2>&1 ||
    { grep -m20 -B2 -A8 'error' "$WORK/$name-build.log" >&2 || tail -40 "$WORK/$name-build.log" >&2; exit 1; }
  cmake --install "$WORK/build-$name" >/dev/null
  echo "$KEY" >"$PREFIX/.done-$name"
  log "$name built in $(( $(date +%s) - t ))s"
}

# C++17 like Debian's libabsl-dev build; ABSL_PROPAGATE_CXX_STD keeps the flag in the config.
cmake_build abseil "$ABSL_SRC" -DCMAKE_CXX_STANDARD=17 -DABSL_PROPAGATE_CXX_STD=ON -DABSL_ENABLE_INSTALL=ON
cmake_build civetweb "$CIVET_SRC" -DCIVETWEB_ENABLE_CXX=ON -DCIVETWEB_ENABLE_SSL=OFF \
  -DCIVETWEB_BUILD_TESTING=OFF -DCIVETWEB_ENABLE_SERVER_EXECUTABLE=OFF -DCIVETWEB_ENABLE_ASAN=OFF \
  -DCIVETWEB_ENABLE_IPV6=ON -DCIVETWEB_ENABLE_WEBSOCKETS=OFF -DCIVETWEB_DISABLE_CGI=ON \
  -DCIVETWEB_ENABLE_LUA=OFF -DCIVETWEB_ENABLE_DUKTAPE=OFF -DCIVETWEB_ENABLE_ZLIB=OFF
cmake_build prometheus-cpp "$PROM_SRC" -DENABLE_PULL=ON -DENABLE_PUSH=OFF -DENABLE_COMPRESSION=OFF \
  -DENABLE_TESTING=OFF -DUSE_THIRDPARTY_LIBRARIES=OFF -DGENERATE_PKGCONFIG=OFF

echo "$KEY" >"$PREFIX/.complete"
log "done in $(( $(date +%s) - t0 ))s: $PREFIX"
echo "$PREFIX"
