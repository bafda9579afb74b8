#!/usr/bin/env bash
# Smoke test of a running todo-app: the path a user takes, through whatever is in front of it.
#
#   deploy/smoke.sh URL [options]
#
# Checks, in order: readiness (retried while a new load balancer or DNS name comes up),
# liveness, /version, then the API: create a task, read it back by its id, delete it, and see
# it gone. When the API answers 401 (AUTH_MODE=accounts) it signs up a throwaway account,
# takes a token for it, runs the same checks with the token and deletes the account at the
# end (also when a check fails). With sign-up closed it checks only health, readiness and that
# the API refuses requests without a token, and says so. Over HTTPS every cookie the sign-up
# form sets must be Secure: an app that does not know it is reached over HTTPS (PUBLIC_URL,
# TRUSTED_PROXY_HOPS) would send its session cookies in a way that also travels over HTTP.
# The sign-up form is posted with the Origin a browser would send, URL's origin: an app whose
# PUBLIC_URL is another address refuses it as cross-site, as it would every user's forms.
#
# With --shared-state no (several instances that each keep their own SQLite file, behind a
# balancer) a write and the read after it land on different instances, so only what holds
# there is checked: health, readiness, version, and that the API answers.
#
# deploy/deploy.sh runs it after `up`; CI runs it against two instances behind a round-robin
# proxy (ci/smoke.sh). Needs curl. Works with bash 3.2.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/smoke.sh URL [options]

Options:
  --connect-to HOST:PORT     connect there instead of to URL's host, keeping URL's name for TLS and
                             the Host header (a domain whose DNS record does not exist yet)
  --shared-state yes|no      whether every instance behind URL sees the same data [yes]
  --expect-revision REV      /version must report this git revision
  --wait SECONDS             how long to wait for /readyz to answer 200 [300]
  -h, --help                 show this help
EOF
}

log() { printf '==> smoke test: %s\n' "$*" >&2; }
fail() {
  printf 'error: smoke test: %s\n' "$*" >&2
  cleanup
  exit 1
}

URL=""
CONNECT_TO=""
SHARED=yes
EXPECT_REVISION=""
WAIT=300
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --connect-to) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; CONNECT_TO=$2; shift 2 ;;
    --shared-state) [[ $# -ge 2 && ($2 == yes || $2 == no) ]] || { usage >&2; exit 2; }; SHARED=$2; shift 2 ;;
    --expect-revision) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; EXPECT_REVISION=$2; shift 2 ;;
    --wait) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }; WAIT=$2; shift 2 ;;
    -*) printf 'error: unknown option %s\n' "$1" >&2; exit 2 ;;
    *) [[ -z $URL ]] || { usage >&2; exit 2; }; URL=${1%/}; shift ;;
  esac
done
[[ -n $URL ]] || { usage >&2; exit 2; }
# scheme://host[:port], what a browser sends as Origin from a page of URL.
ORIGIN=$(printf '%s' "$URL" | sed -E 's#^([A-Za-z][A-Za-z0-9+.-]*://[^/?#]+).*#\1#' | tr '[:upper:]' '[:lower:]')
command -v curl >/dev/null 2>&1 || { printf 'error: the smoke test needs curl\n' >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/todo-smoke.XXXXXX")
TOKEN=""
PASSWORD=""
TASK_ID=""
# Deleting an account asks for its password, also with a token.
delete_account() {
  request DELETE /api/account -H 'Content-Type: application/json' -d "{\"password\":\"$PASSWORD\"}"
}
cleanup() {
  # Best effort: leave nothing behind in the deployment, even after a failed check.
  if [[ -n $TASK_ID ]]; then
    request DELETE "/api/todos/$TASK_ID" >/dev/null 2>&1 || true
    TASK_ID=""
  fi
  if [[ -n $TOKEN ]]; then
    delete_account >/dev/null 2>&1 || true
    TOKEN=""
  fi
  rm -rf "$WORK"
}
trap 'cleanup' EXIT

# request METHOD PATH [curl args...]: prints the status code; the body is in $WORK/body.
# The argument list is built without empty arrays (bash before 4.4 treats "${a[@]}" of an
# empty array as unset under set -u).
request() {
  local method=$1 path=$2
  shift 2
  set -- -sS -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 10 -X "$method" "$@"
  # The session cookie belongs to the sign-up form only: the API is called with the token, and
  # a cookie on an API request would make it a browser request that needs a CSRF token.
  if [[ $path == /signup ]]; then
    set -- -b "$WORK/cookies" -c "$WORK/cookies" "$@"
  fi
  if [[ -n $CONNECT_TO ]]; then
    set -- --connect-to "::$CONNECT_TO" "$@"
  fi
  if [[ -n $TOKEN ]]; then
    set -- -H "Authorization: Bearer $TOKEN" "$@"
  fi
  curl "$@" "$URL$path" 2>"$WORK/curl-error" || { printf '000'; return 0; }
}

body() { cat "$WORK/body" 2>/dev/null || true; }
# json_field NAME: the first string or number value of "NAME" in the body.
json_field() {
  body | tr -d '\n' | grep -oE "\"$1\"[[:space:]]*:[[:space:]]*(\"[^\"]*\"|[0-9]+)" | head -n1 |
    sed -e 's/^[^:]*:[[:space:]]*//' -e 's/"//g' || true # no match is an empty value, checked by the caller
}
expect() {
  local want=$1 got=$2 what=$3
  case " $want " in
    *" $got "*) ;;
    *) fail "$what answered $got, expected $want: $(body | head -c 300)$(head -c 200 "$WORK/curl-error" 2>/dev/null)" ;;
  esac
}

