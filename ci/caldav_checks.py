"""What ci/caldav_clients.py and ci/caldav_sync.py share: one line per
check with the failures counted, and the app's JSON API with the app
password as a bearer token (to change tasks the way the page and the API
do, beside the CalDAV clients)."""

import json
import sys
import urllib.request


class Checks:
    def __init__(self, base, token):
        self.base = base
        self.token = token
        self.failures = []

    def check(self, what, condition, detail=""):
        print(("ok   " if condition else "FAIL ") + what + ("" if condition else f": {detail}"))
        if not condition:
            self.failures.append(what)

    def api(self, method, path, body=None):
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            text = response.read()
            return json.loads(text) if text else None

    def finish(self, what):
        """Prints the verdict and exits non-zero when any check failed."""
        print(f"{what}: {len(self.failures)} failed" if self.failures else f"{what}: every check passed")
        sys.exit(1 if self.failures else 0)
