"""Shared pieces of the endpoint benchmarks: start gunicorn, run wrk, take medians."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ["--workers", "2", "--worker-class", "sync", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port}")


@contextmanager
def gunicorn(
    app: str, env: dict[str, str] | None = None, cwd: Path = ROOT, workers: int | None = None
):
    """Serve ``app`` (e.g. 'wsgi:app') on a free loopback port with the shared settings
    (``workers`` sync workers instead of the shared 2, if given)."""
    port = free_port()
    settings = [*GUNICORN]
    if workers is not None:
        settings[1] = str(workers)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *settings, "--bind", f"127.0.0.1:{port}", app],
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    try:
        wait_for(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def wrk(url: str, *, seconds: int = 5, connections: int = 16, script: Path | None = None) -> dict:
    """One wrk run; returns requests/s and the count of non-2xx/3xx answers and errors."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench does it)")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    p99 = re.search(r"\s99%\s+([\d.]+\w+)", output)
    return {
        "rps": rps,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
        "p99": p99.group(1) if p99 else "",
    }


def median_rps(runs: list[dict]) -> float:
    return statistics.median(r["rps"] for r in runs)