# 1. Readiness, retried: a new load balancer, task or DNS name takes a little while.
log "waiting up to ${WAIT}s for $URL/readyz"
deadline=$(($(date +%s) + WAIT))
while :; do
  code=$(request GET /readyz)
  [[ $code == 200 ]] && break
  if [[ $(date +%s) -ge $deadline ]]; then
    fail "$URL/readyz did not answer 200 within ${WAIT}s (last answer: $code $(body | head -c 200)$(head -c 200 "$WORK/curl-error" 2>/dev/null))"
  fi
  sleep 5
done
code=$(request GET /healthz)
expect 200 "$code" "GET /healthz"
code=$(request GET /version)
expect 200 "$code" "GET /version"
revision=$(json_field git_revision)
if [[ -n $EXPECT_REVISION && $revision != "$EXPECT_REVISION" ]]; then
  fail "/version reports git revision '$revision', expected '$EXPECT_REVISION' (an old task still answering, or the image was built without GIT_REVISION)"
fi
log "healthy and ready, revision ${revision:-unknown}"

# 2. Which kind of API: open, or accounts.
code=$(request GET '/api/todos?limit=1')
expect "200 401" "$code" "GET /api/todos"
auth=none
[[ $code == 401 ]] && auth=accounts

if [[ $SHARED == no ]]; then
  log "passed: health, readiness, version and the API answering ($code); each instance keeps its own data, so create/read/delete was not checked"
  exit 0
fi

if [[ $auth == accounts ]]; then
  code=$(request GET /signup)
  if [[ $code == 403 || $code == 404 ]]; then
    log "passed: health, readiness, version, and the API refuses requests without a token (401); sign-up is closed ($code), so create/read/delete was not checked"
    exit 0
  fi
  expect 200 "$code" "GET /signup"
  case $URL in
    https://*)
      cookies=$(grep -i '^set-cookie:' "$WORK/headers" | tr -d '\r' || true)
      [[ -n $cookies ]] || fail "GET /signup over HTTPS set no cookie; expected the sign-up form's cookie"
      insecure=$(printf '%s\n' "$cookies" | grep -iv ';[[:space:]]*secure' || true)
      [[ -z $insecure ]] ||
        fail "over HTTPS the app set a cookie without Secure (is PUBLIC_URL the https address users see?): $insecure"
      log "cookies are Secure over HTTPS"
      ;;
  esac
  csrf=$(body | tr '\n' ' ' | sed -n 's/.*name="csrf_token"[^>]*value="\([^"]*\)".*/\1/p')
  [[ -n $csrf ]] || csrf=$(body | tr '\n' ' ' | sed -n 's/.*value="\([^"]*\)"[^>]*name="csrf_token".*/\1/p')
  [[ -n $csrf ]] || fail "GET /signup has no csrf_token field"
  username="smoke-$(date +%s)-$$-$RANDOM"
  PASSWORD="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  code=$(request POST /signup -H "Origin: $ORIGIN" --data-urlencode "username=$username" \
    --data-urlencode "password=$PASSWORD" --data-urlencode "csrf_token=$csrf")
  if [[ $code == 403 ]] && grep -qi 'another web site' "$WORK/body" 2>/dev/null; then
    fail "POST /signup from a page of $ORIGIN was refused as cross-site: the app's PUBLIC_URL is not $ORIGIN, so every user's forms would be refused too"
  fi
  if [[ $code == 429 ]]; then
    # Sign-ups are rate limited per address; several deployments in a row can reach the limit.
    log "passed: health, readiness, version, and the API refuses requests without a token (401); sign-up is rate limited for this address now (429), so create/read/delete was not checked"
    exit 0
  fi
  expect "200 201 302 303" "$code" "POST /signup"
  code=$(request POST /api/tokens -H 'Content-Type: application/json' \
    -d "{\"username\":\"$username\",\"password\":\"$PASSWORD\",\"name\":\"smoke test\"}")
  expect 201 "$code" "POST /api/tokens"
  TOKEN=$(json_field token)
  [[ -n $TOKEN ]] || fail "POST /api/tokens answered without a token"
  log "signed up the throwaway account $username"
fi

# 3. Create, read back by id, delete, gone.
title="smoke test $(date -u +%Y-%m-%dT%H:%M:%SZ) $$"
code=$(request POST /api/todos -H 'Content-Type: application/json' -d "{\"title\":\"$title\"}")
expect 201 "$code" "POST /api/todos"
TASK_ID=$(json_field id)
[[ $TASK_ID =~ ^[0-9]+$ ]] || fail "POST /api/todos answered without an id: $(body | head -c 300)"
code=$(request GET "/api/todos/$TASK_ID")
expect 200 "$code" "GET /api/todos/$TASK_ID"
grep -qF "$title" "$WORK/body" 2>/dev/null || fail "GET /api/todos/$TASK_ID does not return the task just created: $(body | head -c 300)"
code=$(request DELETE "/api/todos/$TASK_ID")
expect "200 204" "$code" "DELETE /api/todos/$TASK_ID"
code=$(request GET "/api/todos/$TASK_ID")
expect 404 "$code" "GET /api/todos/$TASK_ID after deleting it"
TASK_ID=""
if [[ $auth == accounts ]]; then
  code=$(delete_account)
  expect "200 204" "$code" "DELETE /api/account"
  TOKEN=""
  log "passed: health, readiness, version, sign-up, token, create, read by id, delete, account deleted"
else
  log "passed: health, readiness, version, create, read by id, delete (open API, AUTH_MODE=none)"
fi
