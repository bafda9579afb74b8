#!/usr/bin/env bash
# Property-based fuzzing of the JSON API from its OpenAPI document, with
# schemathesis, as a signed-in user:
#
#   1. builds the binary and starts it in accounts mode over a fresh SQLite
#      file in a temporary directory, on a free port of 127.0.0.1;
#   2. signs up a throwaway account through the sign-up form (curl: GET
#      /signup for the form cookie and csrf_token, then POST /signup) and
#      gets an API token from POST /api/tokens;
#   3. runs schemathesis against /api/openapi.json with that token and the
#      not_a_server_error check: every operation but the two that end the
#      fuzzer's own credentials, then DELETE /api/tokens/{id} with a second
#      token, then DELETE /api/account with a third, last.
#
# SCHEMATHESIS_DATABASE_URL runs it over another empty database instead.
# Bounded: SCHEMATHESIS_MAX_EXAMPLES cases per operation and phase (default
# 50), each run under `timeout` (SCHEMATHESIS_TIMEOUT seconds, default 300).
# schemathesis lives in a cached virtualenv keyed by
# ci/schemathesis-requirements.txt. Exits non-zero on any server error (5xx),
# on a run that did not finish in time, and when the set-up fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/todo-app-ci
REQUIREMENTS=ci/schemathesis-requirements.txt
VENV=$CACHE/venv-schemathesis-$(sha256sum "$REQUIREMENTS" | cut -c1-12)
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-50}
RUN_TIMEOUT=${SCHEMATHESIS_TIMEOUT:-300}

# shellcheck source=ci/lib.sh
. ci/lib.sh

# --- tools -------------------------------------------------------------------------------
if ! command -v curl >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1 ||
  ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends curl python3 python3-venv >/dev/null
fi
if [[ ! -x $VENV/bin/schemathesis ]]; then
  log "installing schemathesis into $VENV"
  mkdir -p "$CACHE"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi

log "building the binary"
# The release binary: the one users run, and the one the rehearsal and the
# image use, so CI compiles the dependency tree once more, not twice (a
# debug `cargo build` after `cargo test` rebuilds ~70 crates without the
# dev-dependencies' features).
cargo build --release --locked --quiet
binary=${CARGO_TARGET_DIR:-target}/release/todo-app

# --- the server --------------------------------------------------------------------------
workdir=$(mktemp -d "${TMPDIR:-/tmp}/todo-schemathesis.XXXXXX")
server_pid=""
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  stop_process "$server_pid"
  rm -rf "$workdir"
}
trap cleanup EXIT

port=$(free_port)
base=http://127.0.0.1:$port
# SCHEMATHESIS_DATABASE_URL: another (empty) database instead, e.g. PostgreSQL.
database_url=${SCHEMATHESIS_DATABASE_URL:-sqlite://$workdir/todo.db}
log "starting the server on $base (AUTH_MODE=accounts, ${database_url%%:*})"
DATABASE_URL="$database_url" AUTH_MODE=accounts HOST=127.0.0.1 PORT="$port" \
  SHUTDOWN_DRAIN_DELAY=0s LOG_FORMAT=json RUST_LOG=warn "$binary" >"$workdir/server.log" 2>&1 &
server_pid=$!
if ! wait_for "$base/readyz" "$server_pid"; then
  log "the server did not become ready; its log:"
  cat "$workdir/server.log" >&2
  exit 1
fi

# --- an account and its tokens -----------------------------------------------------------
username=fuzz-$(date +%s)
password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
jar=$workdir/cookies
signup_page=$(curl -fsS -c "$jar" -b "$jar" "$base/signup")
csrf=$(printf '%s' "$signup_page" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
if [[ -z $csrf ]]; then
  log "no csrf_token on the sign-up page"
  exit 1
fi
status=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
  --data-urlencode "csrf_token=$csrf" --data-urlencode "username=$username" \
  --data-urlencode "password=$password" "$base/signup")
if [[ $status != 303 ]] || ! grep -q todo_session "$jar"; then
  log "sign-up answered $status without a session"
  exit 1
fi

# new_token NAME: prints a fresh API token of the account.
new_token() {
  local body
  body=$(python3 -c 'import json, sys; print(json.dumps({"username": sys.argv[1], "password": sys.argv[2], "name": sys.argv[3]}))' \
    "$username" "$password" "$1")
  curl -fsS -H 'content-type: application/json' --data "$body" "$base/api/tokens" |
    python3 -c 'import json, sys; t = json.load(sys.stdin)["token"]; assert t.startswith("todo_pat_"); print(t)'
}
token=$(new_token fuzzing)
revoke_token=$(new_token "fuzzing revocation")
delete_token=$(new_token "fuzzing account deletion")
log "signed up $username; tokens made"

# --- fuzzing -----------------------------------------------------------------------------
# fuzz TOKEN NAME [schemathesis options]: one bounded run; its exit status.
fuzz() {
  local token=$1 name=$2
  shift 2
  log "[$name] schemathesis, at most $MAX_EXAMPLES cases per operation, ${RUN_TIMEOUT}s"
  local status=0
  # From the temporary directory: schemathesis keeps a cache where it runs.
  (cd "$workdir" && timeout --kill-after=10 "$RUN_TIMEOUT" "$VENV/bin/schemathesis" run "$base/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error \
    --max-examples "$MAX_EXAMPLES" \
    --workers 1 \
    --request-timeout 30 \
    --suppress-health-check all \
    --no-color \
    --report junit --report-junit-path "$workdir/$name.xml" \
    "$@") || status=$?
  if [[ $status -eq 124 || $status -eq 137 ]]; then
    log "[$name] did not finish within ${RUN_TIMEOUT}s"
  fi
  return "$status"
}

failed=0
fuzz "$token" api \
  --exclude-operation-id deleteAccount --exclude-operation-id revokeToken || failed=1
fuzz "$revoke_token" revocation --include-operation-id revokeToken || failed=1
fuzz "$delete_token" account-deletion --include-operation-id deleteAccount || failed=1

# The server must still be up, and must have logged no panic.
if ! kill -0 "$server_pid" 2>/dev/null; then
  log "the server died during the run"
  failed=1
fi
if grep -qi 'panicked' "$workdir/server.log"; then
  log "the server panicked:"
  grep -i 'panicked' "$workdir/server.log" | head -n 5 >&2
  failed=1
fi
if [[ $failed -ne 0 ]]; then
  log "FAILED; last lines of the server log:"
  tail -n 30 "$workdir/server.log" >&2
fi
exit "$failed"
