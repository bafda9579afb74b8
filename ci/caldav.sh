#!/usr/bin/env bash
# CalDAV with real clients that no one here wrote, against the real binary,
# over a fresh SQLite file and then (when TEST_DATABASE_URL is set) a fresh
# PostgreSQL database: the Python `caldav` library (ci/caldav_clients.py),
# then vdirsyncer with todoman syncing both ways with a local folder
# (ci/caldav_sync.py). For each database: start the server with
# AUTH_MODE=accounts on a free port of 127.0.0.1, sign up through the
# sign-up form, get an app password from POST /api/tokens, and run the
# clients from the app's bare address.
#
#   ci/caldav.sh                                   # SQLite
#   TEST_DATABASE_URL=postgres://… ci/caldav.sh    # SQLite, then PostgreSQL
#
# The clients live in a cached virtualenv keyed by ci/caldav-requirements.txt.
# CALDAV_BINARY=path runs that build of the app instead of building the
# release binary.
# Each client run is bounded by `timeout` (CALDAV_TIMEOUT seconds, default
# 300). Closes with "caldav: N passed, M failed"; non-zero when any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/todo-app-ci
REQUIREMENTS=ci/caldav-requirements.txt
VENV=$CACHE/venv-caldav-$(sha256sum "$REQUIREMENTS" | cut -c1-12)
RUN_TIMEOUT=${CALDAV_TIMEOUT:-300}

# shellcheck source=ci/lib.sh
. ci/lib.sh

need_packages curl:curl python3:python3
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
if [[ ! -x $VENV/bin/vdirsyncer || ! -x $VENV/bin/todo ]] || ! "$VENV/bin/python" -c 'import caldav' >/dev/null 2>&1; then
  log "installing the CalDAV clients into $VENV"
  mkdir -p "$CACHE"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi

binary=${CALDAV_BINARY:-}
if [[ -z $binary ]]; then
  log "building the binary"
  cargo build --release --locked --quiet
  binary=${CARGO_TARGET_DIR:-target}/release/todo-app
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/todo-caldav.XXXXXX")
server_pid=""
pg_database=""
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  stop_process "$server_pid"
  if [[ -n $pg_database ]]; then
    psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

# run_clients NAME DATABASE_URL: one server over that database, the clients against it.
run_clients() {
  local name=$1 database_url=$2 port base jar page csrf status username password token
  port=$(free_port)
  base=http://127.0.0.1:$port
  DATABASE_URL="$database_url" AUTH_MODE=accounts HOST=127.0.0.1 PORT="$port" \
    SHUTDOWN_DRAIN_DELAY=0s LOG_FORMAT=json RUST_LOG=warn "$binary" >"$workdir/$name.log" 2>&1 &
  server_pid=$!
  if ! wait_for "$base/readyz" "$server_pid"; then
    log "[$name] the server did not become ready; its log:"
    cat "$workdir/$name.log" >&2
    return 1
  fi
  username=caldav-$name
  password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  jar=$workdir/$name.cookies
  page=$(curl -fsS -c "$jar" -b "$jar" "$base/signup")
  csrf=$(printf '%s' "$page" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
  status=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
    --data-urlencode "csrf_token=$csrf" --data-urlencode "username=$username" \
    --data-urlencode "password=$password" "$base/signup")
  if [[ $status != 303 ]]; then
    log "[$name] sign-up answered $status"
    return 1
  fi
  token=$(python3 -c 'import json, sys; print(json.dumps({"username": sys.argv[1], "password": sys.argv[2], "name": "caldav"}))' \
    "$username" "$password" |
    curl -fsS -H 'content-type: application/json' --data @- "$base/api/tokens" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  local result=0
  printf -- '-- the python caldav library\n'
  timeout --kill-after=10 "$RUN_TIMEOUT" "$VENV/bin/python" ci/caldav_clients.py \
    "$base" "$username" "$token" "$password" || result=$?
  printf -- '-- vdirsyncer and todoman\n'
  PATH=$VENV/bin:$PATH timeout --kill-after=10 "$RUN_TIMEOUT" "$VENV/bin/python" ci/caldav_sync.py \
    "$base" "$username" "$token" "$workdir/$name-sync" || result=$?
  stop_process "$server_pid"
  server_pid=""
  if [[ $result -ne 0 ]]; then
    log "[$name] the server's log:"
    tail -n 50 "$workdir/$name.log" >&2
  fi
  return "$result"
}

step "CalDAV clients, SQLite" run_clients sqlite "sqlite://$workdir/todo.db"
if [[ -n ${TEST_DATABASE_URL:-} ]]; then
  pg_database="todo_caldav_$(date +%s)_$$"
  psql "$TEST_DATABASE_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_database" >/dev/null
  pg_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' \
    "$TEST_DATABASE_URL" "$pg_database")
  step "CalDAV clients, PostgreSQL" run_clients postgres "$pg_url"
fi
summary caldav
