#!/usr/bin/env bash
# CI entry point for the production rehearsal: builds the release binary and
# runs every fault scenario of rehearsal/ (rolling deploy, crash, database
# restart, cold fleet start, overload) against HAProxy and a private
# PostgreSQL. About a minute on 2 cores, plus the build; ends with
# "rehearsal: N passed, M failed" and fails if any scenario did.
#
# Runs as root on Debian 12 from a fresh clone; idempotent. Set
# REHEARSAL_BENCH_SMOKE=1 to also run a 2-second-per-run benchmark smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# A directory made here goes again after a passing run (a failed one keeps
# its logs and databases for a look, and says where they are).
if [ -z "${REHEARSAL_DIR:-}" ]; then
    REHEARSAL_DIR=$(mktemp -d /tmp/todo-rehearsal-ci.XXXXXX)
    made_dir=1
fi
export REHEARSAL_DIR
chmod 755 "$REHEARSAL_DIR"

# shellcheck source=ci/lib.sh
. ci/lib.sh

# Debian packages: the balancer, the load generators, PostgreSQL, Python.
need_packages haproxy:haproxy wrk:wrk hey:hey psql:postgresql python3:python3
export PATH="$PATH:/usr/sbin"
# The scenarios run their own PostgreSQL cluster (it gets restarted); the
# machine's own server is left alone. Debian starts haproxy as a service on
# install; ours binds other ports, so it does not matter whether that runs.

cargo build --release --locked --quiet

# The harness stops every process it started when it exits or gets SIGTERM;
# this trap passes an interruption of this script on to it.
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    if [ -n "${harness_pid:-}" ] && kill -0 "$harness_pid" 2>/dev/null; then
        kill -TERM "$harness_pid" 2>/dev/null || true
        wait "$harness_pid" 2>/dev/null || true
    fi
    if [ "${made_dir:-0}" = 1 ]; then
        if [ "${status:-1}" = 0 ]; then
            rm -rf "$REHEARSAL_DIR"
        else
            echo "rehearsal: logs and databases kept in $REHEARSAL_DIR" >&2
        fi
    fi
}
trap cleanup EXIT INT TERM

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
status=0
timeout --signal=TERM --kill-after=30s 420s \
    python3 rehearsal/rehearse.py run & harness_pid=$!
wait "$harness_pid" || status=$?
harness_pid=

if [ "${REHEARSAL_BENCH_SMOKE:-0}" = 1 ] && [ "$status" = 0 ]; then
    python3 rehearsal/rehearse.py bench --quick || status=$?
fi
exit "$status"
