#!/usr/bin/env bash
# What accounts cost: the same requests with AUTH_MODE=none and with a
# bearer token, side by side (alternating rounds, so machine noise falls on
# both), on SQLite and PostgreSQL; then the login rate (Argon2id) and what
# a flood of logins does to the p99 of other requests.
#
#   rehearsal/auth_bench.sh BINARY [DURATION_SECONDS] [ROUNDS]
#
# Needs wrk and hey (apt). PostgreSQL runs when TEST_DATABASE_URL is set
# (a role that may create databases). Only 127.0.0.1 is loaded.
set -euo pipefail
bin=${1:?usage: auth_bench.sh BINARY [SECONDS] [ROUNDS]}
secs=${2:-5}
rounds=${3:-2}
work=$(mktemp -d)
port=28500
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

start() { # start MODE DATABASE_URL
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    port=$((port + 1))
    AUTH_MODE=$1 DATABASE_URL=$2 HOST=127.0.0.1 PORT=$port LOG_FORMAT=json RUST_LOG=warn \
        SHUTDOWN_DRAIN_DELAY=0s "$bin" serve >"$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
    echo "server did not start" >&2; cat "$work/server.log" >&2; exit 1
}
url() { echo "http://127.0.0.1:$port$1"; }

# shellcheck source=rehearsal/accounts_lib.sh
. "$(dirname "$0")/accounts_lib.sh"

rps() { # rps HEADER PATH
    wrk -t2 -c32 -d"${secs}s" -H "$1" "$(url "$2")" | awk '/Requests\/sec/ {print int($2)}'
}
here=$(cd "$(dirname "$0")" && pwd)
mix_rps() { # mix_rps HEADER LIST:GET:CREATE (ids 1..100 exist: a fresh database)
    LOAD_MIX=$2 LOAD_OUT=/dev/null wrk -t2 -c32 -d"${secs}s" -s "$here/load.lua" -H "$1" "$(url /)" |
        awk '/Requests\/sec/ {print int($2)}'
}

backends="sqlite"
[ -n "${TEST_DATABASE_URL:-}" ] && backends="sqlite postgres"
printf '%-9s %-6s %-5s %10s %10s %10s %10s\n' backend mode round "get rps" "list rps" "create" "90/10 mix"
for backend in $backends; do
    for round in $(seq "$rounds"); do
        for mode in none token; do
            if [ "$backend" = sqlite ]; then
                db="sqlite://$work/$mode-$round.db"
            else
                name="auth_bench_${mode}_${round}_$$"
                psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
                db="${TEST_DATABASE_URL%/*}/$name"
            fi
            if [ "$mode" = none ]; then
                start none "$db"; header="X-Bench: none"
            else
                start accounts "$db"; header="Authorization: Bearer $(token_for "bench$round")"
            fi
            id=$(seed "$header")
            get=$(rps "$header" "/api/todos/$id")
            list=$(rps "$header" "/api/todos")
            mix=$(mix_rps "$header" 0:90:10)
            create=$(mix_rps "$header" 0:0:100)
            printf '%-9s %-6s %-5s %10s %10s %10s %10s\n' "$backend" "$mode" "$round" "$get" "$list" "$create" "$mix"
        done
    done
done

# Logins: the Argon2id rate with the default PASSWORD_HASH_CONCURRENCY=1,
# and the p99 of token-authenticated gets (200/s) alone and during a flood.
start accounts "sqlite://$work/logins.db"
token=$(token_for flood)
id=$(seed "Authorization: Bearer $token")
login='{"username":"flood","password":"bench passphrase","name":"x"}'
echo
echo "logins (POST /api/tokens, right password, 8 at once, 40):"
hey -n 40 -c 8 -m POST -T application/json -d "$login" "$(url /api/tokens)" | grep -E 'Requests/sec|\[201\]|\[503\]'
p99() { grep -E '^ +99% in' | awk '{print $3 * 1000 " ms"}'; }
echo "get p99 at 200/s, alone: $(hey -z "${secs}s" -c 4 -q 50 -H "Authorization: Bearer $token" "$(url "/api/todos/$id")" | p99)"
hey -z "$((secs + 2))s" -c 64 -m POST -T application/json -d "$login" "$(url /api/tokens)" >"$work/flood.txt" &
flood=$!
sleep 1
echo "get p99 at 200/s, during a flood of 64 concurrent logins: $(hey -z "${secs}s" -c 4 -q 50 -H "Authorization: Bearer $token" "$(url "/api/todos/$id")" | p99)"
wait "$flood"
echo "the flood's answers:"; grep -E '^\s+\[[0-9]+\]' "$work/flood.txt"
