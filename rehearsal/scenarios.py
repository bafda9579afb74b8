"""The five fault scenarios. Each runs under steady load from wrk through the
balancer, prints its figures, and raises `PromiseBroken` when the promise it
checks does not hold.

Timings are the local stack's (see StackConfig): health checks every 500 ms,
down after 2 failures, up after 2 successes, and a 2 s drain delay in the
app, which is longer than the 1 s the balancer needs to see a 503.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stack import (REPO, Load, PromiseBroken, Stack, StackConfig, describe, failures, http,
                   log, proc_rss_kb, status_of, wait_until)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise PromiseBroken(message)


def _steady_load(stack: Stack, name: str, url: str | None = None, **kw) -> Load:
    # About 600-800 requests/s: steady, and leaves CPU for the machinery on 2 cores.
    kw.setdefault("connections", 8)
    kw.setdefault("delay_ms", 10)
    return Load.start(url or stack.lb.url, stack.run_dir, name, **kw)


# --------------------------------------------------------------------------


def rolling_deploy(stack: Stack) -> dict:
    """Replace every instance, one at a time, twice: first as ECS does it
    (deregister from the balancer, wait, then SIGTERM), then with SIGTERM
    alone, relying on /readyz turning 503 during the app's drain delay.
    Promise: zero failed requests."""
    stack.up("rehearsal_rolling")
    stack.seed(100)
    load = _steady_load(stack, "rolling")
    time.sleep(1)
    steps = []
    for mode in ("deregister-then-SIGTERM", "SIGTERM-only"):
        for old in sorted(stack.instances.values(), key=lambda i: i.slot):
            t0 = time.monotonic()
            down_s = None
            new = stack.start_instance(stack.free_slot())
            ready_s = stack.wait_ready(new)
            stack.lb.enable(new.slot)
            stack.wait_lb_status(new.slot, "UP")
            in_service_s = time.monotonic() - t0
            if mode == "deregister-then-SIGTERM":
                stack.lb.set_state(old.slot, "drain")
                # The target group's deregistration delay, scaled down.
                time.sleep(0.5)
                old.terminate()
            else:
                old.terminate()
                # The balancer must see /readyz fail before the app stops accepting.
                down_s = stack.wait_lb_status(old.slot, "DOWN", timeout=10)
                check(old.alive(), f"app{old.slot} stopped accepting before the balancer "
                                   f"marked it down ({down_s:.2f}s)")
            code = stack.retire(old)
            stack.lb.set_state(old.slot, "maint")
            check(code == 0, f"app{old.slot} exited with {code} after SIGTERM")
            steps.append(time.monotonic() - t0)
            log(f"{mode}: app{old.slot} -> app{new.slot} (new ready in {ready_s * 1000:.0f} ms, "
                f"in service after {in_service_s:.2f}s, "
                + (f"old DOWN after {down_s:.2f}s, " if down_s else "")
                + f"old exited 0 {steps[-1]:.2f}s after the step began)")
    time.sleep(1)
    result = load.finish()
    log("load: " + describe(result))
    failed = failures(result)
    check(result["requests"] > 1000, f"too little load to judge: {result['requests']} requests")
    check(failed == 0, f"{failed} requests failed during the rolling deploy")
    return {"replacements": len(steps), "requests": result["requests"], "failed": failed,
            "p99_ms": result["latency_us"]["p99"] / 1000,
            "max_ms": result["latency_us"]["max"] / 1000,
            "seconds_per_replacement": round(sum(steps) / len(steps), 2)}


# --------------------------------------------------------------------------


def crash(stack: Stack) -> dict:
    """`kill -9` one instance under load. Promise: the balancer stops sending
    to it within the health-check window (inter x fall, plus one interval for
    the check already scheduled), and the failed requests stay within a bound:
    through the retrying listener, at most the requests that were in flight on
    the killed instance; through the no-retry listener (what an ALB does), at
    most its share of the traffic during that window plus the in-flight ones."""
    stack.up("rehearsal_crash")
    stack.seed(100)
    conns = 8
    retrying = _steady_load(stack, "crash-retry", connections=conns)
    bare = _steady_load(stack, "crash-no-retry", url=stack.lb.no_retry_url, connections=conns)
    time.sleep(2)
    victim = stack.instances[0]
    window_s = stack.lb.inter_ms * (stack.lb.fall + 1) / 1000
    t0 = time.monotonic()
    victim.kill()
    detect_s = stack.wait_lb_status(victim.slot, "DOWN", timeout=10)
    log(f"kill -9 app{victim.slot}: haproxy marked it DOWN after {detect_s * 1000:.0f} ms "
        f"(window {window_s * 1000:.0f} ms)")
    # After DOWN, no more connection attempts may reach the dead server.
    attempts = lambda: sum(int(stack.lb.stats(b)[f"app{victim.slot}"]["stot"])
                           for b in ("app", "app_no_retry"))
    at_down = attempts()
    time.sleep(1)
    later = attempts()
    stack.instances.pop(victim.slot)
    # ECS would start a replacement; so do we.
    replacement = stack.start_instance(victim.slot)
    stack.wait_ready(replacement)
    stack.wait_lb_status(victim.slot, "UP")
    log(f"replacement app{victim.slot} in service {time.monotonic() - t0:.2f}s after the kill")
    time.sleep(1)
    r_retry, r_bare = retrying.finish(), bare.finish()
    log("retrying listener: " + describe(r_retry))
    log("no-retry listener: " + describe(r_bare))
    f_retry, f_bare = failures(r_retry), failures(r_bare)
    rate_bare = r_bare["requests"] / (r_bare["duration_us"] / 1e6)
    n = stack.config.instances
    bound_bare = math.ceil(rate_bare / n * window_s) + conns
    log(f"failed: {f_retry} with retries (bound {conns}), {f_bare} without (bound {bound_bare} = "
        f"{rate_bare:.0f}/s / {n} x {window_s:.1f}s + {conns} in flight)")
    check(detect_s <= window_s + 0.3, f"DOWN after {detect_s:.2f}s, beyond the {window_s:.1f}s window")
    check(later == at_down, f"{later - at_down} connection attempts reached app{victim.slot} after it was DOWN")
    check(f_retry <= conns, f"{f_retry} failures through the retrying listener (bound {conns})")
    check(f_bare <= bound_bare, f"{f_bare} failures without retries (bound {bound_bare})")
    return {"detect_ms": round(detect_s * 1000), "failed_with_retries": f_retry,
            "failed_without_retries": f_bare, "bound_without_retries": bound_bare,
            "requests": r_retry["requests"] + r_bare["requests"]}


# --------------------------------------------------------------------------


def database_restart(stack: Stack) -> dict:
    """Restart PostgreSQL under a write-heavy load. Promises: /readyz says 503
    on every instance while it is down; every instance recovers by itself (the
    same processes) once it is back; the only errors clients see are 503s
    with Retry-After; every write acknowledged with a 201 is in the database."""
    stack.up("rehearsal_db_restart")
    stack.seed(100)
    mix = "20:20:60"
    via_lb = _steady_load(stack, "db-restart-lb", mix=mix, connections=4)
    # Straight at one instance as well, to see the app's own answers rather
    # than the balancer's "no server available".
    direct_inst = stack.instances[0]
    direct = _steady_load(stack, "db-restart-direct", url=direct_inst.base, mix=mix, connections=4)
    pids = {s: i.pid for s, i in stack.instances.items()}
    time.sleep(2)
    t0 = time.monotonic()
    stack.pg.stop("fast")
    log("PostgreSQL stopped")
    pool = ThreadPoolExecutor(len(stack.instances))

    def readiness() -> list[int]:
        # In parallel: /readyz may take up to its 2 s probe timeout to say 503.
        return list(pool.map(lambda i: status_of(i.base + "/readyz", 3), stack.instances.values()))

    wait_until(lambda: set(readiness()) == {503}, 10, what="every /readyz to say 503")
    unready_s = time.monotonic() - t0
    log(f"every /readyz answered 503 by {unready_s * 1000:.0f} ms after the stop")
    t_probe = time.monotonic()
    statuses = readiness()
    probe_ms = (time.monotonic() - t_probe) * 1000
    log(f"/readyz while down: {statuses}, answered in {probe_ms:.0f} ms")
    check(set(statuses) == {503}, f"an instance said ready while PostgreSQL was down: {statuses}")
    time.sleep(max(0.0, 3 - (time.monotonic() - t0)))
    t1 = time.monotonic()
    stack.pg.start()
    log(f"PostgreSQL started again ({t1 - t0:.1f}s down)")
    all_ready = lambda: all(i.ready() for i in stack.instances.values())
    wait_until(all_ready, 15, what="every instance to become ready again")
    ready_s = time.monotonic() - t1
    for slot in stack.instances:
        stack.wait_lb_status(slot, "UP")
    lb_s = time.monotonic() - t1
    log(f"every /readyz answered 200 {ready_s * 1000:.0f} ms after the start; all UP in haproxy after {lb_s:.2f}s")
    check({s: i.pid for s, i in stack.instances.items()} == pids and
          all(i.alive() for i in stack.instances.values()), "an instance was restarted or died")
    time.sleep(2)
    results = {"lb": via_lb.finish(), "direct": direct.finish()}
    acknowledged: list[int] = []
    for name, r in results.items():
        log(f"{name}: " + describe(r))
        acknowledged += r["created_ids"]
        other_errors = {s: n for s, n in r["statuses"].items() if s >= 400 and s != 503}
        check(not other_errors, f"{name}: errors other than 503: {other_errors}")
        check(r["unavailable_without_retry_after"] == 0, f"{name}: 503s without Retry-After")
        e = r["errors"]
        check(e["connect"] + e["read"] + e["write"] + e["timeout"] == 0, f"{name}: socket errors {e}")
    check(len(set(acknowledged)) == len(acknowledged), "the same id was acknowledged twice")
    post_201 = sum(r["statuses"].get(201, 0) for r in results.values())
    stored = int(stack.pg.psql(
        "SELECT count(*) FROM tasks WHERE id = ANY('{" + ",".join(map(str, acknowledged)) + "}'::bigint[])",
        "rehearsal_db_restart"))
    log(f"writes acknowledged with 201: {len(acknowledged)}; found in PostgreSQL: {stored}")
    check(len(acknowledged) == post_201, "a 201 came without a Location header")
    check(stored == len(acknowledged), f"{len(acknowledged) - stored} acknowledged writes are missing")
    status, _, _ = http("POST", stack.lb.url + "/api/todos", {"title": "after the restart"})
    check(status == 201, f"a write after recovery got {status}")
    refused = sum(r["statuses"].get(503, 0) for r in results.values())
    return {"down_s": round(t1 - t0, 1), "all_unready_ms": round(unready_s * 1000),
            "readyz_ms_while_down": round(probe_ms),
            "recovered_ms": round(ready_s * 1000), "acknowledged_writes": len(acknowledged),
            "missing_writes": len(acknowledged) - stored, "refused_503": refused}


# --------------------------------------------------------------------------


def cold_fleet_start(stack: Stack) -> dict:
    """Eight instances start at once against an empty database. Promises:
    every migration is applied exactly once, every instance becomes ready and
    the balancer puts all of them in service."""
    stack.start_postgres()
    stack.use_database("rehearsal_cold_start")
    stack.start_balancer()
    t0 = time.monotonic()
    for slot in range(stack.config.instances):
        stack.start_instance(slot)
    times = [stack.wait_ready(i) for i in list(stack.instances.values())]
    all_ready_s = time.monotonic() - t0
    for slot in range(stack.config.instances):
        stack.wait_lb_status(slot, "UP")
    in_service_s = time.monotonic() - t0
    files = len(list((REPO / "migrations" / "postgres").glob("*.sql")))
    rows = stack.pg.psql("SELECT count(*), count(DISTINCT version), count(*) FILTER (WHERE success) "
                         "FROM _sqlx_migrations", "rehearsal_cold_start").split("|")
    total, distinct, ok = map(int, rows)
    log(f"{len(times)} instances ready after {min(times) * 1000:.0f}-{max(times) * 1000:.0f} ms; "
        f"all in service after {in_service_s:.2f}s; migrations: {total} rows for {files} files")
    check(total == files == distinct == ok, f"migrations table has {total} rows "
                                            f"({ok} successful) for {files} migration files")
    check(all(i.alive() for i in stack.instances.values()), "an instance exited")
    stack.seed(100)
    status, _, body = http("GET", stack.lb.url + "/api/todos")
    check(status == 200 and body.count(b'"id"') == 100, "the fleet does not serve the seeded tasks")
    return {"instances": len(times), "first_ready_ms": round(min(times) * 1000),
            "last_ready_ms": round(max(times) * 1000), "all_in_service_s": round(in_service_s, 2),
            "migration_rows": total}


# --------------------------------------------------------------------------


def overload(stack: Stack) -> dict:
    """Far more concurrent connections (1000) than pool connections (2) on
    one instance. Promises: every request gets a 2xx or a 503 with Retry-After
    (no 500, no reset), memory stays bounded, the process survives, and it
    serves normally right after the load stops."""
    stack.up("rehearsal_overload")
    stack.seed(100)
    inst = stack.instances[0]
    idle_rss, _ = proc_rss_kb(inst.pid)
    conns = 1000
    load = Load.start(inst.base, stack.run_dir, "overload", threads=2, connections=conns,
                      mix="45:45:10")
    peak = idle_rss
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        peak = max(peak, proc_rss_kb(inst.pid)[0])
        check(inst.alive(), f"the instance died under overload (exit {inst.proc.returncode})")
        time.sleep(0.1)
    r = load.finish()
    log("overload: " + describe(r))
    t0 = time.monotonic()
    wait_until(inst.ready, 5, what="readiness after the overload")
    recover_ms = (time.monotonic() - t0) * 1000
    list_times, list_statuses = [], set()
    for _ in range(5):
        t1 = time.monotonic()
        list_statuses.add(http("GET", inst.base + "/api/todos")[0])
        list_times.append((time.monotonic() - t1) * 1000)
    list_ms = sorted(list_times)[2]
    rss_after, hwm = proc_rss_kb(inst.pid)
    log(f"RSS: idle {idle_rss / 1024:.1f} MB, peak {hwm / 1024:.1f} MB, after {rss_after / 1024:.1f} MB; "
        f"ready {recover_ms:.0f} ms after the load stopped, then lists in {list_ms:.1f} ms (median of 5)")
    bad = {s: n for s, n in r["statuses"].items() if not (200 <= s < 300 or s == 503)}
    e = r["errors"]
    check(not bad, f"statuses other than 2xx/503 under overload: {bad}")
    check(r["unavailable_without_retry_after"] == 0, "503s without Retry-After")
    check(e["connect"] + e["read"] + e["write"] == 0, f"socket errors under overload: {e}")
    check(hwm < 200 * 1024, f"peak RSS {hwm / 1024:.0f} MB is over 200 MB")
    check(list_statuses == {200} and list_ms < 250,
          f"after the overload lists took {list_ms:.0f} ms ({list_statuses})")
    check(inst.alive(), "the instance died")
    ok = sum(n for s, n in r["statuses"].items() if 200 <= s < 300)
    return {"connections": conns, "pool": stack.config.pool_size, "ok": ok,
            "refused_503": r["statuses"].get(503, 0), "timeouts": e["timeout"],
            "idle_rss_mb": round(idle_rss / 1024, 1), "peak_rss_mb": round(hwm / 1024, 1),
            "recover_ms": round(recover_ms)}


# name -> (function, stack settings)
SCENARIOS = {
    "rolling-deploy": (rolling_deploy, dict(instances=3)),
    "crash": (crash, dict(instances=3, spare_slots=0)),
    "db-restart": (database_restart, dict(instances=3, spare_slots=0)),
    "cold-start": (cold_fleet_start, dict(instances=8, spare_slots=0)),
    "overload": (overload, dict(instances=1, spare_slots=0, pool_size=2,
                                extra_env={"DB_ACQUIRE_TIMEOUT": "500ms"})),
}


def run(names: list[str], run_root: Path, pg, base: StackConfig) -> dict[str, object]:
    """Runs scenarios in order; returns name -> figures, or the exception."""
    outcomes: dict[str, object] = {}
    for name in names:
        fn, settings = SCENARIOS[name]
        config = StackConfig(**{**base.__dict__, **settings})
        print(f"\n--- {name}: {fn.__doc__.strip().splitlines()[0]}", flush=True)
        t0 = time.monotonic()
        try:
            with Stack(config, run_root / name, pg=pg) as stack:
                figures = fn(stack)
            print(f"--- {name}: PASS in {time.monotonic() - t0:.1f}s  {figures}", flush=True)
            outcomes[name] = figures
        except Exception as err:  # report every scenario, then fail
            print(f"--- {name}: FAIL in {time.monotonic() - t0:.1f}s: {type(err).__name__}: {err}",
                  flush=True)
            outcomes[name] = err
    return outcomes
