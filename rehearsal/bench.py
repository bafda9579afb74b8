"""The benchmark: a fixed scenario against SQLite and PostgreSQL, straight
to one instance and through HAProxy, with the figures docs/benchmarks.md
records.

For each database and path, with 100 seeded tasks before every run:
  list    GET /api/todos?limit=100 (the 100 tasks; in the mix, creates add
          tasks, and the limit keeps the page at 100)
  get     GET /api/todos/{1..100}
  create  POST /api/todos
  mix     45 % list, 45 % get, 10 % create (90/10 read/write)
  getmix  90 % get, 10 % create
each with `wrk -t2 -c32` for --duration seconds, reporting requests/s,
p50/p99 latency, failed requests, server CPU per request (the process's
utime+stime over the run / requests) and its peak RSS (VmHWM). Then the
p99 of `list` at a paced 1 000 requests/s (hey -q), the cold start (process
start to the first 200 from /healthz, median of 5) and the idle RSS.

Straight to the instance, the table then grows: on 100 tasks (whose
statistics PostgreSQL has taken, as autovacuum would) both mixes run, then
creates (as fast as wrk sends them) add GROWTH more, and both mixes run
again on the grown table, without reseeding. A database whose plans were
made for the small table collapses here (PostgreSQL did, to a few hundred
req/s); the promise is that each mix keeps at least GROWN_FLOOR of its
figure on the small table, and a broken promise fails the benchmark.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import socket
import subprocess
import time
from pathlib import Path

import stack as stack_module
from stack import (Load, Postgres, Stack, StackConfig, describe, failures, http, load_average,
                   proc_cpu_seconds, proc_rss_kb)

WORKLOADS = {"list": "100:0:0", "get": "0:100:0", "create": "0:0:100", "mix": "45:45:10",
             "getmix": "0:90:10"}
GROWTH = 100_000
GROWN_FLOOR = 0.8
GROWN_WORKLOADS = ("getmix", "mix")


def first_200(port: int, timeout: float = 10) -> bool:
    """Tight poll of /healthz over a raw socket (urllib's overhead would blur ms)."""
    deadline = time.monotonic() + timeout
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(request)
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return True
        except OSError:
            time.sleep(0.0005)
    return False


def cold_start_ms(stack: Stack, url: str, runs: int = 5) -> float:
    """Median of `runs` starts of a fresh process against an already migrated database."""
    times = []
    for _ in range(runs):
        slot = stack.free_slot()
        t0 = time.monotonic()
        inst = stack.start_instance(slot, url)
        if not first_200(inst.port):
            raise RuntimeError(f"no 200 from a fresh instance; see {inst.log_path}")
        times.append((time.monotonic() - t0) * 1000)
        inst.kill()
        stack.instances.pop(slot)
    return statistics.median(times)


def paced_p99_ms(url: str, rate: int = 1000, seconds: int = 10) -> tuple[float, int]:
    """p99 of `list` at a fixed request rate, with hey (10 workers x rate/10 per second)."""
    headers = [arg for name, value in stack_module.EXTRA_HEADERS.items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(["hey", "-z", f"{seconds}s", "-c", "10", "-q", str(rate // 10), *headers,
                          url + "/api/todos"], capture_output=True, text=True, check=True).stdout
    p99 = float(re.search(r"99%+ in ([\d.]+) secs", out).group(1)) * 1000
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return p99, round(rps)


def run_load(stack: Stack, server_pid: int, url: str, name: str, workload: str, mix: str,
             duration: int, stop_after: int = 0, until=None, first_id: int = 1) -> dict:
    """One wrk run of `duration` seconds, or until `until()` says it is enough;
    each thread stops sending after `stop_after` creates."""
    cpu0 = proc_cpu_seconds(server_pid)
    load = Load.start(url, stack.run_dir, f"{name.replace('/', '-')}-{workload}", threads=2, connections=32,
                      duration_s=duration, mix=mix, stop_after=stop_after,
                      get_min=first_id, get_max=first_id + 99)
    if until is None:
        r = load.wait(duration + 30)
    else:
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline and load.proc.poll() is None and not until():
            time.sleep(0.5)
        r = load.finish()
    cpu = proc_cpu_seconds(server_pid) - cpu0
    secs = r["duration_us"] / 1e6
    _, hwm = proc_rss_kb(server_pid)
    result = {
        "rps": round(r["requests"] / secs), "p50_ms": r["latency_us"]["p50"] / 1000,
        "p99_ms": r["latency_us"]["p99"] / 1000, "failed": failures(r),
        "cpu_ms_per_req": round(cpu * 1000 / max(r["requests"], 1), 3),
        "peak_rss_mb": round(hwm / 1024, 1), "load": load_average(),
        "created": len(r["created_ids"]),
    }
    print(f"  {name:18} {workload:11} {result['rps']:>7} req/s  "
          f"p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
          f"failed {result['failed']:>3}  cpu {result['cpu_ms_per_req']:.3f} ms/req  "
          f"peak RSS {result['peak_rss_mb']} MB  (load {result['load']})", flush=True)
    return result


def measure(stack: Stack, server_pid: int, url: str, name: str, duration: int) -> dict:
    results = {}
    for workload, mix in WORKLOADS.items():
        first_id = stack.seed(100, url)
        results[workload] = run_load(stack, server_pid, url, name, workload, mix, duration,
                                     first_id=first_id)
    return results


def measure_grown(stack: Stack, server_pid: int, url: str, name: str, duration: int,
                  growth: int, analyse=None) -> dict:
    """Both mixes on 100 tasks, then again after creates have added `growth`.

    `analyse` takes PostgreSQL's statistics of the small table first, as
    autovacuum does within a minute of a deployment or an import: plans
    made from them are the ones that must not outlive the growth.
    """
    first_id = stack.seed(100, url)
    if analyse:
        analyse()
    results: dict = {"small": {}}
    for workload in GROWN_WORKLOADS:
        results["small"][workload] = run_load(stack, server_pid, url, name, f"small-{workload}",
                                              WORKLOADS[workload], duration, first_id=first_id)

    def grown() -> bool:
        status, _, body = http("GET", f"{url}/api/todos?limit=1&offset={100 + growth - 1}")
        return status == 200 and json.loads(body) != []

    # Bounded twice: by the count of creates, and by time.
    results["grow"] = run_load(stack, server_pid, url, name, "grow", WORKLOADS["create"], 120,
                               stop_after=growth // 2, until=grown)
    for workload in GROWN_WORKLOADS:
        r = run_load(stack, server_pid, url, name, f"grown-{workload}", WORKLOADS[workload], duration,
                     first_id=first_id)
        small = results["small"][workload]["rps"]
        r["of_small"] = round(r["rps"] / max(small, 1), 2)
        results[workload] = r
        print(f"  {name:18} grown {workload}: {r['of_small']:.0%} of the small table's "
              f"{small} req/s (at least {GROWN_FLOOR:.0%} promised)", flush=True)
    return results


def sign_in_with_token(stack: Stack, base: str) -> None:
    """Accounts on: makes an account (the CLI, as an operator would) and an
    API token, and sends the token with every request from here on."""
    password = "bench passphrase"
    subprocess.run([str(stack.binary), "user", "add", "bench"], input=password + "\n", text=True,
                   env=stack.instance_env(0), check=True, capture_output=True)
    status, _, body = http("POST", base + "/api/tokens",
                           {"username": "bench", "password": password, "name": "bench"}, timeout=10)
    if status != 201:
        raise RuntimeError(f"no API token: {status} {body[:200]!r}")
    stack_module.EXTRA_HEADERS["Authorization"] = "Bearer " + json.loads(body)["token"]


def main(args, run_dir: Path) -> int:
    duration = 2 if args.quick else args.duration
    only = set(filter(None, args.only.split(",")))
    databases = [d for d in ("sqlite", "postgres") if not only & {"sqlite", "postgres"} or d in only]
    paths = [p for p in ("direct", "balancer") if not only & {"direct", "balancer"} or p in only]
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    run_dir.chmod(0o755)
    print(f"benchmark: {duration}s per run, auth {args.auth}; load average {load_average()}; "
          f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs", flush=True)
    report: dict = {"auth": args.auth, "load_before": load_average(), "runs": {}}
    broken: list[str] = []
    pg = Postgres(run_dir, args.pg_port)
    pg.init()
    pg.start()
    try:
        for db in databases:
            stack_module.EXTRA_HEADERS.clear()
            config = StackConfig(instances=1, spare_slots=1, base_port=args.port, log_level="info",
                                 extra_env={"AUTH_MODE": "accounts"} if args.auth == "token" else {})
            with Stack(config, run_dir / db, pg=pg) as stack:
                url = (f"sqlite://{stack.run_dir}/bench.db" if db == "sqlite"
                       else pg.fresh_database("bench"))
                stack.database_url = url
                stack.start_balancer()
                # Migrate once, so cold starts measure a restart, as in a deploy.
                first = stack.start_instance(1, url)
                stack.wait_ready(first)
                if args.auth == "token":
                    sign_in_with_token(stack, first.base)
                first.kill()
                stack.instances.pop(1)
                cold = cold_start_ms(stack, url)
                inst = stack.start_instance(0, url)
                stack.wait_ready(inst)
                stack.wait_lb_status(0, "UP")
                time.sleep(1)
                idle_rss_start = proc_rss_kb(inst.pid)[0]
                entry = {"cold_start_ms": round(cold, 1), "idle_rss_mb_fresh": round(idle_rss_start / 1024, 1)}
                print(f"  {db}: cold start {cold:.1f} ms (median of 5), idle RSS {idle_rss_start / 1024:.1f} MB",
                      flush=True)
                for path in paths:
                    target = inst.base if path == "direct" else stack.lb.url
                    entry[path] = measure(stack, inst.pid, target, f"{db}/{path}", duration)
                if "direct" in paths:
                    growth = GROWTH // 10 if args.quick else GROWTH
                    # The earlier runs left the table's file large (deleted rows
                    # not yet vacuumed); compacted, it is as small as on a fresh
                    # deployment, which is what the planner must not go by later.
                    # Autovacuum is off meanwhile: whether its own ANALYZE (once a
                    # minute at most) came in time must not decide the figure.
                    def analyse() -> None:
                        pg.psql("ALTER TABLE tasks SET (autovacuum_enabled = false)", database="bench")
                        pg.psql("VACUUM (FULL, ANALYZE) tasks", database="bench")
                    entry["grown"] = measure_grown(stack, inst.pid, inst.base, f"{db}/grown", duration,
                                                   growth, analyse if db == "postgres" else None)
                    if db == "postgres":
                        pg.psql("ALTER TABLE tasks RESET (autovacuum_enabled)", database="bench")
                    shrunk = [w for w in GROWN_WORKLOADS
                              if entry["grown"][w]["of_small"] < GROWN_FLOOR]
                    if shrunk and not args.quick:
                        broken.append(f"{db}: {', '.join(shrunk)} below {GROWN_FLOOR:.0%} after growth")
                stack.seed(100, inst.base)
                p99, rps = paced_p99_ms(inst.base, seconds=3 if args.quick else 10)
                entry["list_p99_ms_at_1000rps"] = round(p99, 2)
                entry["paced_rps"] = rps
                time.sleep(2)
                entry["idle_rss_mb_after"] = round(proc_rss_kb(inst.pid)[0] / 1024, 1)
                print(f"  {db}: list p99 at {rps} req/s: {p99:.2f} ms; "
                      f"idle RSS after the runs {entry['idle_rss_mb_after']} MB", flush=True)
                report["runs"][db] = entry
    finally:
        pg.stop("immediate")
    report["load_after"] = load_average()
    report["broken"] = broken
    (run_dir / "bench.json").write_text(json.dumps(report, indent=2))
    print(f"benchmark done; load average {load_average()}; figures in {run_dir / 'bench.json'}")
    for promise in broken:
        print(f"PROMISE BROKEN: {promise}")
    return 1 if broken else 0
