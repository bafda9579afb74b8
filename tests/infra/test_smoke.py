"""deploy/smoke.sh against a small stand-in server with the app's planned HTTP interface.

The real app runs the smoke test in ci/smoke.sh (two instances behind a round-robin proxy).
This checks the paths the app may not have yet, each the way the interface is specified:
accounts (sign-up form with a CSRF token and a session cookie, a token from POST /api/tokens,
bearer auth, DELETE /api/account), sign-up closed, and the open API; and that a failed check
still deletes the throwaway account and task.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import subprocess
import os
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SMOKE = Path(__file__).resolve().parents[2] / "deploy" / "smoke.sh"


class App:
    def __init__(self, auth="accounts", signup="open", lose_writes=False, revision="abc123def456", not_ready=0,
                 host=None, no_id=False, signup_limited=False, secure_cookies=False, origin=None):
        self.secure_cookies = secure_cookies
        # Where the app believes its pages are served from (PUBLIC_URL); None: anywhere.
        self.origin = origin
        self.signup_origins: list[str | None] = []
        self.no_id = no_id
        self.signup_limited = signup_limited
        self.auth, self.signup, self.lose_writes, self.revision = auth, signup, lose_writes, revision
        self.not_ready = not_ready
        self.host = host
        self.accounts: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.sessions: dict[str, str] = {}
        self.tasks: dict[int, dict] = {}
        self.next_id = 1
        self.lock = threading.Lock()
        self.requests: list[str] = []


def handler_for(app: App):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send(self, status, body=b"", content_type="application/json", headers=()):
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            elif isinstance(body, str):
                body = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def body(self):
            return self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()

        def user(self):
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                return app.tokens.get(auth[7:])
            return None

        def handle_any(self, method):
            path = urllib.parse.urlsplit(self.path).path
            app.requests.append(f"{method} {path}")
            if app.host and self.headers.get("Host", "").split(":")[0] != app.host:
                return self.send(421, {"code": "wrong_host"})
            with app.lock:
                if path == "/healthz":
                    return self.send(200, {"status": "ok"})
                if path == "/readyz":
                    if app.not_ready > 0:
                        app.not_ready -= 1
                        return self.send(503, {"status": "starting"})
                    return self.send(200, {"status": "ready"})
                if path == "/version":
                    return self.send(200, {"version": "0.1.0", "git_revision": app.revision})
                if path == "/signup":
                    if app.auth != "accounts" or app.signup == "closed":
                        return self.send(404, {"code": "not_found"})
                    if method == "GET":
                        session, csrf = secrets.token_hex(8), secrets.token_hex(8)
                        app.sessions[session] = csrf
                        form = (f'<form method="post" action="/signup"><input type="hidden" name="csrf_token" '
                                f'value="{html.escape(csrf)}"><input name="username"><input name="password" '
                                'type="password"></form>')
                        secure = "; Secure" if app.secure_cookies else ""
                        return self.send(200, form, "text/html",
                                         [("Set-Cookie", f"session={session}; HttpOnly; Path=/{secure}")])
                    fields = urllib.parse.parse_qs(self.body())
                    # As the app does: a form posted from another origin is cross-site.
                    sent = self.headers.get("Origin")
                    app.signup_origins.append(sent)
                    if app.origin and sent is not None and sent.lower() != app.origin:
                        return self.send(403, "<p>this request came from another web site and was refused</p>",
                                         "text/html")
                    if app.signup_limited:
                        return self.send(429, "Too many sign-ups", "text/html", [("Retry-After", "3600")])
                    cookie = re.search(r"session=([0-9a-f]+)", self.headers.get("Cookie", ""))
                    if not cookie or app.sessions.get(cookie.group(1)) != fields.get("csrf_token", [""])[0]:
                        return self.send(403, {"code": "csrf"})
                    app.accounts[fields["username"][0]] = fields["password"][0]
                    return self.send(303, "", "text/html", [("Location", "/")])
                if path == "/api/tokens" and method == "POST":
                    data = json.loads(self.body())
                    if app.accounts.get(data["username"]) != data["password"]:
                        return self.send(401, {"code": "unauthorized"})
                    token = secrets.token_hex(16)
                    app.tokens[token] = data["username"]
                    return self.send(201, {"token": token})
                if not path.startswith("/api/"):
                    return self.send(404, {"code": "not_found"})
                owner = self.user()
                if app.auth == "accounts" and owner is None:
                    return self.send(401, {"code": "unauthorized"})
                if path == "/api/account" and method == "DELETE":
                    # As the app does: the password again, as JSON, whatever the credentials.
                    if not self.headers.get("Content-Type", "").startswith("application/json"):
                        return self.send(415, {"code": "unsupported_media_type"})
                    if json.loads(self.body() or "{}").get("password") != app.accounts.get(owner):
                        return self.send(401, {"code": "wrong_password"})
                    app.accounts.pop(owner, None)
                    app.tokens = {t: u for t, u in app.tokens.items() if u != owner}
                    app.tasks = {i: t for i, t in app.tasks.items() if t["owner"] != owner}
                    return self.send(204)
                if path == "/api/todos":
                    if method == "POST":
                        task = {"id": app.next_id, "title": json.loads(self.body())["title"], "owner": owner}
                        app.next_id += 1
                        if not app.lose_writes:
                            app.tasks[task["id"]] = task
                        if app.no_id:
                            return self.send(201, {"title": task["title"]})
                        return self.send(201, {"id": task["id"], "title": task["title"], "completed": False})
                    return self.send(200, [t for t in app.tasks.values() if t["owner"] == owner][:1])
                match = re.fullmatch(r"/api/todos/(\d+)", path)
                if match:
                    task = app.tasks.get(int(match.group(1)))
                    if task is None or task["owner"] != owner:
                        return self.send(404, {"code": "not_found"})
                    if method == "DELETE":
                        del app.tasks[task["id"]]
                        return self.send(204)
                    return self.send(200, {"id": task["id"], "title": task["title"]})
                return self.send(404, {"code": "not_found"})

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

        def do_DELETE(self):
            self.handle_any("DELETE")

    return Handler


@pytest.fixture
def serve():
    servers = []

    def start(app: App, tls: ssl.SSLContext | None = None):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(app))
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()


def smoke(url, *args, env=None):
    result = subprocess.run(["bash", str(SMOKE), url, "--wait", "20", *args], capture_output=True, text=True,
                            timeout=120, env=env)
    return result.returncode, result.stdout + result.stderr


def test_open_api(serve):
    app = App(auth="none")
    code, out = smoke(f"http://127.0.0.1:{serve(app)}", "--expect-revision", "abc123def456")
    assert code == 0, out
    assert "create, read by id, delete (open API" in out
    assert app.tasks == {}
    assert "GET /api/todos/1" in app.requests  # read by id, not found in a list


def test_accounts_throwaway_account(serve):
    app = App()
    code, out = smoke(f"http://127.0.0.1:{serve(app)}")
    assert code == 0, out
    assert "sign-up, token, create, read by id, delete, account deleted" in out
    assert app.accounts == {} and app.tasks == {} and app.tokens == {}


def test_signup_is_posted_from_the_url_and_needs_public_url_to_match(serve):
    """The form goes with the Origin a browser sends from a page of the URL; an app whose
    PUBLIC_URL is another address (say the load balancer's name behind CloudFront) refuses it,
    as it would every user's forms, and the smoke test says why."""
    port = serve(app := App(origin="https://d1234.cloudfront.net"))
    code, out = smoke(f"http://127.0.0.1:{port}/")
    assert code != 0 and "was refused as cross-site: the app's PUBLIC_URL is not http://127.0.0.1:" in out, out
    assert app.signup_origins == [f"http://127.0.0.1:{port}"] and app.accounts == {}
    port = serve(app := App(origin="http://todo.example.test"))
    code, out = smoke(f"http://Todo.Example.Test:{port}", "--connect-to", f"127.0.0.1:{port}")
    assert code != 0 and f"the app's PUBLIC_URL is not http://todo.example.test:{port}" in out, out
    port = serve(app := App())
    app.origin = f"http://127.0.0.1:{port}"
    code, out = smoke(f"http://127.0.0.1:{port}")
    assert code == 0 and app.signup_origins == [app.origin] and app.accounts == {}, out


def test_signup_closed_checks_what_it_can(serve):
    app = App(signup="closed")
    code, out = smoke(f"http://127.0.0.1:{serve(app)}")
    assert code == 0, out
    assert "sign-up is closed" in out and "refuses requests without a token (401)" in out
    assert not any(r.startswith("POST") for r in app.requests)


def test_failed_check_still_deletes_the_account(serve):
    app = App(lose_writes=True)
    code, out = smoke(f"http://127.0.0.1:{serve(app)}")
    assert code != 0
    assert "GET /api/todos/1 answered 404" in out
    assert app.accounts == {} and app.tokens == {}


def test_separate_instances_check_only_what_holds(serve):
    app = App(lose_writes=True)
    code, out = smoke(f"http://127.0.0.1:{serve(app)}", "--shared-state", "no")
    assert code == 0, out
    assert "create/read/delete was not checked" in out
    assert not any(r.startswith("POST") for r in app.requests)


def test_wrong_revision_fails(serve):
    app = App(auth="none", revision="0123456789ab")
    code, out = smoke(f"http://127.0.0.1:{serve(app)}", "--expect-revision", "abc123def456")
    assert code != 0 and "reports git revision '0123456789ab', expected 'abc123def456'" in out


def test_waits_for_readiness_and_reaches_a_name_without_dns(serve):
    app = App(auth="none", not_ready=1, host="todo.example.test")
    port = serve(app)
    code, out = smoke(f"http://todo.example.test:{port}", "--connect-to", f"127.0.0.1:{port}")
    assert code == 0, out
    assert app.requests.count("GET /readyz") == 2


def test_an_answer_without_an_id_is_reported_not_swallowed(serve):
    """A lookup that finds nothing must not end the script silently (set -e in a substitution)."""
    app = App(auth="none", no_id=True)
    code, out = smoke(f"http://127.0.0.1:{serve(app)}")
    assert code != 0 and "POST /api/todos answered without an id" in out


def test_signup_rate_limited_says_what_was_not_checked(serve):
    app = App(signup_limited=True)
    code, out = smoke(f"http://127.0.0.1:{serve(app)}")
    assert code == 0, out
    assert "sign-up is rate limited for this address now (429)" in out and app.accounts == {}


@pytest.fixture
def https(tmp_path):
    """A TLS context for 127.0.0.1 and the environment in which curl trusts it."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context, {**os.environ, "CURL_CA_BUNDLE": str(tmp_path / "cert.pem")}


def test_https_needs_secure_cookies(serve, https):
    """Behind CloudFront the app must know it is reached over HTTPS (PUBLIC_URL): its cookies
    must be Secure, or the smoke test of the HTTPS URL fails."""
    context, env = https
    app = App(secure_cookies=False)
    code, out = smoke(f"https://127.0.0.1:{serve(app, context)}", env=env)
    assert code != 0 and "set a cookie without Secure" in out, out
    assert app.accounts == {}
    app = App(secure_cookies=True)
    code, out = smoke(f"https://127.0.0.1:{serve(app, context)}", env=env)
    assert code == 0, out
    assert "cookies are Secure over HTTPS" in out and app.accounts == {}
