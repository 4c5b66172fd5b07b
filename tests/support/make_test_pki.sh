#!/bin/bash
# Test PKI for the mock kubelet, made with the openssl CLI:
#   make_test_pki.sh DIR NODE_NAME
# writes into DIR:
#   ca.crt ca.key              the cluster CA
#   server.crt server.key      signed by ca, SAN DNS:NODE_NAME + IP:127.0.0.1
#   name-only.crt name-only.key signed by ca, SAN DNS:NODE_NAME only (dial the IP, verify the name)
#   other-ca.crt other-ca.key  an unrelated CA (wrong-CA tests)
set -euo pipefail
dir=${1:?usage: make_test_pki.sh DIR NODE_NAME}
node=${2:?usage: make_test_pki.sh DIR NODE_NAME}
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }

ca() {  # name
  q openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 2 \
    -subj "/CN=nodeproc-test-$1" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {  # name san
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" >"$1.ext"
  q openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$node"
  q openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" \
    -days 2 -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}
ca ca
ca other-ca
leaf server "DNS:$node,IP:127.0.0.1"
leaf name-only "DNS:$node"
