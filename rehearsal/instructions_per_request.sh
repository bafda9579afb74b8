#!/usr/bin/env bash
# Instructions per request under callgrind: steady on a busy machine where
# rates and CPU times are not. Starts BINARY under valgrind over a fresh
# SQLite file (or DATABASE_URL) with 100 tasks, sends WARMUP requests, then
# counts the instructions of N more (sequential, one keep-alive connection)
# and prints their mean per request, with the functions that cost most.
#
#   rehearsal/instructions_per_request.sh BINARY PATH [N] [KEY=VALUE ...]
#
# PATH is what each request asks for, e.g. /api/todos/7 or
# '/api/todos?limit=100'; KEY=VALUE pairs go to the server's environment
# (AUTH_MODE=accounts adds an account and sends its API token). Needs
# valgrind and python3; binaries built with `strip = false` name functions.
set -euo pipefail
binary=${1:?usage: instructions_per_request.sh BINARY PATH [N] [KEY=VALUE ...]}
path=${2:?usage: instructions_per_request.sh BINARY PATH [N] [KEY=VALUE ...]}
n=${3:-2000}
shift $(( $# < 3 ? $# : 3 ))
work=$(mktemp -d)
port=28799
vg=""
cleanup() { [ -n "$vg" ] && kill "$vg" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export HOST=127.0.0.1 PORT=$port LOG_FORMAT=json RUST_LOG=info AUTH_MODE=none \
    MAX_CONNECTIONS_PER_CLIENT=100000 SHUTDOWN_DRAIN_DELAY=0s \
    DATABASE_URL=${DATABASE_URL:-sqlite://$work/bench.db}
for setting in "$@"; do export "${setting?}"; done
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$binary" serve \
    >"$work/server.log" 2>"$work/valgrind.log" &
vg=$!
python3 - "$port" "$path" "$n" "$binary" "$work" <<'PY'
import http.client, json, os, subprocess, sys, time
port, path, n, binary, work = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
deadline = time.monotonic() + 120
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/readyz"); r = c.getresponse(); r.read()
        if r.status == 200: break
    except OSError:
        pass
    if time.monotonic() > deadline: sys.exit("the server did not start")
    time.sleep(0.5)
headers = {}
if os.environ["AUTH_MODE"] == "accounts":
    subprocess.run([binary, "user", "add", "bench"], input="bench passphrase\n", text=True,
                   check=True, capture_output=True)
    c.request("POST", "/api/tokens", json.dumps({"username": "bench", "password": "bench passphrase",
              "name": "bench"}), {"Content-Type": "application/json"})
    r = c.getresponse(); headers["Authorization"] = "Bearer " + json.loads(r.read())["token"]
now = "2026-01-01T00:00:00Z"
doc = {"format": "todo-app-export", "version": 1, "exported_at": now,
       "tasks": [{"id": i, "title": f"Seeded task {i}", "priority": 1 + i % 5, "completed": i % 3 == 0,
                  "order": i, "due": None, "created_at": now, "updated_at": now} for i in range(1, 101)]}
c.request("POST", "/api/import?replace=true", json.dumps(doc), {**headers, "Content-Type": "application/json"})
r = c.getresponse(); r.read(); assert r.status == 200, r.status
c.request("GET", "/api/todos?limit=1", headers=headers); r = c.getresponse()
first = json.loads(r.read())[0]["id"]
path = path.replace("/api/todos/7", f"/api/todos/{first + 6}")
def send(count):
    for _ in range(count):
        c.request("GET", path, headers=headers); r = c.getresponse(); r.read()
        assert r.status == 200, r.status
send(200)
subprocess.run(["callgrind_control", "-z"], check=True, capture_output=True)
send(n)
subprocess.run(["callgrind_control", "-d"], check=True, capture_output=True)
PY
sleep 1
total=$(for f in "$work"/cg.out*; do callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'; done | sort -n | tail -1)
echo "$path: $((total / n)) instructions per request (mean of $n, after 200 to warm up)"
latest=$(ls -t "$work"/cg.out* | head -1)
callgrind_annotate --inclusive=no "$latest" 2>/dev/null | sed -n '/file:function/,$p' | head -25
