#!/usr/bin/env python3
"""CalDAV figures of issue 16, against a fresh release server.

A list of TASKS tasks (default 5000), half imported (made in the pages or
the API: their VTODO is rendered from the task) and half PUT by a client
in the shape Apple Reminders sends (VALARM, RRULE, X-APPLE-*: the stored
object is rendered with the task's fields spliced in). Then, as a client
with an app password (HTTP Basic):

1. the initial sync, the way DAVx5 and vdirsyncer do it: a sync-collection
   with no token (ETags only), then calendar-multiget of every resource,
   100 at a time; time and bytes of each, and the server's peak memory;
2. the same tasks in one calendar-query with calendar-data (what some
   clients ask for instead); time, bytes, peak memory;
3. a sync-collection from a token with one change among TASKS tasks,
   driven by hey (REQUESTS requests, CONCURRENCY at once): requests/s;
4. a calendar-multiget of 100 tasks, driven by hey: requests/s, latency.

A benchmark, not a test: it prints figures (record them with the command
line in docs/benchmarks.md) and checks only that the answers are right.

    rehearsal/caldav_bench.py BINARY [--database-url URL] [--tasks N]
"""
import argparse
import base64
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APPLE = open(os.path.join(HERE, "..", "tests", "fixtures", "caldav", "apple-reminders.ics"), newline="").read()
USER, PASSWORD = "bench", "bench passphrase for caldav"


