#!/usr/bin/env bash
# Makes a throwaway test CA and a server certificate for 127.0.0.1/localhost signed by it, for
# serving the simulated provider over HTTPS. Usage: make_test_ca.sh OUTDIR
# Writes OUTDIR/ca.pem (trust this), OUTDIR/server.pem and OUTDIR/server.key. Idempotent.
set -euo pipefail
out=${1:?usage: make_test_ca.sh OUTDIR}
mkdir -p "$out"
cd "$out"
if [[ -s ca.pem && -s server.pem && -s server.key ]]; then exit 0; fi
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=llmtap sim test CA" \
  -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
  -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 600 ca.key server.key
