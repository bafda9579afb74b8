#!/usr/bin/env bash
# Starts moto's server (a local AWS API) on a free 127.0.0.1 port, in the
# background, over HTTPS with a certificate made here, and prints its
# endpoint URL. Its PID goes to $MOTO_PID_FILE; the certificate (its own CA)
# to $MOTO_CA_FILE, which clients must trust: the app's AWS client then
# proves its TLS and certificate checks, not only its requests.
set -euo pipefail

# Only the endpoint may reach stdout: the caller captures it.
exec 3>&1 1>&2
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/todo-app-ci"
venv="$cache/moto-venv"
if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'moto[server]==5.2.5'
fi
ca_file="${MOTO_CA_FILE:-$cache/moto-ca.pem}"
key_file="$cache/moto-key.pem"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -addext "basicConstraints=critical,CA:FALSE" \
    -keyout "$key_file" -out "$ca_file" 2>/dev/null
port=$(free_port)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" -c "$ca_file" -k "$key_file" >"$cache/moto.log" 2>&1 3>&- &
echo $! > "${MOTO_PID_FILE:-$cache/moto.pid}"
endpoint="https://127.0.0.1:$port"
if ! CURL_CA_BUNDLE="$ca_file" wait_for "$endpoint/moto-api/" $!; then
    log "moto did not start; see $cache/moto.log"
    exit 1
fi
echo "$endpoint" >&3
