#!/usr/bin/env python3
"""Ours against the three reference servers, side by side in one run.

    rehearsal/compare_bench.py --binary target/release/todo-app \\
        --refs ../shared/bench --ref-target-dir DIR [--databases sqlite,postgres]

The reference servers (`../shared/bench/README.md`) speak our JSON routes:
`flask-seed` (Flask + SQLAlchemy under gunicorn, 2 sync workers), `naive-axum-sqlx`
(axum + sqlx, nothing else) and `http-floor` (a precomputed list body, no
database). Build the two Rust ones with `cargo build --release` in their
folders and pass their target directory as --ref-target-dir; the Flask app
runs under `--gunicorn` (a virtualenv with its requirements.txt).

For each database every server gets its own store (its own SQLite file, its
own PostgreSQL database created fresh on the server of --pg-url, which
`ci/postgres.sh` starts), all on 127.0.0.1. Ours runs twice: `ours-open`
(AUTH_MODE=none) and `ours` (accounts on, a bearer token on every request),
with the production log settings (JSON lines at `info` to a file). Before
every measured run each server is reset to the same 100 tasks. The
workloads, each `wrk -t2 -c32` for --duration seconds with
`rehearsal/load.lua`:

    get      GET /api/todos/{one of the 100}
    mix      90 % get, 10 % create (the 90/10 mix)
    create   POST /api/todos
    list     the 100 tasks (ours: GET /api/todos?limit=100, served from its
             list cache; the floor: the same number of bytes, precomputed)
    list-br  ours only: the same list with Accept-Encoding: br

In each of --rounds rounds every workload runs on every server in turn,
the order of the servers rotating per round, so the machine's noise falls
on all of them. CPU per request is the server's utime + stime (summed over
its processes: gunicorn's workers too) from /proc/PID/stat over the run,
divided by wrk's request count; RSS is the highest VmRSS (summed likewise)
sampled four times a second while wrk runs.
The summary takes each figure's median over the rounds and prints the
ratios issue 18's goals name, each marked ok or NOT YET.

`--also NAME:KEY=VALUE,...` adds another copy of ours (accounts on, with a
token) with extra environment, e.g. `--also plain:SQLITE_READ_CONNECTION=false`
to compare an optimisation with its switch off in the same run;
`binary=PATH` among them runs another binary (say, the one before a change).

Every process it starts is stopped at the end, also on Ctrl-C or failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")

WORKLOADS = {"get": "0:100:0", "mix": "0:90:10", "create": "0:0:100", "list": "100:0:0",
             "list-br": "100:0:0"}
TASKS = 100


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def request(method: str, url: str, headers: dict, body: bytes | None = None,
            timeout: float = 10) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except OSError as err:
        return 0, str(err).encode()


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (gunicorn's workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo and len(tree) < 1000:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def rss_mb(pids: list[int]) -> float:
    """Resident memory now (VmRSS), summed over the processes."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


