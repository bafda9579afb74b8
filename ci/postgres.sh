#!/usr/bin/env bash
# Starts the machine's PostgreSQL (installed, stopped) and makes sure the test
# role and database exist. Prints the TEST_DATABASE_URL to use.
set -euo pipefail

# Only the URL may reach stdout: the caller captures it. Tools below print
# notes there (pg_ctlcluster says "Removed stale pid file." after an unclean
# stop), so everything else goes to stderr.
exec 3>&1 1>&2
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"

need_packages pg_ctlcluster:postgresql
version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
cluster=$(pg_lsclusters -h | awk 'NR==1 {print $2}')
if ! pg_lsclusters -h | awk 'NR==1 {print $4}' | grep -q online; then
    pg_ctlcluster "$version" "$cluster" start 3>&-  # the server must not hold the pipe
fi
for _ in $(seq 1 30); do
    su postgres -c "pg_isready -q" && break
    sleep 1
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" >/dev/null <<'SQL'
SELECT 'CREATE ROLE todo_test LOGIN SUPERUSER PASSWORD ''todo_test'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'todo_test')\gexec
SELECT 'CREATE DATABASE todo_test OWNER todo_test'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'todo_test')\gexec
SQL
echo "postgres://todo_test:todo_test@127.0.0.1:5432/todo_test" >&3
