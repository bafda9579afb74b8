#!/usr/bin/env python3
"""Rehearse production on one machine: N instances of the release binary
behind HAProxy (set up like the ALB) over a private PostgreSQL.

    rehearsal/rehearse.py up [--instances 3]     run the stack until Ctrl-C
    rehearsal/rehearse.py status                 server states as HAProxy sees them
    rehearsal/rehearse.py down                   stop a stack left behind
    rehearsal/rehearse.py run [SCENARIO ...]     the fault scenarios (all by default)
    rehearsal/rehearse.py bench [--quick] [--auth token]   the benchmark (see docs/benchmarks.md)

Needs: the release binary (cargo build --release), haproxy, wrk, hey and
PostgreSQL from Debian's packages; ci/rehearsal.sh installs them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenarios  # noqa: E402
from stack import Postgres, PromiseBroken, Stack, StackConfig, load_average  # noqa: E402

RUN_ROOT = Path(os.environ.get("REHEARSAL_DIR", "/tmp/todo-rehearsal"))


def cmd_up(args) -> int:
    run_dir = RUN_ROOT / "stack"
    if (run_dir / "pids").exists():
        print(f"a stack seems to be running already ({run_dir}); try `down` first")
        return 1
    shutil.rmtree(run_dir, ignore_errors=True)
    config = StackConfig(instances=args.instances, base_port=args.port, pool_size=args.pool_size)
    try:
        return _run_stack(config, run_dir, args)
    finally:
        (run_dir / "pids").unlink(missing_ok=True)


def _run_stack(config: StackConfig, run_dir: Path, args) -> int:
    with Stack(config, run_dir) as stack:
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        try:
            stack.up("todo")
            if args.seed:
                stack.seed(args.seed)
            pids = [stack.lb.proc.pid] + [i.pid for i in stack.instances.values()]
            (run_dir / "pids").write_text("\n".join(map(str, pids)) + "\n")
            print(f"""
The stack is up (logs and config in {run_dir}):
  the app, through HAProxy   {stack.lb.url}/
  HAProxy's server states    http://127.0.0.1:{stack.lb.stats_port}/
  instances                  {', '.join(f"{i.base} (pid {i.pid})" for i in stack.instances.values())}
  PostgreSQL                 {stack.database_url}
Stop with Ctrl-C.""", flush=True)
            # Instances stopped or killed by hand are reported, not replaced:
            # the point is to watch what the balancer makes of it.
            reported: set[int] = set()
            while not stop:
                for i in stack.instances.values():
                    if not i.alive() and i.slot not in reported:
                        reported.add(i.slot)
                        print(f"app{i.slot} exited with {i.proc.returncode}; see {i.log_path}",
                              flush=True)
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        except (PromiseBroken, RuntimeError) as err:
            print(f"the stack did not come up: {err}")
            return 1
        finally:
            print("stopping the stack")
    return 0


def cmd_status(args) -> int:
    run_dir = RUN_ROOT / "stack"
    if not (run_dir / "haproxy.sock").exists():
        print("no stack is running")
        return 1
    from stack import Balancer
    lb = Balancer(run_dir, 0, 0, 0, [], 0)
    for name, row in sorted(lb.stats().items()):
        print(f"{name:6} {row['status']:10} requests {row['stot']:>8}  last check {row['check_status']}")
    return 0


def cmd_down(args) -> int:
    run_dir = RUN_ROOT / "stack"
    pids_file = run_dir / "pids"
    if pids_file.exists():
        for pid in map(int, pids_file.read_text().split()):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        pids_file.unlink()
    pg = Postgres(run_dir, 0)
    if pg.running():
        pg.stop("fast")
    print("stopped")
    return 0


def cmd_run(args) -> int:
    names = args.scenarios or list(scenarios.SCENARIOS)
    unknown = [n for n in names if n not in scenarios.SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}; choose from {list(scenarios.SCENARIOS)}")
        return 2
    run_root = RUN_ROOT / "run"
    shutil.rmtree(run_root, ignore_errors=True)
    run_root.mkdir(parents=True)
    os.chmod(run_root, 0o755)
    t0 = time.monotonic()
    print(f"rehearsal: {len(names)} scenario(s); load average {load_average()}; logs in {run_root}")
    pg = Postgres(run_root, args.pg_port)
    pg.init()
    pg.start()
    try:
        outcomes = scenarios.run(names, run_root, pg, StackConfig(pg_port=args.pg_port))
    finally:
        pg.stop("immediate")
    passed = [n for n, o in outcomes.items() if not isinstance(o, Exception)]
    failed = [n for n in outcomes if n not in passed]
    (run_root / "figures.json").write_text(json.dumps(
        {n: (o if n in passed else f"FAIL: {o}") for n, o in outcomes.items()}, indent=2))
    print(f"\nrehearsal: {len(passed)} passed, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else "")
          + f" in {time.monotonic() - t0:.0f}s; load average {load_average()}")
    return 1 if failed else 0


def cmd_bench(args) -> int:
    import bench
    return bench.main(args, RUN_ROOT / "bench")


def _interrupt(*_):
    raise KeyboardInterrupt


def main() -> int:
    # Stop cleanly on Ctrl-C and on SIGTERM (from CI's timeout), even when
    # started in the background, where SIGINT arrives ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the stack until Ctrl-C")
    up.add_argument("--instances", type=int, default=3)
    up.add_argument("--port", type=int, default=8080, help="the balancer's port; instances use the next ones")
    up.add_argument("--pool-size", type=int, default=5)
    up.add_argument("--seed", type=int, default=0, help="load this many sample tasks")
    sub.add_parser("status", help="server states as HAProxy sees them")
    sub.add_parser("down", help="stop a stack left behind by a killed `up`")
    run = sub.add_parser("run", help="run fault scenarios")
    run.add_argument("scenarios", nargs="*", help=f"any of {', '.join(scenarios.SCENARIOS)}")
    run.add_argument("--pg-port", type=int, default=25432)
    b = sub.add_parser("bench", help="the benchmark")
    b.add_argument("--quick", action="store_true", help="2 s per run: a smoke test, not figures")
    b.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    b.add_argument("--only", default="", help="comma-separated: sqlite,postgres,direct,balancer")
    b.add_argument("--auth", choices=("none", "token"), default="none",
                   help="none: AUTH_MODE=none; token: accounts on, every request with a bearer token")
    b.add_argument("--pg-port", type=int, default=25432)
    b.add_argument("--port", type=int, default=25280,
                   help="the balancer's port; instances use the next ones")
    args = parser.parse_args()
    command = {"up": cmd_up, "status": cmd_status, "down": cmd_down, "run": cmd_run,
               "bench": cmd_bench}[args.command]
    try:
        return command(args)
    except KeyboardInterrupt:
        print("interrupted; everything started was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
