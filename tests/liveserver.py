"""The app as it runs in production, for the load, scale-out and recovery tests: gunicorn on
127.0.0.1, a database prepared with the deploy commands, and a small cookie-keeping HTTP client.

Everything here talks to loopback only.
"""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "cho40-demo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port}")


def prepare_demo_database(url: str, instance: Path) -> None:
    """The deploy steps, run once whatever the number of hosts: ``flask db upgrade``, then
    ``flask seed-demo`` (run here in-process: the same commands, without paying for a fresh
    interpreter's imports twice)."""
    from market.app import create_app
    from market.extensions import db

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    app.instance_path = str(instance)
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["seed-demo"]):
        result = runner.invoke(args=args)
        if result.exit_code:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.output}") from (
                result.exception
            )
    with app.app_context():
        db.engine.dispose()


def processes() -> Iterator[tuple[int, str, list[str]]]:
    """Every process now: its pid, its command name and the fields of ``/proc/<pid>/stat``
    after the name (from the state on: ``[1]`` is the parent's pid, ``[11]`` and ``[12]``
    the user and system CPU time in clock ticks)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        # "pid (comm) state ppid ...": the name may hold spaces and parentheses.
        command, _, rest = stat.partition(" (")[2].rpartition(")")
        yield int(entry.name), command, rest.split()


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes, sorted."""
    return sorted(child for child, _, fields in processes() if int(fields[1]) == pid)


class Gunicorn:
    """``gunicorn wsgi:app`` with 2 sync workers on a free loopback port."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int = 2,
        options: tuple[str, ...] = (),
        nice: int = 0,
    ) -> None:
        self.env = env
        self.workers = workers
        self.options = options  # more gunicorn options, e.g. the worker class
        self.nice = nice  # run at this niceness (a lower priority), as `nice -n`
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def launch(self) -> Gunicorn:
        """Start the master; see :meth:`ready`."""
        self.process = subprocess.Popen(
            [
                *(["nice", "-n", str(self.nice)] if self.nice else []),
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                *self.options,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=ROOT,
            env={**os.environ, **self.env},
        )
        return self

    def ready(self, timeout: float = 60) -> Gunicorn:
        """Wait until every worker has loaded the app and answers /healthz, as a load
        balancer's health check would (the port opens long before the workers can answer)."""
        wait_for_port(self.port, timeout)
        deadline = time.monotonic() + timeout
        while len(self.workers_pids()) < self.workers and time.monotonic() < deadline:
            time.sleep(0.1)
        healthy = 0
        while healthy < 2 * self.workers:
            assert time.monotonic() < deadline, "gunicorn did not become healthy"
            assert self.process is not None and self.process.poll() is None, "gunicorn exited"
            try:
                healthy += Browser().get(self.base, "/healthz").status == 200
            except OSError:
                time.sleep(0.1)
        return self

    def start(self) -> Gunicorn:
        return self.launch().ready()

    def workers_pids(self) -> list[int]:
        assert self.process is not None
        return children(self.process.pid)

    def signal_stop(self) -> None:
        """Ask for a graceful shutdown (requests in flight finish); :meth:`stop` waits."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process is None:
            return
        self.signal_stop()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def hidden_fields(self) -> dict[str, str]:
        """The hidden inputs of the page's forms (CSRF token, expected ids) by name."""
        found = {}
        for tag in re.findall(r"<input\b[^>]*>", self.text):
            if 'type="hidden"' not in tag:
                continue
            name = re.search(r'\bname="([^"]*)"', tag)
            value = re.search(r'\bvalue="([^"]*)"', tag)
            if name:
                found[html.unescape(name.group(1))] = html.unescape(value.group(1) if value else "")
        return found

    def csrf_token(self) -> str:
        tokens = [v for k, v in self.hidden_fields().items() if k.endswith("csrf_token")]
        assert tokens, f"no CSRF token on the page (status {self.status})"
        return tokens[0]


@dataclass
class Browser:
    """One user's browser: keeps cookies across hosts on 127.0.0.1 (cookies ignore ports,
    as behind one load balancer name) and never follows redirects by itself."""

    forwarded_for: str | None = None
    user_agent: str = "Cho40-test-browser/1.0"
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        base: str,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        host, port = base.removeprefix("http://").split(":")
        sent = {"User-Agent": self.user_agent, **(headers or {})}
        if self.forwarded_for:
            sent["X-Forwarded-For"] = self.forwarded_for
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            conn.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            self._keep(header)
        return answer

    def _keep(self, header: str) -> None:
        for name, morsel in SimpleCookie(header).items():
            expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
            if expired or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, base: str, path: str, **kwargs) -> Answer:
        return self.request(base, "GET", path, **kwargs)

    def post(self, base: str, path: str, **kwargs) -> Answer:
        return self.request(base, "POST", path, **kwargs)

    def submit(
        self,
        base: str,
        path: str,
        fields: dict[str, str],
        *,
        page: str | None = None,
        page_on: str | None = None,
    ) -> Answer:
        """Fetch the form's ``page`` (default ``path``) from ``page_on`` (default ``base``),
        then POST its hidden fields and ``fields`` to ``path`` on ``base``."""
        shown = self.get(page_on or base, page or path)
        assert shown.status == 200, f"GET {page or path}: {shown.status}"
        return self.post(base, path, form={**shown.hidden_fields(), **fields})

    def login(self, base: str, username: str, password: str = DEMO_PASSWORD) -> Answer:
        page = self.get(base, "/login")
        return self.post(
            base,
            "/login",
            form={"csrf_token": page.csrf_token(), "username": username, "password": password},
        )
