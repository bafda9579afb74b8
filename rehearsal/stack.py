"""The local production stack: a private PostgreSQL, N instances of the real
release binary, and HAProxy in front of them configured like the ALB.

Everything runs on 127.0.0.1 under one run directory, and every process the
stack starts is stopped by `Stack.close()` (also on Ctrl-C), so nothing
leaks between runs. Only the Python standard library is used.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Load generators still running; stopped by Stack.close() if a scenario fails.
_running_loads: list[subprocess.Popen] = []


class PromiseBroken(Exception):
    """A scenario's promise did not hold."""


def log(msg: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {msg}", flush=True)


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Polls `predicate` until it returns a truthy value; raises after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise PromiseBroken(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


# Sent with every request of `http`, `hey` and `Load` (the benchmark's
# `--auth token` puts a bearer token here).
EXTRA_HEADERS: dict[str, str] = {}


def http(method: str, url: str, body: dict | None = None, timeout: float = 2.0):
    """One request; returns (status, headers, body bytes), or (0, {}, error text)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=EXTRA_HEADERS)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()
    except (OSError, urllib.error.URLError) as err:
        return 0, {}, str(err).encode()


def status_of(url: str, timeout: float = 1.0) -> int:
    return http("GET", url, timeout=timeout)[0]


def free_port_check(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def proc_rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in kB: current and peak resident memory."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime 14 and stime 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --------------------------------------------------------------------------
# PostgreSQL: a private cluster, so restarting it cannot disturb anyone else
# using the machine's PostgreSQL (other test suites, other engineers).


def pg_bin_dir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if not candidates:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    return candidates[0].parent


@dataclass
class Postgres:
    run_dir: Path
    port: int
    password: str = "rehearsal"
    bin_dir: Path = field(default_factory=pg_bin_dir)

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "pg"

    def url(self, database: str) -> str:
        return f"postgres://postgres:{self.password}@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def _as_postgres(self, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True)
        pwfile = self.run_dir / "pg.pw"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        self._as_postgres(
            str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
            "--auth=scram-sha-256", f"--pwfile={pwfile}", "--no-sync",
        )

    def start(self) -> None:
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories={self.data_dir} -c max_connections=200")
        self._as_postgres(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l",
            str(self.data_dir / "server.log"), "-o", opts, "-w", "-t", "30", "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w",
            "stop", check=False,
        )

    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def psql(self, sql: str, database: str = "postgres") -> str:
        env = dict(os.environ, PGPASSWORD=self.password)
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
             "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True, capture_output=True, text=True, env=env,
        )
        return out.stdout.strip()

    def fresh_database(self, name: str) -> str:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)


# --------------------------------------------------------------------------
# App instances.


@dataclass
class Instance:
    slot: int
    port: int
    proc: subprocess.Popen
    log_path: Path
    started_at: float

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ready(self) -> bool:
        return status_of(self.base + "/readyz", timeout=0.5) == 200

    def terminate(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait()


def find_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "release" / "todo-app"


# --------------------------------------------------------------------------
# HAProxy.


@dataclass
class Balancer:
    """HAProxy with `slots` server slots; the first `active` start enabled,
    the rest wait in maintenance for rolling deploys (like ECS running up to
    200 % of the desired count while it replaces tasks)."""

    run_dir: Path
    lb_port: int
    no_retry_port: int
    stats_port: int
    slot_ports: list[int]
    active: int
    inter_ms: int = 500
    fall: int = 2
    rise: int = 2
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    @property
    def no_retry_url(self) -> str:
        return f"http://127.0.0.1:{self.no_retry_port}"

    def render(self) -> str:
        servers, tracking = [], []
        for i, port in enumerate(self.slot_ports):
            state = "" if i < self.active else " disabled"
            servers.append(f"    server app{i} 127.0.0.1:{port}{state}")
            tracking.append(f"    server app{i} 127.0.0.1:{port} track app/app{i}")
        template = string.Template((HERE / "haproxy.cfg.tmpl").read_text())
        return template.substitute(
            run_dir=self.run_dir, lb_port=self.lb_port, no_retry_port=self.no_retry_port,
            stats_port=self.stats_port, inter=f"{self.inter_ms}ms", fall=self.fall,
            rise=self.rise, check_timeout=f"{max(self.inter_ms * 4 // 5, 100)}ms",
            servers="\n".join(servers), tracking_servers="\n".join(tracking),
        )

    def start(self) -> None:
        cfg = self.run_dir / "haproxy.cfg"
        cfg.write_text(self.render())
        subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], check=True)
        log_file = open(self.run_dir / "haproxy.log", "ab")
        self.proc = subprocess.Popen(
            ["haproxy", "-db", "-f", str(cfg)], stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: (self.run_dir / "haproxy.sock").exists(), 10, what="haproxy socket")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def command(self, cmd: str) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(str(self.run_dir / "haproxy.sock"))
            s.sendall(cmd.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self, backend: str = "app") -> dict[str, dict]:
        """`show stat` rows of the backend's servers, by server name."""
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {r["svname"]: r for r in rows
                if r["pxname"] == backend and r["svname"] not in ("FRONTEND", "BACKEND")}

    def enable(self, slot: int) -> None:
        """Brings a slot out of maintenance as a new target joins a target
        group: it must pass `rise` health checks before it gets traffic."""
        self.set_state(slot, "ready")
        # Leaving maintenance puts a server straight UP; mark it down so it
        # must pass `rise` checks first (the harness already saw it ready,
        # so the instant in between does no harm).
        self.command(f"set server app/app{slot} health down")

    def server_status(self, slot: int) -> str:
        return self.stats().get(f"app{slot}", {}).get("status", "?")

    def set_state(self, slot: int, state: str) -> None:
        """state: ready, drain or maint."""
        out = self.command(f"set server app/app{slot} state {state}").strip()
        if out:
            raise RuntimeError(f"haproxy refused 'set server app/app{slot} state {state}': {out}")


# --------------------------------------------------------------------------
# Load from wrk.


@dataclass
class Load:
    """A wrk run in the background; `finish()` returns its JSON summary."""

    proc: subprocess.Popen
    out_path: Path
    started: float

    @classmethod
    def start(cls, url: str, run_dir: Path, name: str, *, threads: int = 2,
              connections: int = 8, duration_s: int = 120, mix: str = "45:45:10",
              delay_ms: int = 0, get_min: int = 1, get_max: int = 100,
              stop_after: int = 0) -> "Load":
        out = run_dir / f"wrk-{name}.json"
        out.unlink(missing_ok=True)
        env = dict(os.environ, LOAD_MIX=mix, LOAD_DELAY_MS=str(delay_ms),
                   LOAD_GET_MIN=str(get_min), LOAD_GET_MAX=str(get_max), LOAD_OUT=str(out),
                   LOAD_STOP_AFTER=str(stop_after))
        proc = subprocess.Popen(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration_s}s",
             "--timeout", "10s", "-s", str(HERE / "load.lua"),
             *[arg for name, value in EXTRA_HEADERS.items() for arg in ("-H", f"{name}: {value}")], url],
            env=env, stdout=open(run_dir / f"wrk-{name}.txt", "wb"), stderr=subprocess.STDOUT,
        )
        _running_loads.append(proc)
        return cls(proc, out, time.monotonic())

    def finish(self, timeout: float = 150) -> dict:
        """Stops wrk (SIGINT makes it print its summary) and returns the result."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout)
        result = json.loads(self.out_path.read_text())
        result["statuses"] = {int(k): v for k, v in result["statuses"].items()}
        return result

    def wait(self, timeout: float = 150) -> dict:
        self.proc.wait(timeout)
        return self.finish()


def failures(result: dict) -> int:
    """Requests that did not get a 2xx/3xx answer: error statuses and socket errors."""
    bad_status = sum(n for s, n in result["statuses"].items() if s >= 400)
    e = result["errors"]
    return bad_status + e["connect"] + e["read"] + e["write"] + e["timeout"]


def describe(result: dict) -> str:
    secs = result["duration_us"] / 1e6
    e = result["errors"]
    socket_errors = e["connect"] + e["read"] + e["write"] + e["timeout"]
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result["statuses"].items()))
    return (f"{result['requests']} requests in {secs:.1f}s ({result['requests'] / secs:.0f}/s), "
            f"statuses {{{statuses}}}, socket errors {socket_errors}, "
            f"p50 {result['latency_us']['p50'] / 1000:.2f} ms, p99 {result['latency_us']['p99'] / 1000:.2f} ms")


# --------------------------------------------------------------------------
# The stack.


@dataclass
class StackConfig:
    instances: int = 3
    base_port: int = 25080
    pg_port: int = 25432
    pool_size: int = 5
    drain_delay: str = "2s"
    shutdown_timeout: str = "5s"
    inter_ms: int = 500
    fall: int = 2
    rise: int = 2
    log_level: str = "info"
    spare_slots: int | None = None  # default: as many as instances
    extra_env: dict = field(default_factory=dict)


class Stack:
    """Owns every process it starts; use as a context manager."""

    def __init__(self, config: StackConfig, run_dir: Path | None = None,
                 binary: Path | None = None, pg: Postgres | None = None):
        self.config = config
        self.binary = binary or find_binary()
        if not self.binary.exists():
            raise SystemExit(f"{self.binary} is missing: run `cargo build --release` first")
        self.run_dir = run_dir or Path(tempfile.mkdtemp(prefix="todo-rehearsal-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.run_dir, 0o755)
        # A shared PostgreSQL (one per rehearsal run) is left running on close.
        self.owns_pg = pg is None
        self.pg = pg or Postgres(self.run_dir, config.pg_port)
        spare = config.instances if config.spare_slots is None else config.spare_slots
        p = config.base_port
        self.slot_ports = [p + 1 + i for i in range(config.instances + spare)]
        # The balancer on base_port, the no-retry listener on +50, stats on +99,
        # app slots on +1, +2, ...
        self.lb = Balancer(self.run_dir, p, p + 50, p + 99, self.slot_ports,
                           config.instances, config.inter_ms, config.fall, config.rise)
        self.instances: dict[int, Instance] = {}
        self.retired: list[Instance] = []
        self.database_url: str | None = None
        self._generation = 0

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start_postgres(self) -> None:
        self.pg.init()
        if not self.pg.running():
            self.pg.start()

    def use_database(self, name: str) -> str:
        self.database_url = self.pg.fresh_database(name)
        return self.database_url

    def start_balancer(self) -> None:
        ports = [self.lb.lb_port, self.lb.no_retry_port, self.lb.stats_port]
        busy = [p for p in ports + self.slot_ports if not free_port_check(p)]
        if busy:
            raise RuntimeError(f"ports already in use: {busy} (is another stack running?)")
        self.lb.start()

    def instance_env(self, port: int, database_url: str | None = None) -> dict:
        c = self.config
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DB_", "DATABASE_URL", "SHUTDOWN_", "RUST_LOG", "LOG_"))}
        env.update(
            HOST="127.0.0.1", PORT=str(port), DATABASE_URL=database_url or self.database_url,
            DB_POOL_SIZE=str(c.pool_size), DB_FLEET_SIZE=str(len(self.slot_ports)),
            SHUTDOWN_DRAIN_DELAY=c.drain_delay, SHUTDOWN_TIMEOUT=c.shutdown_timeout,
            LOG_FORMAT="json", RUST_LOG=c.log_level,
            # The shared list unless a scenario turns accounts on (extra_env).
            AUTH_MODE="none",
            # Every load generator and haproxy connect from 127.0.0.1: the
            # per-address cap, meant for one greedy client among many, would
            # refuse the whole rehearsal's load as one client.
            MAX_CONNECTIONS_PER_CLIENT="100000",
        )
        env.update(c.extra_env)
        return env

    def start_instance(self, slot: int, database_url: str | None = None) -> Instance:
        assert slot not in self.instances, f"slot {slot} is taken"
        self._generation += 1
        port = self.slot_ports[slot]
        log_path = self.run_dir / f"app{slot}-gen{self._generation}.log"
        started = time.monotonic()
        proc = subprocess.Popen(
            [str(self.binary), "serve"], env=self.instance_env(port, database_url),
            stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, cwd=self.run_dir,
        )
        inst = Instance(slot, port, proc, log_path, started)
        self.instances[slot] = inst
        return inst

    def wait_ready(self, inst: Instance, timeout: float = 30) -> float:
        """Waits for the instance's own /readyz; returns seconds since start."""
        def check():
            if not inst.alive():
                raise PromiseBroken(f"instance app{inst.slot} exited with {inst.proc.returncode}; "
                                    f"see {inst.log_path}")
            return inst.ready()
        wait_until(check, timeout, 0.01, what=f"app{inst.slot} ready")
        return time.monotonic() - inst.started_at

    def wait_lb_status(self, slot: int, prefix: str, timeout: float = 15) -> float:
        """Waits until HAProxy reports the slot's status starting with `prefix` (UP, DOWN, MAINT, DRAIN)."""
        t0 = time.monotonic()
        wait_until(lambda: self.lb.server_status(slot).startswith(prefix), timeout, 0.02,
                   what=f"haproxy to report app{slot} {prefix}")
        return time.monotonic() - t0

    def up(self, database: str = "todo") -> None:
        """Postgres, a fresh database, N ready instances and the balancer with all of them UP."""
        self.start_postgres()
        self.use_database(database)
        self.start_balancer()
        for slot in range(self.config.instances):
            self.start_instance(slot)
        for inst in list(self.instances.values()):
            self.wait_ready(inst)
        for slot in range(self.config.instances):
            self.wait_lb_status(slot, "UP")

    def retire(self, inst: Instance, timeout: float = 30) -> int:
        """Waits for a stopping instance to exit; returns its exit code."""
        code = inst.proc.wait(timeout)
        self.instances.pop(inst.slot, None)
        self.retired.append(inst)
        return code

    def free_slot(self) -> int:
        return next(i for i in range(len(self.slot_ports)) if i not in self.instances)

    def close(self) -> None:
        # A second Ctrl-C or SIGTERM must not leave processes behind half-way through.
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._stop_everything()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _stop_everything(self) -> None:
        while _running_loads:
            proc = _running_loads.pop()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for inst in list(self.instances.values()):
            inst.kill()
        self.instances.clear()
        self.lb.stop()
        if self.owns_pg and self.pg.data_dir.exists():
            self.pg.stop("immediate")

    # -- views ---------------------------------------------------------------

    def status_lines(self) -> list[str]:
        lines = []
        try:
            for name, row in sorted(self.lb.stats().items()):
                lines.append(f"{name:6} {row['status']:10} sessions {row['stot']:>7}  "
                             f"check {row.get('check_status', '')}")
        except OSError as err:
            lines.append(f"haproxy: {err}")
        return lines

    def seed(self, count: int = 100, url: str | None = None) -> int:
        """Replaces all tasks with `count` tasks; returns the first one's id
        (the others follow it)."""
        base = url or self.lb.url
        now = "2026-01-01T00:00:00Z"
        doc = {
            "format": "todo-app-export", "version": 1, "exported_at": now,
            "tasks": [{"id": i, "title": f"Seeded task {i}", "priority": 1 + i % 5,
                       "completed": i % 3 == 0, "order": i, "due": None,
                       "created_at": now, "updated_at": now} for i in range(1, count + 1)],
        }
        status, _, body = http("POST", base + "/api/import?replace=true", doc, timeout=10)
        if status != 200:
            raise RuntimeError(f"seeding failed: {status} {body[:200]!r}")
        # The shared list keeps the ids; an account's list numbers them anew
        # (ids are unique across accounts), in order.
        status, _, body = http("GET", base + "/api/todos?limit=1", timeout=10)
        tasks = json.loads(body) if status == 200 else []
        return tasks[0]["id"] if tasks else 1
