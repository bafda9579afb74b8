#!/usr/bin/env bash
# What compression changes: bytes on the wire and the server's CPU per
# request for the list and the page, two release binaries side by side
# (say, before and after a change), in alternating rounds so machine noise
# falls on both.
#
#   rehearsal/compression_bench.sh BEFORE AFTER [SECONDS] [ROUNDS] [TASKS...]
#
# For each list size (default 500 and 5000 tasks, AUTH_MODE=none, SQLite)
# both binaries serve a copy of the same database. Each figure is one
# `wrk -t1 -c8` run with the given Accept-Encoding; CPU per request is the
# process's utime+stime (/proc/PID/stat) over the run divided by wrk's
# request count; "body" is one answer's body as sent (curl's size_download).
# Needs wrk and curl.
set -euo pipefail
before=${1:?usage: compression_bench.sh BEFORE AFTER [SECONDS] [ROUNDS] [TASKS...]}
after=${2:?usage: compression_bench.sh BEFORE AFTER [SECONDS] [ROUNDS] [TASKS...]}
secs=${3:-10}
rounds=${4:-2}
shift $(( $# < 4 ? $# : 4 ))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(500 5000)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
tick=$(getconf CLK_TCK)

start() { # start BINARY DATABASE_FILE PORT
    DATABASE_URL="sqlite://$2" AUTH_MODE=none HOST=127.0.0.1 PORT=$3 LOG_FORMAT=json \
        RUST_LOG=warn SHUTDOWN_DRAIN_DELAY=0s "$1" serve >"$work/server-$3.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$3/healthz" >/dev/null && return; sleep 0.1; done
    echo "server on $3 did not start" >&2; cat "$work/server-$3.log" >&2; exit 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# A document of N tasks for POST /api/import (rehearsal/task_document.py).
document() {
    python3 "$(dirname "$0")/task_document.py" "$1"
}

paths=("/api/todos?limit=100" "/api/todos?limit=1000" "/")
printf '%-6s %-22s %-8s %-6s %-5s %9s %9s %9s %10s\n' \
    tasks path encoding binary round req/s body "wire/req" "cpu us/req"
port=28700
for size in "${sizes[@]}"; do
    # One database, filled once, copied for each binary.
    port=$((port + 1))
    start "$after" "$work/seed.db" $port
    document "$size" >"$work/tasks.json"
    curl -fs -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data-binary @"$work/tasks.json" "http://127.0.0.1:$port/api/import?replace=true"
    kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'
    declare -A pid_of port_of
    for which in before after; do
        port=$((port + 1))
        rm -f "$work/$which.db"*
        for file in "$work"/seed.db*; do cp "$file" "${file/seed.db/$which.db}"; done
        if [ "$which" = before ]; then binary=$before; else binary=$after; fi
        start "$binary" "$work/$which.db" $port
        pid_of[$which]=${pids[-1]}
        port_of[$which]=$port
    done
    for round in $(seq "$rounds"); do
        # Alternate which binary goes first.
        order="before after"
        [ $((round % 2)) -eq 0 ] && order="after before"
        for path in "${paths[@]}"; do
            for encoding in br gzip; do
                for which in $order; do
                    url="http://127.0.0.1:${port_of[$which]}$path"
                    body=$(curl -s -o /dev/null -w '%{size_download}' -H "Accept-Encoding: $encoding" "$url")
                    pid=${pid_of[$which]}
                    cpu0=$(cpu_ticks "$pid")
                    wrk -t1 -c8 -d"${secs}s" -H "Accept-Encoding: $encoding" "$url" >"$work/wrk.txt"
                    cpu1=$(cpu_ticks "$pid")
                    awk -v size="$size" -v path="$path" -v enc="$encoding" -v which="$which" \
                        -v round="$round" -v body="$body" -v ticks=$((cpu1 - cpu0)) -v hz="$tick" '
                        function bytes(s) {
                            n = s + 0
                            if (s ~ /KB$/) n *= 1024; else if (s ~ /MB$/) n *= 1048576; else if (s ~ /GB$/) n *= 1073741824
                            return n
                        }
                        / requests in / { requests = $1; read = bytes($5) }
                        /Requests\/sec/ { rps = int($2) }
                        END {
                            printf "%-6s %-22s %-8s %-6s %-5s %9d %9d %9d %10.0f\n", size, path, enc, which, round,
                                rps, body, read / requests, ticks / hz / requests * 1e6
                        }' "$work/wrk.txt"
                done
            done
        done
    done
    for which in before after; do kill "${pid_of[$which]}"; wait "${pid_of[$which]}" 2>/dev/null || true; done
    pids=()
done
