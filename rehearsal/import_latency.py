#!/usr/bin/env python3
"""How long another account's creates wait while one account imports a
large file (issue 14, defect 6), on SQLite, where there is one writer.

    cargo build --release
    rehearsal/import_latency.py [--binary target/release/todo-app] [--tasks 200000]

Starts the binary on a free port over a fresh SQLite file with two
accounts, then has bob create tasks one after another while ada imports
TASKS tasks, and prints bob's create latency before and during the import.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, method="GET", body=None, token=None, timeout=300):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as answer:
        return answer.status, json.loads(answer.read() or b"null")


def summary(latencies):
    if not latencies:
        return "no creates"
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{len(ordered)} creates, median {statistics.median(ordered) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="target/release/todo-app")
    parser.add_argument("--tasks", type=int, default=200_000)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    workdir = tempfile.mkdtemp(prefix="import-latency-")
    port = free_port()
    env = dict(os.environ,
               DATABASE_URL=f"sqlite://{workdir}/todo.db", HOST="127.0.0.1", PORT=str(port),
               AUTH_MODE="accounts", LOG_FORMAT="json", RUST_LOG="warn",
               MAX_TASKS_PER_ACCOUNT=str(args.tasks), IMPORT_BODY_LIMIT=str(128 * 1024 * 1024),
               REQUEST_TIMEOUT="300s")
    for name in ("ada", "bob"):
        subprocess.run([binary, "user", "add", name], input=f"{name}'s passphrase\n",
                       text=True, env=env, check=True, capture_output=True)
    server = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                request(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        tokens = {}
        for name in ("ada", "bob"):
            _, answer = request(f"{base}/api/tokens", "POST",
                                {"username": name, "password": f"{name}'s passphrase",
                                 "name": "bench"})
            tokens[name] = answer["token"]
        stamp = "2026-01-01T00:00:00Z"
        document = {"format": "todo-app-export", "version": 1, "exported_at": stamp,
                    "tasks": [{"id": i, "title": f"imported task {i}", "priority": 2,
                               "completed": False, "order": i, "due": None,
                               "created_at": stamp, "updated_at": stamp}
                              for i in range(1, args.tasks + 1)]}
        creates = []  # (started, took)
        stop = threading.Event()

        def create_loop():
            n = 0
            while not stop.is_set():
                n += 1
                started = time.monotonic()
                request(f"{base}/api/todos", "POST", {"title": f"bob {n}"}, tokens["bob"])
                creates.append((started, time.monotonic() - started))
                time.sleep(0.005)

        creator = threading.Thread(target=create_loop)
        creator.start()
        time.sleep(2)
        import_started = time.monotonic()
        status, answer = request(f"{base}/api/import", "POST", document, tokens["ada"])
        import_ended = time.monotonic()
        time.sleep(1)
        stop.set()
        creator.join()
        assert status == 200 and answer["imported"] == args.tasks, answer
        before = [took for started, took in creates if started + took < import_started]
        during = [took for started, took in creates
                  if started < import_ended and started + took > import_started]
        print(f"import of {args.tasks} tasks: {import_ended - import_started:.2f} s "
              f"(sending and parsing included)")
        print(f"bob's creates before the import: {summary(before)}")
        print(f"bob's creates during the import: {summary(during)}")
        print(f"load average: {os.getloadavg()[0]:.1f}")
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", workdir])


if __name__ == "__main__":
    sys.exit(main())