def memory_kib(pid, field):
    """A line of the server's /proc status in KiB: VmHWM (peak resident) or VmRSS."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field}")


def peak_kib(pid):
    return memory_kib(pid, "VmHWM")


def rss_kib(pid):
    return memory_kib(pid, "VmRSS")


class Client:
    def __init__(self, port, auth):
        self.port, self.auth = port, auth

    def request(self, method, path, body=b"", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        all_headers = {"Authorization": self.auth, "Content-Type": "application/xml; charset=utf-8"}
        all_headers.update(headers or {})
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        took = time.perf_counter() - started
        conn.close()
        return response.status, data, took


def hey(url, method, body, auth, requests, concurrency):
    """requests/s and the average latency (ms) hey measured."""
    with tempfile.NamedTemporaryFile("wb", suffix=".xml", delete=False) as f:
        f.write(body)
        body_file = f.name
    out = subprocess.run(
        ["hey", "-n", str(requests), "-c", str(concurrency), "-m", method,
         "-H", f"Authorization: {auth}", "-H", "Depth: 1",
         "-T", "application/xml; charset=utf-8", "-D", body_file, url],
        check=True, capture_output=True, text=True).stdout
    os.unlink(body_file)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    average = float(re.search(r"Average:\s+([\d.]+) secs", out).group(1)) * 1000
    statuses = re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)
    return rate, average, statuses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--database-url", help="PostgreSQL (an empty database); SQLite in a temporary folder if unset")
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=28990)
    args = parser.parse_args()

    work = tempfile.mkdtemp()
    database = args.database_url or f"sqlite://{work}/caldav.db?mode=rwc"
    env = dict(os.environ, DATABASE_URL=database, AUTH_MODE="accounts", HOST="127.0.0.1",
               PORT=str(args.port), LOG_FORMAT="json", RUST_LOG="warn", SHUTDOWN_DRAIN_DELAY="0s")
    subprocess.run([args.binary, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([args.binary, "user", "add", USER], env=env, check=True,
                   input=PASSWORD + "\n", text=True, capture_output=True)
    imported = args.tasks // 2
    document = subprocess.run([sys.executable, os.path.join(HERE, "task_document.py"), str(imported)],
                              check=True, capture_output=True, text=True).stdout
    with open(f"{work}/tasks.json", "w") as f:
        f.write(document)
    subprocess.run([args.binary, "import", "--user", USER, f"{work}/tasks.json"], env=env, check=True,
                   capture_output=True)
    server = subprocess.Popen([args.binary, "serve"], env=env, stdout=open(f"{work}/server.log", "w"),
                              stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("the server did not start; see " + f"{work}/server.log")
        conn = http.client.HTTPConnection("127.0.0.1", args.port)
        conn.request("POST", "/api/tokens", body=json.dumps({"username": USER, "password": PASSWORD, "name": "bench"}),
                     headers={"Content-Type": "application/json"})
        token = json.loads(conn.getresponse().read())["token"]
        auth = "Basic " + base64.b64encode(f"{USER}:{token}".encode()).decode()
        api = {"Authorization": f"Bearer {token}"}
        conn.request("GET", "/api/lists", headers=api)
        list_id = json.loads(conn.getresponse().read())[0]["id"]
        calendar = f"/dav/calendars/{USER}/{list_id}/"
        dav = Client(args.port, auth)

        started = time.perf_counter()
        for n in range(args.tasks - imported):
            body = (APPLE.replace("UID:9A4D6F1B-2C3E-4F5A-8B7C-1D2E3F4A5B6C", f"UID:apple-{n}")
                    .replace("SUMMARY:Water the plants", f"SUMMARY:Water the plants {n}"))
            status, data, _ = dav.request("PUT", f"{calendar}apple-{n}.ics", body.encode(),
                                          {"Content-Type": "text/calendar; charset=utf-8"})
            assert status == 201, (status, data)
        print(f"setup: {imported} imported, {args.tasks - imported} PUT by a client in "
              f"{time.perf_counter() - started:.1f} s; load average {open('/proc/loadavg').read().split()[:3]}")
        print(f"server memory before the sync: {rss_kib(server.pid) / 1024:.1f} MiB resident, "
              f"peak so far {peak_kib(server.pid) / 1024:.1f} MiB")

        # 1. The initial sync: ETags, then the objects 100 at a time.
        def sync_from(token):
            return (b'<d:sync-collection xmlns:d="DAV:"><d:sync-token>' + token
                    + b'</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop>'
                    b'</d:sync-collection>')
        # Pages of at most 1,000: each but the last ends with a 507 and a
        # token to go on from.
        hrefs, token_first, took_list, listing_bytes, pages = [], b"", 0.0, 0, 0
        for _ in range(100):
            status, listing, took = dav.request("REPORT", calendar, sync_from(token_first))
            assert status == 207, status
            pages += 1
            took_list += took
            listing_bytes += len(listing)
            hrefs += re.findall(rb"<d:href>([^<]+\.ics)</d:href>", listing)
            token_first = re.findall(rb"<d:sync-token>([^<]+)</d:sync-token>", listing)[-1]
            if b"507" not in listing:
                break
        assert len(hrefs) == args.tasks, len(hrefs)
        took_get, bytes_get = 0.0, 0
        for i in range(0, len(hrefs), 100):
            body = (b'<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
                    b'<d:prop><d:getetag/><c:calendar-data/></d:prop>'
                    + b"".join(b"<d:href>" + h + b"</d:href>" for h in hrefs[i:i + 100])
                    + b"</c:calendar-multiget>")
            status, data, took = dav.request("REPORT", calendar, body)
            assert status == 207 and data.count(b"BEGIN:VTODO") == len(hrefs[i:i + 100]), status
            took_get += took
            bytes_get += len(data)
        print(f"initial sync, sync-collection (ETags of {len(hrefs)}, {pages} pages): {took_list * 1000:.0f} ms, "
              f"{listing_bytes} bytes")
        print(f"initial sync, calendar-multiget x{(len(hrefs) + 99) // 100} (100 each): "
              f"{took_get * 1000:.0f} ms, {bytes_get} bytes; total {(took_list + took_get) * 1000:.0f} ms")
        print(f"server peak memory after the initial sync: {peak_kib(server.pid) / 1024:.1f} MiB")

        # 2. Everything in one calendar-query.
        query = (b'<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
                 b'<d:prop><d:getetag/><c:calendar-data/></d:prop>'
                 b'<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO"/></c:comp-filter></c:filter>'
                 b'</c:calendar-query>')
        status, data, took = dav.request("REPORT", calendar, query)
        assert status == 207 and data.count(b"BEGIN:VTODO") == args.tasks, status
        print(f"one calendar-query with calendar-data of {args.tasks}: {took * 1000:.0f} ms, {len(data)} bytes; "
              f"server peak memory after it: {peak_kib(server.pid) / 1024:.1f} MiB")

        # 3. A sync with one change among them.
        # A fresh connection: the server closed the idle one.
        conn = http.client.HTTPConnection("127.0.0.1", args.port)
        conn.request("GET", f"/api/lists/{list_id}/todos?limit=1", headers=api)
        first = json.loads(conn.getresponse().read())
        first = (first["items"] if isinstance(first, dict) else first)[0]["id"]
        conn.request("PATCH", f"/api/todos/{first}", body=json.dumps({"title": "changed for the bench"}),
                     headers=dict(api, **{"Content-Type": "application/json"}))
        changed = conn.getresponse()
        assert changed.status == 200, (changed.status, changed.read())
        changed.read()
        one_change = sync_from(token_first)
        status, data, _ = dav.request("REPORT", calendar, one_change)
        assert status == 207 and len(re.findall(rb"<d:response>", data)) == 1, data[:500]
        rate, average, statuses = hey(f"http://127.0.0.1:{args.port}{calendar}", "REPORT", one_change, auth,
                                      args.requests, args.concurrency)
        print(f"sync-collection with one change among {args.tasks}: {rate:.0f} requests/s, "
              f"{average:.2f} ms average ({args.requests} requests, {args.concurrency} at once; statuses {statuses})")

        # 4. A multiget of 100.
        multiget = (b'<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
                    b'<d:prop><d:getetag/><c:calendar-data/></d:prop>'
                    + b"".join(b"<d:href>" + h + b"</d:href>" for h in hrefs[-100:])
                    + b"</c:calendar-multiget>")
        requests = max(args.requests // 10, 50)
        rate, average, statuses = hey(f"http://127.0.0.1:{args.port}{calendar}", "REPORT", multiget, auth,
                                      requests, 4)
        print(f"calendar-multiget of 100 (half client objects): {rate:.0f} requests/s, {average:.2f} ms average "
              f"({requests} requests, 4 at once; statuses {statuses})")
        print(f"server peak memory at the end: {peak_kib(server.pid) / 1024:.1f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
