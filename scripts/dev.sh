#!/usr/bin/env bash
# nodeproc developer entry point.
#   scripts/dev.sh run   [agent flags]  install deps, build, run the agent on this machine
#                                        (host-only, metrics on 127.0.0.1:9866, ./snapshots)
#   scripts/dev.sh test                  install deps, build, run every test suite
#   scripts/dev.sh build                 install deps and build only
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${NODEPROC_BUILD_DIR:-$ROOT/build}
JOBS=${NODEPROC_JOBS:-$(nproc)}

build() {
  "$ROOT/scripts/deps.sh"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DNODEPROC_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$BUILD" -j "$JOBS"
}

cmd=${1:-}
shift || true
case "$cmd" in
  build)
    build
    ;;
  run)
    build
    mkdir -p "$ROOT/snapshots"
    exec "$BUILD/agent/nodeproc" run --proc-root=/proc --listen-address=127.0.0.1:9866 \
      --snapshot-dir="$ROOT/snapshots" "$@"
    ;;
  test)
    build
    exec "$ROOT/scripts/test-all.sh" "$BUILD"
    ;;
  *)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
