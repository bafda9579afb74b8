#!/usr/bin/env bash
# Starts moto's server (a local AWS API) on a free 127.0.0.1 port, in the
# background, and prints its endpoint URL. Its PID goes to $MOTO_PID_FILE.
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
port=$(free_port)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$cache/moto.log" 2>&1 3>&- &
echo $! > "${MOTO_PID_FILE:-$cache/moto.pid}"
if ! wait_for "http://127.0.0.1:$port/moto-api/" $!; then
    log "moto did not start; see $cache/moto.log"
    exit 1
fi
echo "http://127.0.0.1:$port" >&3
