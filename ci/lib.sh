#!/usr/bin/env bash
# Helpers shared by the scripts under ci/. Sourced, not run.
#
# Output: `log` lines go to stderr, prefixed with the script's name (CI_NAME, by default
# the file name: "browser.sh: building the binary"), so scripts that print a result on
# stdout (ci/postgres.sh, ci/moto.sh) can use them too. Counted checks (`step`, `check`)
# print on stdout and `summary` closes with "NAME: N passed, M failed".

CI_NAME=${CI_NAME:-$(basename "$0")}

# log MESSAGE...: one progress line on stderr.
log() {
  printf '%s: %s\n' "$CI_NAME" "$*" >&2
}

# step NAME COMMAND...: run a check, count it, keep going.
STEP_PASSED=0
STEP_FAILED=0
STEP_FAILURES=""
step() {
  local name=$1
  shift
  printf '\n== %s\n' "$name"
  if "$@"; then
    STEP_PASSED=$((STEP_PASSED + 1))
    printf -- '-- %s: ok\n' "$name"
  else
    STEP_FAILED=$((STEP_FAILED + 1))
    STEP_FAILURES="$STEP_FAILURES
failed: $name"
    printf -- '-- %s: FAILED\n' "$name"
  fi
}

# check DESCRIPTION COMMAND...: a quick check, counted like `step`, reported on one line.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# pass DESCRIPTION / fail DESCRIPTION: count a check whose outcome the caller decided.
pass() {
  STEP_PASSED=$((STEP_PASSED + 1))
  printf '%s: ok   %s\n' "$CI_NAME" "$*"
}
fail() {
  STEP_FAILED=$((STEP_FAILED + 1))
  STEP_FAILURES="$STEP_FAILURES
failed: $*"
  printf '%s: FAIL %s\n' "$CI_NAME" "$*"
}

# summary WORD: the closing line "WORD: N passed, M failed"; fails when anything failed.
summary() {
  [[ -z $STEP_FAILURES ]] || printf '%s\n' "$STEP_FAILURES"
  printf '\n%s: %d passed, %d failed\n' "$1" "$STEP_PASSED" "$STEP_FAILED"
  [[ $STEP_FAILED -eq 0 ]]
}

# need_packages COMMAND:PACKAGE...: install the Debian packages whose command is missing.
need_packages() {
  local item missing=""
  for item in "$@"; do
    command -v "${item%%:*}" >/dev/null 2>&1 || [[ -x /usr/sbin/${item%%:*} ]] || missing="$missing ${item##*:}"
  done
  [[ -n $missing ]] || return 0
  log "installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one argument per package
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing >/dev/null
}

# free_port: a port of 127.0.0.1 that was free a moment ago (python3, else node).
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
  fi
}

# wait_for URL [PID]: until URL answers 2xx, at most 30 s. With PID, gives up as soon as
# that process has exited (a server that failed to start), so the caller can show its log.
wait_for() {
  local _
  for _ in $(seq 1 150); do
    curl -fs -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    if [[ -n ${2:-} ]] && ! kill -0 "$2" 2>/dev/null; then
      echo "the process serving $1 exited" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "no answer from $1 after 30 s" >&2
  return 1
}

# stop_process PID: SIGTERM, up to 5 s to exit (the app drains), then SIGKILL; reaps it.
stop_process() {
  local _
  [[ -n ${1:-} ]] || return 0
  if kill -TERM "$1" 2>/dev/null; then
    for _ in $(seq 1 50); do
      kill -0 "$1" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
  fi
  wait "$1" 2>/dev/null || true
}
