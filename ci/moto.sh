#!/usr/bin/env bash
# Starts moto's server (a local AWS API) on a free 127.0.0.1 port, in the
# background, and prints its endpoint URL. Its PID goes to $MOTO_PID_FILE.
set -euo pipefail

# Only the endpoint may reach stdout: the caller captures it.
exec 3>&1 1>&2

cache="${XDG_CACHE_HOME:-$HOME/.cache}/todo-app-ci"
venv="$cache/moto-venv"
if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'moto[server]==5.2.5'
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$cache/moto.log" 2>&1 3>&- &
echo $! > "${MOTO_PID_FILE:-$cache/moto.pid}"
for _ in $(seq 1 50); do
    if curl -fs "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
        echo "http://127.0.0.1:$port" >&3
        exit 0
    fi
    sleep 0.2
done
echo "moto did not start; see $cache/moto.log" >&2
exit 1
