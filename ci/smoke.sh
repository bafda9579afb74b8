#!/usr/bin/env bash
# The deployment's smoke test (deploy/smoke.sh), run for real: the release binary, two
# instances behind an HAProxy that sends each request to the next instance (round robin, as
# the ALB spreads requests over tasks), in two set-ups:
#
#   shared     both instances on one PostgreSQL database (as with --database on):
#              the full test passes, with the app's default AUTH_MODE and with AUTH_MODE=none
#   separate   each instance with its own SQLite file (what --database off would be with
#              several tasks): the full test must fail (a task created on one instance is not
#              on the other), and `--shared-state no` checks only what holds
#   https      both instances behind a proxy that terminates TLS (as CloudFront does in front
#              of the deployment), with PUBLIC_URL the https address: the full test passes
#              against the HTTPS URL, including its check that every cookie is Secure
#
# Runs as root on Debian 12 from a fresh clone, idempotently (haproxy, curl and PostgreSQL from
# apt when missing). Uses TEST_DATABASE_URL when set, else ci/postgres.sh; creates its own
# database and drops it. Ends with "smoke: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/lib.sh
. ci/lib.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
need_packages haproxy:haproxy curl:curl psql:postgresql-client openssl:openssl
export PATH="$PATH:/usr/sbin"

nice cargo build --release --locked --quiet
BIN=$CARGO_TARGET_DIR/release/todo-app
[[ -x $BIN ]] || { echo "no binary at $BIN" >&2; exit 1; }

WORK=$(mktemp -d /tmp/todo-smoke-ci.XXXXXX)
PIDS=""
DB_NAME=""
DB_ADMIN_URL=""
cleanup() {
  local pid
  for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
  for pid in $PIDS; do wait "$pid" 2>/dev/null || true; done
  PIDS=""
  if [[ -n $DB_NAME ]]; then
    psql -q "$DB_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_instance NAME PORT [VAR=VALUE ...]: the app on 127.0.0.1:PORT.
start_instance() {
  local name=$1 port=$2
  shift 2
  mkdir -p "$WORK/$name"
  (cd "$WORK/$name" && exec env HOST=127.0.0.1 PORT="$port" LOG_FORMAT=json SHUTDOWN_DRAIN_DELAY=0s "$@" \
    "$BIN" serve >"$WORK/$name.log" 2>&1) &
  PIDS="$PIDS $!"
  wait_for "http://127.0.0.1:$port/healthz" || { cat "$WORK/$name.log" >&2; return 1; }
}

# start_balancer PORT BACKEND_PORT BACKEND_PORT [tls]: round robin, one request per connection;
# with tls it serves HTTPS with $WORK/tls.pem and tells the app so (X-Forwarded-*).
start_balancer() {
  local port=$1 a=$2 b=$3 bind="" scheme=http
  if [[ ${4:-} == tls ]]; then
    bind=" ssl crt $WORK/tls.pem"
    scheme=https
  fi
  cat >"$WORK/haproxy-$port.cfg" <<EOF
global
  log stderr format raw local0 err
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
  option http-server-close
frontend app
  bind 127.0.0.1:$port$bind
  option forwardfor
  http-request set-header X-Forwarded-Proto $scheme
  default_backend instances
backend instances
  balance roundrobin
  server a 127.0.0.1:$a
  server b 127.0.0.1:$b
EOF
  haproxy -f "$WORK/haproxy-$port.cfg" -db >"$WORK/haproxy-$port.log" 2>&1 &
  PIDS="$PIDS $!"
  wait_for "$scheme://127.0.0.1:$port/healthz" || { cat "$WORK/haproxy-$port.log" >&2; return 1; }
}

stop_all() {
  local pid
  for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
  for pid in $PIDS; do wait "$pid" 2>/dev/null || true; done
  PIDS=""
}

# --- shared database ------------------------------------------------------------------------
if [[ -z ${TEST_DATABASE_URL:-} ]]; then
  TEST_DATABASE_URL=$(bash ci/postgres.sh)
fi
DB_ADMIN_URL=$TEST_DATABASE_URL
DB_NAME="todo_smoke_$$"
psql -q "$DB_ADMIN_URL" -c "CREATE DATABASE $DB_NAME" >/dev/null
shared_url="${TEST_DATABASE_URL%/*}/$DB_NAME"

smoke_shared() {
  local a b lb
  a=$(free_port) b=$(free_port) lb=$(free_port)
  start_instance shared-a "$a" DATABASE_URL="$shared_url" "$@"
  start_instance shared-b "$b" DATABASE_URL="$shared_url" "$@"
  start_balancer "$lb" "$a" "$b"
  local status=0
  deploy/smoke.sh "http://127.0.0.1:$lb" --wait 30 || status=$?
  stop_all
  return "$status"
}
step "two instances, one PostgreSQL, the app's default AUTH_MODE: full smoke test" smoke_shared
step "two instances, one PostgreSQL, AUTH_MODE=none: full smoke test" smoke_shared AUTH_MODE=none

# --- separate SQLite files ------------------------------------------------------------------
smoke_separate() {
  local a b lb out status=0
  a=$(free_port) b=$(free_port) lb=$(free_port)
  start_instance separate-a "$a" DATABASE_URL="sqlite://$WORK/a.db" AUTH_MODE=none
  start_instance separate-b "$b" DATABASE_URL="sqlite://$WORK/b.db" AUTH_MODE=none
  start_balancer "$lb" "$a" "$b"
  # The full test must notice that a task created through one instance is not on the other.
  if out=$(deploy/smoke.sh "http://127.0.0.1:$lb" --wait 30 2>&1); then
    printf '%s\n' "$out" >&2
    echo "the full smoke test passed against two instances with separate data; it cannot see lost writes" >&2
    status=1
  elif ! printf '%s' "$out" | grep -q 'GET /api/todos/[0-9]* answered 404'; then
    printf '%s\n' "$out" >&2
    echo "the full smoke test failed, but not on reading the new task back" >&2
    status=1
  fi
  [[ $status -ne 0 ]] || deploy/smoke.sh "http://127.0.0.1:$lb" --wait 30 --shared-state no || status=$?
  stop_all
  return "$status"
}
step "two instances, separate SQLite files: full test fails, --shared-state no passes" smoke_separate

# --- HTTPS ----------------------------------------------------------------------------------
smoke_https() {
  local a b lb status=0
  a=$(free_port) b=$(free_port) lb=$(free_port)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/tls-key.pem" -out "$WORK/tls-cert.pem" 2>/dev/null
  cat "$WORK/tls-cert.pem" "$WORK/tls-key.pem" >"$WORK/tls.pem"
  # curl (the smoke test, wait_for) trusts the proxy's certificate.
  export CURL_CA_BUNDLE=$WORK/tls-cert.pem
  start_instance https-a "$a" DATABASE_URL="$shared_url" PUBLIC_URL="https://127.0.0.1:$lb" TRUSTED_PROXY_HOPS=1
  start_instance https-b "$b" DATABASE_URL="$shared_url" PUBLIC_URL="https://127.0.0.1:$lb" TRUSTED_PROXY_HOPS=1
  start_balancer "$lb" "$a" "$b" tls
  deploy/smoke.sh "https://127.0.0.1:$lb" --wait 30 || status=$?
  unset CURL_CA_BUNDLE
  stop_all
  return "$status"
}
step "two instances behind a TLS proxy, PUBLIC_URL https: full smoke test of the HTTPS URL, Secure cookies" smoke_https

summary smoke
