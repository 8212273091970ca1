#!/usr/bin/env sh
# Makes a self-signed certificate for local use: nginx/certs/tls.crt and nginx/certs/tls.key
# (P-256, valid 30 days, for localhost and 127.0.0.1 plus any names given as arguments).
#   nginx/scripts/make-dev-cert.sh                 # localhost, 127.0.0.1
#   nginx/scripts/make-dev-cert.sh pay.test        # plus DNS:pay.test
# CERT_DIR overrides the output folder (the stack tests make one per run). Never use this pair
# in production: mount the real certificate and key at the same paths instead.
set -eu
dir="${CERT_DIR:-$(dirname "$0")/../certs}"
days="${CERT_DAYS:-30}"
san="DNS:localhost,IP:127.0.0.1"
for name in "$@"; do san="$san,DNS:$name"; done
mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
  -subj "/CN=${1:-localhost}" -addext "subjectAltName=$san" \
  -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" \
  -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
# nginx in the container runs as uid 101 and reads the key through a read-only bind mount:
# a development key is made world-readable so that works without chown. Not for real keys.
chmod 644 "$dir/tls.crt" "$dir/tls.key"
echo "wrote $dir/tls.crt and $dir/tls.key ($san, $days days)"
