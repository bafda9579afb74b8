#!/usr/bin/env bash
# What a bearer token costs per request, in instructions (callgrind counts
# are steady on a busy machine, unlike requests per second): the server runs
# under callgrind with AUTH_MODE=none and then with accounts and a token, on
# SQLite, and each scenario's count is divided by its requests.
#
#   rehearsal/auth_cost.sh BINARY [REQUESTS]
#
# Counts are user-space instructions of the whole process (the runtime, the
# SQLite worker, the group-commit writer); the kernel's share (syscalls,
# wake-ups) is the same in both modes, since a cached token adds none.
# Needs valgrind and hey (apt). Only 127.0.0.1 is loaded.
set -euo pipefail
# callgrind_control finds the process by the USER and HOST it started
# with (HOST is also the address the server listens on).
export USER=${USER:-$(id -un)}
bin=${1:?usage: auth_cost.sh BINARY [REQUESTS]}
n=${2:-2000}
work=$(mktemp -d)
port=28700
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    if [ -n "${KEEP:-}" ]; then echo "callgrind files kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
url() { echo "http://127.0.0.1:$port$1"; }

start() { # start MODE
    port=$((port + 1))
    AUTH_MODE=$1 DATABASE_URL="sqlite://$work/$1.db" HOST=127.0.0.1 PORT=$port RUST_LOG=warn \
        SHUTDOWN_DRAIN_DELAY=0s valgrind --tool=callgrind --callgrind-out-file="$work/$1.%p.out" \
        "$bin" serve >"$work/server-$1.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do curl -fs "$(url /healthz)" >/dev/null && return; sleep 0.1; done
    echo "server did not start" >&2; cat "$work/server-$1.log" >&2; exit 1
}

stop() {
    kill -INT "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
}

# shellcheck source=rehearsal/accounts_lib.sh
. "$(dirname "$0")/accounts_lib.sh"

# Instructions so far (callgrind_control dumps, then the dumps are summed).
total() { # total MODE
    HOST=127.0.0.1 callgrind_control --dump "$pid" >/dev/null 2>&1
    sleep 1
    awk '/^summary:/ {s += $2} END {print s}' "$work"/"$1".*.out*
}

declare -A cost
for mode in none accounts; do
    start "$mode"
    if [ "$mode" = none ]; then header="X-Bench: none"; else header="Authorization: Bearer $(token_for bench)"; fi
    id=$(seed "$header")
    # Warm up (caches, connections), then count each scenario on its own.
    hey -n 200 -c 4 -H "$header" "$(url "/api/todos/$id")" >/dev/null
    before=$(total "$mode")
    hey -n "$n" -c 4 -H "$header" "$(url "/api/todos/$id")" >/dev/null
    after=$(total "$mode")
    cost[$mode.get]=$(((after - before) / n))
    hey -n "$n" -c 4 -H "$header" "$(url /api/todos)" >/dev/null
    before=$after; after=$(total "$mode")
    cost[$mode.list]=$(((after - before) / n))
    hey -n "$n" -c 4 -m POST -T application/json -d '{"title":"bench"}' -H "$header" "$(url /api/todos)" >/dev/null
    before=$after; after=$(total "$mode")
    cost[$mode.create]=$(((after - before) / n))
    stop
done

printf '%-8s %14s %14s %9s\n' scenario "none Ir/req" "token Ir/req" overhead
for s in get list create; do
    a=${cost[none.$s]} b=${cost[accounts.$s]}
    printf '%-8s %14s %14s %8s%%\n' "$s" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%+.1f", (b - a) * 100 / a}')"
done
