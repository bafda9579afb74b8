#!/usr/bin/env bash
# Helpers for the CI scripts of the deployment (ci/infra.sh, ci/smoke.sh). Sourced, not run.

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
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one argument per package
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing >/dev/null
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for URL: until it answers 200, at most 30 s.
wait_for() {
  local _
  for _ in $(seq 1 150); do
    curl -fs -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "no answer from $1 after 30 s" >&2
  return 1
}
