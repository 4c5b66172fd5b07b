#!/usr/bin/env bash
# Builds the nodeproc image from deploy/Dockerfile with whatever builder is there:
# docker (with a daemon), podman, or buildah. Run from anywhere; the context is the repository.
#   deploy/build-image.sh [TAG]                      default tag nodeproc:<version from CMakeLists.txt>
#   NODEPROC_LOCAL_BASE=1 deploy/build-image.sh      no registry: first make debian:bookworm and
#                                                    debian:bookworm-slim locally with debootstrap
#                                                    (a minbase rootfs, ~200 MB, not the real slim)
# In sandboxes where podman cannot start containers (setrlimit denied), buildah's chroot
# isolation still works: NODEPROC_ISOLATION=chroot (the default for buildah here).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -nE 's/^project\(nodeproc VERSION ([0-9.]+).*/\1/p' "$ROOT/CMakeLists.txt")
TAG=${1:-nodeproc:$VERSION}
COMMIT=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
JOBS=${NODEPROC_JOBS:-2}

if [ "${NODEPROC_LOCAL_BASE:-0}" = 1 ]; then
  command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
  command -v podman >/dev/null || { echo "needs podman to import the base image" >&2; exit 2; }
  if ! podman image exists docker.io/library/debian:bookworm; then
    rootfs=$(mktemp -d /tmp/bookworm-rootfs.XXXXXX)
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian
    tar -C "$rootfs" -c . | podman import - docker.io/library/debian:bookworm
    podman tag docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim
    rm -rf "$rootfs"
  fi
fi

# A clean context: only what git tracks (no build dirs, no .git).
CTX=$(mktemp -d /tmp/nodeproc-image.XXXXXX)
trap 'rm -rf "$CTX"' EXIT
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 tar -c) | tar -x -C "$CTX"
else
  cp -a "$ROOT"/. "$CTX"/
fi

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  docker build -f "$CTX/deploy/Dockerfile" --build-arg BUILD_JOBS="$JOBS" --build-arg GIT_COMMIT="$COMMIT" -t "$TAG" "$CTX"
elif command -v buildah >/dev/null; then
  pull=(); [ "${NODEPROC_LOCAL_BASE:-0}" = 1 ] && pull=(--pull=never)
  buildah bud --isolation "${NODEPROC_ISOLATION:-chroot}" "${pull[@]+"${pull[@]}"}" --layers=false \
    --build-arg BUILD_JOBS="$JOBS" --build-arg GIT_COMMIT="$COMMIT" -f "$CTX/deploy/Dockerfile" -t "$TAG" "$CTX"
elif command -v podman >/dev/null; then
  podman build -f "$CTX/deploy/Dockerfile" --build-arg BUILD_JOBS="$JOBS" --build-arg GIT_COMMIT="$COMMIT" -t "$TAG" "$CTX"
else
  echo "no docker daemon, buildah or podman" >&2; exit 2
fi
echo "built $TAG"
