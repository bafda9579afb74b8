#!/usr/bin/env bash
# Browser tests of the web UI: Debian's headless Chromium, driven by
# playwright-core under Node's test runner, against the real binary on a free
# port over a fresh SQLite file, then (when TEST_DATABASE_URL is set) again
# over a fresh PostgreSQL database. On each database the list's tests run
# with AUTH_MODE=none, then accounts.test.js and lists.test.js, each against
# a server with AUTH_MODE=accounts over a database of its own. Installs what is missing,
# never downloads a browser build of its own. Exits non-zero when any test
# fails.
#
#   ci/browser.sh                     # SQLite
#   TEST_DATABASE_URL=postgres://… ci/browser.sh   # SQLite, then PostgreSQL
#
# SCREENSHOT_DIR (default: a temporary directory) receives the screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."

# Bounds: the whole run, and one test file on one backend.
TEST_TIMEOUT="${BROWSER_TEST_TIMEOUT:-900}"

# shellcheck source=ci/lib.sh
. ci/lib.sh

# ---- What the tests need --------------------------------------------------------
if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
need_packages node:nodejs npm:npm curl:curl
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then
    # --prefer-offline: a fresh clone installs from npm's cache, not the network.
    log "installing playwright-core (no browser download)"
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi

log "building the binary"
# The release binary: the one users run, and the one the rehearsal and the
# image use, so CI compiles the dependency tree once more, not twice (a
# debug `cargo build` after `cargo test` rebuilds ~70 crates without the
# dev-dependencies' features).
cargo build --release --locked --quiet
binary="${CARGO_TARGET_DIR:-target}/release/todo-app"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/todo-browser.XXXXXX")"
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$workdir/screenshots}"
server_pid=""
pg_database=""

stop_server() {
    stop_process "$server_pid"
    server_pid=""
}

drop_pg_database() {
    if [ -n "$pg_database" ]; then
        psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" >/dev/null 2>&1 || true
        pg_database=""
    fi
}

# shellcheck disable=SC2317  # run by the trap
cleanup() {
    stop_server
    drop_pg_database
    rm -rf "$workdir/db"
}
trap cleanup EXIT

# run_suite NAME DATABASE_URL AUTH_MODE TEST_FILE...: starts the server,
# waits for it, runs the tests.
run_suite() {
    local name="$1" database_url="$2" auth_mode="$3" port
    shift 3
    port="$(free_port)"
    log "[$name] starting the server on port $port (AUTH_MODE=$auth_mode)"
    DATABASE_URL="$database_url" AUTH_MODE="$auth_mode" HOST=127.0.0.1 PORT="$port" SHUTDOWN_DRAIN_DELAY=0s \
        LOG_FORMAT=json RUST_LOG=warn "$binary" >"$workdir/server-$name.log" 2>&1 &
    server_pid=$!
    if ! wait_for "http://127.0.0.1:$port/readyz" "$server_pid"; then
        log "[$name] the server did not become ready; its log:"
        cat "$workdir/server-$name.log" >&2
        stop_server
        return 1
    fi
    local status=0
    (cd tests/browser && BASE_URL="http://127.0.0.1:$port" timeout --kill-after=10 "$TEST_TIMEOUT" \
        node --test --test-concurrency=1 --test-timeout=300000 "$@") || status=$?
    stop_server
    if [ "$status" -ne 0 ]; then
        log "[$name] failed (exit $status); server log:"
        tail -n 50 "$workdir/server-$name.log" >&2
    fi
    return "$status"
}

# AUTH_MODE=none: one shared list without sign-in, so these tests of the
# list do not depend on accounts.
LIST_TESTS=(ui.test.js live.test.js look.test.js views.test.js many.test.js nodes.test.js solo.test.js)
# AUTH_MODE=accounts, the default, on a database of its own: tasks stored
# without accounts would go to the first account created.
ACCOUNT_TESTS=(accounts.test.js)
# Lists and sharing, with accounts, on a third database: its sign-ups do not
# count against accounts.test.js's.
LISTS_TESTS=(lists.test.js)

# A fresh PostgreSQL database on the TEST_DATABASE_URL server, in pg_url.
create_pg_database() {
    pg_database="todo_browser_$(date +%s)_$$_$1"
    psql "$TEST_DATABASE_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_database" >/dev/null
    # Same server, same credentials, the fresh database.
    pg_url="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$TEST_DATABASE_URL" "$pg_database")"
}

mkdir -p "$workdir/db"
failed=0
run_suite sqlite "sqlite://$workdir/db/todo.db" none "${LIST_TESTS[@]}" || failed=1
run_suite sqlite-accounts "sqlite://$workdir/db/accounts.db" accounts "${ACCOUNT_TESTS[@]}" || failed=1
run_suite sqlite-lists "sqlite://$workdir/db/lists.db" accounts "${LISTS_TESTS[@]}" || failed=1

# The pages of the list run on SQLite only: they call the same store as
# the API, whose tests (tests/api) run every rule on both databases, and
# nothing they show depends on which one holds the tasks. Their second run
# cost CI six minutes. Accounts and sharing run on both.
if [ -n "${TEST_DATABASE_URL:-}" ]; then
    create_pg_database accounts
    run_suite postgres-accounts "$pg_url" accounts "${ACCOUNT_TESTS[@]}" || failed=1
    drop_pg_database
    create_pg_database lists
    run_suite postgres-lists "$pg_url" accounts "${LISTS_TESTS[@]}" || failed=1
    drop_pg_database
fi

log "screenshots: $SCREENSHOT_DIR"
exit "$failed"
