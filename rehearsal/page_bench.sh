#!/usr/bin/env bash
# The page of a long list against the budgets of issue 15: for each list
# size (default 50 and 5000 tasks, a third of them done, AUTH_MODE=none,
# SQLite), a fresh server holds the list and tests/browser/page_bench.js
# loads its page in Debian's Chromium RUNS times and reports the medians:
# bytes on the wire (brotli, as Chromium asks), elements in the document,
# the first render, Enter-to-visible for a new task, and the next rows
# after scrolling to the end of those shown. Budgets for 5000 tasks: under
# 100 KB on the wire, under 3,000 elements, first render under 300 ms, a
# new task shown in under 50 ms. A benchmark, not a test: it prints the
# figures and marks each budget, and exits non-zero if one is missed. An
# empty list (0) shows what the machine takes for a page with nothing in it.
#
#   rehearsal/page_bench.sh [BINARY] [RUNS] [TASKS...]   # e.g. ... 5 0 50 5000
#
# BINARY defaults to the release build in CARGO_TARGET_DIR (or target/).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-${CARGO_TARGET_DIR:-target}/release/todo-app}
runs=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(50 5000)
[ -x "$binary" ] || { echo "no binary at $binary; cargo build --release first" >&2; exit 1; }
[ -d tests/browser/node_modules/playwright-core ] ||
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefer-offline --no-audit --no-fund --loglevel=error)

work=$(mktemp -d)
pid=""
cleanup() {
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

missed=0
budget() { # budget NAME VALUE LIMIT UNIT: the figure against its budget
    local verdict=ok
    awk -v v="$2" -v l="$3" 'BEGIN { exit !(v < l) }' || { verdict=OVER; missed=1; }
    printf '  %-10s %8s %-5s (budget: under %s): %s\n' "$1" "$2" "$4" "$3" "$verdict"
}

port=28800
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
for size in "${sizes[@]}"; do
    port=$((port + 1))
    DATABASE_URL="sqlite://$work/page-$size.db?mode=rwc" AUTH_MODE=none HOST=127.0.0.1 PORT=$port \
        LOG_FORMAT=json RUST_LOG=warn SHUTDOWN_DRAIN_DELAY=0s "$binary" serve >"$work/server-$size.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    python3 rehearsal/task_document.py "$size" >"$work/tasks.json"
    curl -fs -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data-binary @"$work/tasks.json" "http://127.0.0.1:$port/api/import?replace=true"
    # The page as sent for each coding, by curl (what a client downloads).
    for encoding in br gzip identity; do
        printf '%-5s tasks  %-8s page body %7d bytes\n' "$size" "$encoding" \
            "$(curl -s -o /dev/null -w '%{size_download}' -H "Accept-Encoding: $encoding" "http://127.0.0.1:$port/")"
    done
    figures=$(cd tests/browser && BASE_URL="http://127.0.0.1:$port" node page_bench.js "$runs")
    echo "$size tasks  $figures"
    if [ "$size" -ge 5000 ]; then
        field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$figures" "$1"; }
        budget wire "$(field wire_bytes)" 102400 bytes
        budget elements "$(field elements)" 3000 ""
        budget "first render" "$(field first_render_ms)" 300 ms
        budget "new task" "$(field add_shown_ms)" 50 ms
        [ "$(field add_in_sight)" = true ] || { echo "  a new task was out of sight"; missed=1; }
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
exit "$missed"
