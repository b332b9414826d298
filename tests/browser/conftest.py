"""Real-browser fixtures: the app under gunicorn on the demo data, and Debian's Chromium.

The server is the real thing a person gets from ``make run`` (migrations, ``seed-demo``,
gunicorn with two workers), on an SQLite file in a temporary instance folder, started once
per session. Chromium is Debian's (/usr/bin/chromium): Playwright's own browser download
does not work on these machines. Screenshots go to ``test-artifacts/browser/<worker>/``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
# One folder per pytest-xdist worker ("main" without xdist), so no worker empties another's.
ARTIFACTS = ROOT / "test-artifacts" / "browser" / os.environ.get("PYTEST_XDIST_WORKER", "main")
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying Google's hosts, which this
# network refuses; --no-sandbox because the tests run as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {
    "phone": {"width": 360, "height": 740},
    "desktop": {"width": 1280, "height": 900},
}
DEMO_PASSWORD = "cho40-demo"
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)  # a shared 2-core machine can be slow
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || e.documentURI}:${e.lineNumber}`);
});
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen on {port} in time:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[str]:
    """Base URL of the app under gunicorn, migrated and loaded with the demo data set."""
    instance = tmp_path_factory.mktemp("browser-instance")
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "MARKET_INSTANCE_PATH": str(instance),
        "MARKET_ENV": "development",
        "SECRET_KEY": os.urandom(16).hex(),
        "DATABASE_URL": f"sqlite:///{instance / 'market.sqlite3'}",
        # Logins are rate limited per address, and every browser test comes from 127.0.0.1;
        # the limit itself is tested in tests/auth.
        "MARKET_LOGIN_RATE_LIMIT": "1000 per minute",
    }
    env.pop("MARKET_TEST_POSTGRES_URL", None)
    for command in (["db", "upgrade"], ["seed-demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "flask", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    port = _free_port()
    # Links printed on stickers and welcome slips point at this server.
    env["MARKET_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    # Tests set a new webhook secret and notify at once: both workers read it afresh (with the
    # default 5 s, the other worker could still hold the previous test's secret: 401).
    env["MARKET_INTEGRATION_CACHE_SECONDS"] = "0"
    log = instance / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [*command, "--access-logfile", "-", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, server, log, time.monotonic() + 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for this run's screenshots, emptied at the start of the session."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def login_state(browser, live_server) -> Callable[[str], dict]:
    """Storage state (cookies) of a demo user logged in through the login form, by username."""
    states: dict[str, dict] = {}

    def get(username: str) -> dict:
        if username not in states:
            context = browser.new_context(base_url=live_server)
            try:
                page = context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                log_in(page, username)
                states[username] = context.storage_state()
            finally:
                context.close()
        return states[username]

    return get


def log_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    # The login page may be in English (a language picked before logging in).
    page.get_by_label(re.compile("^(Tên đăng nhập|Username)$")).fill(username)
    page.get_by_label(re.compile("^(Mật khẩu|Password)$")).fill(password)
    page.locator("main").get_by_role("button", name=re.compile("^(Đăng nhập|Log in)$")).click()
    if password == DEMO_PASSWORD:
        page.wait_for_url(re.compile(r".*/(markets|me)/.*"))


@pytest.fixture
def new_page(browser, live_server, login_state) -> Iterator[Callable[..., object]]:
    """Open a page in a fresh browser context: ``new_page("phone", user="quanly")``.

    Every page records console errors and CSP violations (``page.problems``); contexts are
    closed when the test ends.
    """
    contexts = []

    def make(viewport: str = "desktop", *, user: str | None = None, bypass_csp: bool = False):
        context = browser.new_context(
            base_url=live_server,
            viewport=VIEWPORTS[viewport],
            device_scale_factor=1,
            is_mobile=viewport == "phone",
            has_touch=viewport == "phone",
            locale="vi-VN",
            bypass_csp=bypass_csp,
            accept_downloads=True,
            storage_state=login_state(user) if user else None,
        )
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        # Init scripts run outside the page's CSP, so this listener sees every violation.
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.problems = []
        page.on(
            "console",
            lambda msg: msg.type == "error" and page.problems.append(f"console: {msg.text}"),
        )
        page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
        return page

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


class Shots:
    """Numbered full-page screenshots of one test, in test-artifacts/browser/<worker>/<test>/,
    named ``<parameters>-NN-<step>.png``."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        self.count = 0

    def path(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{self.prefix}{name}"

    def __call__(self, page, step: str) -> Path:
        self.count += 1
        path = self.path(f"{self.count:02d}-{step}.png")
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(artifacts, request) -> Shots:
    callspec = getattr(request.node, "callspec", None)
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", callspec.id) + "-" if callspec else ""
    return Shots(artifacts / request.node.originalname, prefix)


@pytest.fixture(scope="session")
def ready_stall(browser, live_server, login_state) -> str:
    """Code of an active stall of Chợ Đồng Quang with a verified payee (its QR is shown).

    The demo data never printed stickers, so such stalls show "Cần in lại" (reprint), or
    "Sẵn sàng" (ready) once printed.
    """
    context = browser.new_context(base_url=live_server, storage_state=login_state("quanly"))
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto("/markets/TN-DONGQUANG")
        row = page.locator("table.stalls tbody tr", has=page.locator(".qr-ready, .qr-reprint"))
        return row.first.locator("th a").inner_text().strip()
    finally:
        context.close()