@dataclass
class Server:
    name: str
    kind: str  # ours, naive, flask, floor
    port: int
    proc: subprocess.Popen
    log_path: Path
    database: str = ""  # what seeding writes to: a SQLite file or a PostgreSQL URL
    headers: dict = field(default_factory=dict)
    list_path: str = "/api/todos"
    pids: list[int] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str = "/healthz", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            if request("GET", self.base + path, {}, timeout=1)[0] == 200:
                time.sleep(0.5)  # gunicorn: let both workers come up
                self.pids = process_tree(self.proc.pid)
                return
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not answer {path} within {timeout:.0f}s; see {self.log_path}")

    def seed(self) -> int:
        """Resets the server to the same 100 tasks; returns the first id."""
        if self.kind == "ours":
            now = "2026-01-01T00:00:00Z"
            doc = {"format": "todo-app-export", "version": 1, "exported_at": now,
                   "tasks": [{"id": i, "title": f"Seeded task {i}", "priority": 1 + i % 5,
                              "completed": i % 3 == 0, "order": i, "due": None,
                              "created_at": now, "updated_at": now} for i in range(1, TASKS + 1)]}
            status, body = request("POST", self.base + "/api/import?replace=true", self.headers,
                                   json.dumps(doc).encode(), timeout=30)
            if status != 200:
                raise SystemExit(f"seeding {self.name} failed: {status} {body[:200]!r}")
            status, body = request("GET", self.base + "/api/todos?limit=1", self.headers)
            return json.loads(body)[0]["id"]
        if self.kind == "floor":
            return 1
        table, columns, values = {
            "naive": ("todo", "id, title, priority, completed", "{i}, 'Seeded task {i}', {p}, {c}"),
            "flask": ("task", "id, task, priority", "{i}, 'Seeded task {i}', {p}"),
        }[self.kind]
        rows = ", ".join("(" + values.format(i=i, p=1 + i % 5, c=int(i % 3 == 0)) + ")"
                         for i in range(1, TASKS + 1))
        if self.database.startswith("postgres"):
            psql(self.database, f"BEGIN; TRUNCATE {table}; INSERT INTO {table} ({columns}) VALUES {rows}; "
                                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {TASKS}); COMMIT")
        else:
            with sqlite3.connect(self.database, timeout=10) as db:
                db.execute(f"DELETE FROM {table}")
                db.execute(f"INSERT INTO {table} ({columns}) VALUES {rows}")
        return 1

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Bench:
    def __init__(self, args, run_dir: Path):
        self.args = args
        self.run_dir = run_dir
        self.servers: list[Server] = []
        self.next_port = args.port

    def spawn(self, name: str, kind: str, cmd: list[str], env: dict, cwd: Path | None = None,
              **kw) -> Server:
        port = self.next_port
        self.next_port += 1
        log_path = self.run_dir / f"{name}.log"
        cmd = [part.replace("{port}", str(port)) for part in cmd]
        proc = subprocess.Popen(cmd, env={**os.environ, **env, "PORT": str(port)}, cwd=cwd,
                                stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)
        server = Server(name, kind, port, proc, log_path, **kw)
        self.servers.append(server)
        return server

    def database(self, db: str, name: str) -> str:
        """A fresh store of its own for one server: a SQLite file or a PostgreSQL database."""
        if db == "sqlite":
            return str(self.run_dir / f"{name}.db")
        dbname = "bench_" + name.replace("-", "_")
        psql(self.args.pg_url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        psql(self.args.pg_url, f'CREATE DATABASE "{dbname}"')
        return with_database(self.args.pg_url, dbname)

    def start_ours(self, db: str, name: str, auth: bool, extra: dict) -> Server:
        extra = dict(extra)
        binary = extra.pop("binary", self.args.binary)
        store = self.database(db, name)
        url = f"sqlite://{store}" if db == "sqlite" else store
        env = {"HOST": "127.0.0.1", "DATABASE_URL": url, "LOG_FORMAT": "json", "RUST_LOG": "info",
               "AUTH_MODE": "accounts" if auth else "none", "SHUTDOWN_DRAIN_DELAY": "0s",
               # wrk's 32 connections all come from 127.0.0.1.
               "MAX_CONNECTIONS_PER_CLIENT": "100000", **extra}
        server = self.spawn(name, "ours", [str(binary), "serve"], env, list_path="/api/todos?limit=100")
        server.wait_ready("/readyz")
        if auth:
            password = "bench passphrase"
            subprocess.run([str(binary), "user", "add", "bench"], input=password + "\n", text=True,
                           env={**os.environ, **env}, check=True, capture_output=True)
            status, body = request("POST", server.base + "/api/tokens", {}, json.dumps(
                {"username": "bench", "password": password, "name": "bench"}).encode())
            if status != 201:
                raise SystemExit(f"no API token from {name}: {status} {body[:200]!r}")
            server.headers = {"Authorization": "Bearer " + json.loads(body)["token"]}
        return server

    def start_all(self, db: str) -> None:
        args = self.args
        self.start_ours(db, "ours-open", False, {})
        self.start_ours(db, "ours", True, {})
        for spec in args.also:
            name, _, settings = spec.partition(":")
            extra = dict(item.split("=", 1) for item in settings.split(",") if item)
            self.start_ours(db, name, True, extra)

        store = self.database(db, "naive")
        url = f"sqlite://{store}?mode=rwc" if db == "sqlite" else store
        self.spawn("naive", "naive", [str(args.ref_target_dir / "release" / "naive-axum-sqlx")],
                   {"DATABASE_URL": url}, database=store).wait_ready()

        store = self.database(db, "flask")
        url = (f"sqlite:///{store}" if db == "sqlite"
               else store.replace("postgres://", "postgresql+psycopg://", 1))
        app_dir = args.refs / "flask-seed"
        python = Path(args.gunicorn).parent / "python"
        # Tables first, once: two workers importing the app would race on CREATE TABLE.
        subprocess.run([str(python), "-c", "import app"], cwd=app_dir, check=True,
                       env={**os.environ, "DATABASE_URL": url}, capture_output=True)
        self.spawn("flask", "flask", [args.gunicorn, "-w", "2", "-b", "127.0.0.1:{port}", "app:app"],
                   {"DATABASE_URL": url}, cwd=app_dir, database=store).wait_ready("/api/todos")

        # The floor answers with as many bytes as our list of the 100 tasks.
        ours = self.servers[0]
        ours.seed()
        _, body = request("GET", ours.base + ours.list_path, ours.headers)
        self.spawn("floor", "floor", [str(args.ref_target_dir / "release" / "http-floor")],
                   {"LIST_BYTES": str(len(body))}).wait_ready()
        print(f"  {db}: servers up on 127.0.0.1:{args.port}-{self.next_port - 1}; "
              f"the list is {len(body)} bytes", flush=True)

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers = []

    def run_one(self, server: Server, workload: str) -> dict:
        first_id = server.seed()
        headers = dict(server.headers)
        if workload == "list-br":
            headers["Accept-Encoding"] = "br"
        out = self.run_dir / f"wrk-{server.name}-{workload}.json"
        out.unlink(missing_ok=True)
        env = {**os.environ, "LOAD_MIX": WORKLOADS[workload], "LOAD_GET_MIN": str(first_id),
               "LOAD_GET_MAX": str(first_id + TASKS - 1), "LOAD_LIST_PATH": server.list_path,
               "LOAD_OUT": str(out)}
        cpu0 = cpu_seconds(server.pids)
        wrk = subprocess.Popen(["wrk", "-t2", "-c32", f"-d{self.args.duration}s", "--timeout", "10s",
                                "-s", str(HERE / "load.lua"),
                                *[a for k, v in headers.items() for a in ("-H", f"{k}: {v}")], server.base],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Memory under load: VmRSS sampled while wrk runs (the lifetime peak,
        # VmHWM, would also hold the password hash of the token's login).
        rss = 0.0
        deadline = time.monotonic() + self.args.duration + 60
        while wrk.poll() is None and time.monotonic() < deadline:
            rss = max(rss, rss_mb(server.pids))
            time.sleep(0.25)
        if wrk.poll() is None:
            wrk.kill()
            raise SystemExit(f"wrk against {server.name} did not finish")
        cpu = cpu_seconds(server.pids) - cpu0
        r = json.loads(out.read_text())
        good = sum(n for status, n in r["statuses"].items() if int(status) < 400)
        failed = r["requests"] - good + sum(r["errors"][k] for k in ("connect", "read", "write", "timeout"))
        return {"rps": r["requests"] / (r["duration_us"] / 1e6),
                "cpu_us": cpu * 1e6 / max(r["requests"], 1), "failed": failed,
                "p99_ms": r["latency_us"]["p99"] / 1000, "rss_mb": rss,
                "load": load_average()}

    def measure(self, db: str) -> dict:
        results: dict = {}
        for round_no in range(self.args.rounds):
            order = self.servers[round_no % len(self.servers):] + self.servers[:round_no % len(self.servers)]
            print(f"  {db} round {round_no + 1}/{self.args.rounds} (load {load_average()})", flush=True)
            for workload in self.args.workloads:
                for server in order:
                    if not applies(server.kind, workload):
                        continue
                    r = self.run_one(server, workload)
                    results.setdefault(server.name, {}).setdefault(workload, []).append(r)
                    print(f"    {server.name:10} {workload:8} {r['rps']:9.0f} req/s  "
                          f"{r['cpu_us']:8.1f} us CPU/req  p99 {r['p99_ms']:7.2f} ms  "
                          f"failed {r['failed']:>4}  RSS {r['rss_mb']:6.1f} MB  "
                          f"(load {r['load']})", flush=True)
        return results


def applies(kind: str, workload: str) -> bool:
    if kind == "floor":
        return workload == "list"
    if workload == "list-br":
        return kind == "ours"
    return True


def median(results: dict, server: str, workload: str, key: str) -> float | None:
    runs = results.get(server, {}).get(workload)
    return statistics.median(r[key] for r in runs) if runs else None


def summary(db: str, results: dict, names: list[str]) -> list[str]:
    lines = [f"{db}: medians over the rounds (req/s, us CPU per request)"]
    for workload in WORKLOADS:
        cells = []
        for name in results:
            rps = median(results, name, workload, "rps")
            if rps is not None:
                cells.append(f"{name} {rps:.0f} ({median(results, name, workload, 'cpu_us'):.1f})")
        if cells:
            lines.append(f"  {workload:8} " + " | ".join(cells))
    lines.append(f"{db}: the goals of issue 18")

    def ratio(label: str, a: float | None, b: float | None, goal: float, at_most: bool = False) -> None:
        if a is None or b is None:
            return
        value = a / b
        ok = value <= goal if at_most else value >= goal
        lines.append(f"  {label:52} {value:6.2f}  ({'at most' if at_most else 'at least'} "
                     f"{goal:g}: {'ok' if ok else 'NOT YET'})")

    for name in names:
        rps = lambda w, n=name: median(results, n, w, "rps")  # noqa: E731
        ratio(f"{name}: get, req/s / naive's", rps("get"), median(results, "naive", "get", "rps"), 1)
        if db == "sqlite":
            ratio(f"{name}: get, req/s / Flask's", rps("get"), median(results, "flask", "get", "rps"), 15)
            ratio(f"{name}: 90/10 mix, req/s / Flask's", rps("mix"), median(results, "flask", "mix", "rps"), 20)
            ratio(f"{name}: create, req/s / Flask's", rps("create"),
                  median(results, "flask", "create", "rps"), 20)
        floor = median(results, "floor", "list", "cpu_us")
        ratio(f"{name}: cached list, CPU/req / the floor's", median(results, name, "list", "cpu_us"), floor, 2,
              at_most=True)
        ratio(f"{name}: cached list (br), CPU/req / the floor's", median(results, name, "list-br", "cpu_us"),
              floor, 2, at_most=True)
        peak = max((r["rss_mb"] for runs in results.get(name, {}).values() for r in runs), default=None)
        if peak is not None:
            lines.append(f"  {name + ': RSS under load (highest), MB':52} {peak:6.1f}  "
                         f"(under 64: {'ok' if peak < 64 else 'NOT YET'})")
    return lines


def main() -> int:
    repo = HERE.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, default=Path(os.environ.get("CARGO_TARGET_DIR", repo / "target"))
                        / "release" / "todo-app")
    parser.add_argument("--refs", type=Path, default=repo.parent / "shared" / "bench",
                        help="the reference servers' folder (../shared/bench)")
    parser.add_argument("--ref-target-dir", type=Path, required=True,
                        help="the target directory the two Rust reference servers were built in")
    parser.add_argument("--gunicorn", default="gunicorn", help="gunicorn of a virtualenv with flask-seed's requirements")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL",
                                                           "postgres://todo_test:todo_test@127.0.0.1:5432/todo_test"),
                        help="a PostgreSQL role that may create databases (ci/postgres.sh prints one)")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--port", type=int, default=28800)
    parser.add_argument("--also", action="append", default=[], metavar="NAME:KEY=VALUE,...")
    args = parser.parse_args()
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown or not 1 <= args.rounds <= 20 or not 1 <= args.duration <= 120:
        parser.error(f"unknown workloads {sorted(unknown)}, or rounds/duration out of range")
    if urlsplit(args.pg_url).hostname not in ("127.0.0.1", "localhost"):
        parser.error("--pg-url must be on this machine (127.0.0.1)")
    if args.gunicorn == "gunicorn":
        args.gunicorn = shutil.which("gunicorn") or parser.error("no gunicorn: pass --gunicorn")
    for binary in (args.binary, args.ref_target_dir / "release" / "naive-axum-sqlx",
                   args.ref_target_dir / "release" / "http-floor"):
        if not binary.exists():
            parser.error(f"{binary} is missing (cargo build --release)")

    run_dir = Path(tempfile.mkdtemp(prefix="compare-bench-"))
    print(f"compare_bench: {args.duration}s per run, {args.rounds} rounds, binary {args.binary}; "
          f"load average {load_average()}; {os.cpu_count()} CPUs; files in {run_dir}", flush=True)
    report: list[str] = []
    bench = Bench(args, run_dir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        for db in [d for d in args.databases.split(",") if d]:
            bench.start_all(db)
            try:
                results = bench.measure(db)
            finally:
                bench.stop_all()
            names = ["ours-open", "ours"] + [spec.partition(":")[0] for spec in args.also]
            report += summary(db, results, names)
            (run_dir / f"{db}.json").write_text(json.dumps(results, indent=1))
    finally:
        bench.stop_all()
    print(f"compare_bench done; load average {load_average()}")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
