"""Registry import: seconds and the import's own memory to check and apply 2,000 / 10,000 /
20,000 rows, side by side in one run.

Run: ``.venv/bin/python bench/bench_import.py [--sizes 2000 10000 20000] [--rounds 3]
[--db sqlite,postgresql] [--format csv,xlsx] [--no-traced]``

The parent makes each file once (new stalls, each with a new merchant and a payee account:
the most work a row can make) and writes it to a temporary file. Each measurement runs in a
fresh Python process on a freshly migrated database holding one market and its manager: the
child reads the file's bytes, then calls what the pages call, in a request context:
``importing.upload`` (read, check, stage everything and roll back, store the upload: the dry
run a manager sees first) and ``importing.apply_upload`` (the same again, committed).

Memory is the import's own, not the bench's or the upload's bytes (an input, capped at 8 MB):
before each call the process's peak RSS is reset (``/proc/self/clear_refs``) and its RSS
read; the call's growth is the new peak (``VmHWM``) minus that RSS. The allocator keeps
freed memory, so RSS is coarse; one more child per size, under ``tracemalloc`` (slower, not
timed), gives the peak of what the import itself allocated. The table shows medians of
``--rounds`` for times, the largest growth, and the 20,000 / 2,000 ratio of each memory
figure. PostgreSQL is the suite's throwaway server (tests/pgserver.py, fsync off).
Target (issue 17): 20,000 rows checked and applied in <= 10 s, memory flat in the row count.

Times are wall seconds and CPU seconds: the bench process's (``time.process_time``) and, on
PostgreSQL, its server processes' (``/proc/<pid>/stat`` of the database's backends). On this
2-core machine shared with other work, wall time mostly says how loaded it is; CPU seconds
compare across runs. The first measured call also pays one-time costs (statements compiled,
translations loaded): compare sizes within a step. ``bench/profile_import.py`` shows where
the time goes.

Three runs (``--sizes 2000 20000 --rounds 1 --format csv --no-traced``) alternating with the
code before the bulk writes, medians, load 10-23; 20,000 rows, before -> after:
apply (check included) PostgreSQL 49.7 -> 15.4 s wall, CPU 7.87 + server 4.23 -> 2.42 + 2.38;
SQLite 29.5 -> 10.4 s wall, CPU 4.86 -> 2.54. Dry run: PostgreSQL 16.5 -> 9.8 s (CPU 3.67 +
2.07 -> 1.41 + 1.32), SQLite 14.0 -> 6.3 s (CPU 2.13 -> 1.44). Apply RSS growth 40.5 -> 3.4
MiB (PostgreSQL), 43.3 -> 5.5 MiB (SQLite); 0.9 / 2.6 MiB at 2,000 rows. One more pair at
load 6.3 (after, then before): apply PostgreSQL 9.06 s (CPU 2.43 + server 2.31) vs 19.59 s
(7.40 + 4.02), SQLite 5.59 s (2.54) vs 11.27 s (4.97); dry run 5.27 vs 10.61 s and 3.33 vs
4.88 s: the target met on both. On an idle machine the code before took 12.1 s on
PostgreSQL, about its CPU seconds: the 4.7 after should take about 5 s.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 10.0
BANKS = ["970436", "970418", "970422", "970407", "970415"]
NAMES = ["Nguyễn Thị Hoa", "Trần Văn Bình", "Lê Thị Thu", "Phạm Quốc Đạt", "Võ Thị Ánh"]
STEPS = ("upload", "apply")


def rows(count: int) -> list[list[str]]:
    from market.markets import importing
    from market.vietqr import transliterate

    table = [list(importing.HEADER)]
    for i in range(count):
        name = f"{NAMES[i % len(NAMES)]}"
        table.append(
            [
                f"S-{i:05d}",
                f"Khu {chr(65 + i % 8)}",
                "rau-cu" if i % 3 else "Thịt",
                "active",
                name,
                f"09{i:08d}",
                "" if i % 4 else f"{4600000000 + i:010d}",
                "có",
                BANKS[i % len(BANKS)],
                f"{1000000000 + i * 7}",
                "tai_khoan",
                transliterate(name).upper(),
            ]
        )
    return table


def make_file(count: int, fmt: str) -> bytes:
    from market.markets import importing

    table = rows(count)
    if fmt == "csv":
        return importing.to_csv(table)
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sap")
    for row in table:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _status_kib(name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    raise SystemExit(f"no {name} in /proc/self/status")


def _reset_peak() -> int:
    """Reset the process's peak RSS to its RSS now, and return that (KiB)."""
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmRSS")


def _backends(db) -> list[int]:
    """The process ids of the PostgreSQL server's processes serving this database (none for
    SQLite, which runs in the bench's own process): their CPU time is the import's too."""
    if db.engine.dialect.name != "postgresql":
        return []
    from sqlalchemy import text

    return list(
        db.session.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        )
    )


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of these processes so far (/proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def child(url: str, path: str, fmt: str, traced: bool) -> None:
    from flask_migrate import upgrade

    from market.app import create_app
    from market.auth.models import User
    from market.extensions import db
    from market.markets import importing
    from market.markets.models import ImportBatch, Market

    app = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        market = Market(code="TN-BENCH", name="Chợ Bench", district="TP. Thái Nguyên")
        manager = User(username="bench", full_name="Bench", role="manager", markets=[market])
        manager.password_hash = "!"  # noqa: S105 (no login: nothing matches it)
        db.session.add_all([market, manager])
        db.session.commit()
        market_id, manager_id = market.id, manager.id
        db.session.remove()
    content = Path(path).read_bytes()  # the upload: an input, not the import's memory
    count = int(Path(path).stem.rpartition("-")[2])
    if traced:
        tracemalloc.start()
    result: dict[str, float] = {"bytes": len(content)}
    batch_id = None
    for step in STEPS:
        with app.test_request_context():
            market, manager = db.session.get(Market, market_id), db.session.get(User, manager_id)
            if step == "apply":
                _stored = db.session.get(ImportBatch, batch_id).content  # loaded before, too
            rss_before = _reset_peak()
            if traced:
                tracemalloc.reset_peak()
                traced_before = tracemalloc.get_traced_memory()[0]
            backends = _backends(db)
            server_before = _cpu_seconds(backends)
            start, cpu_start = time.perf_counter(), time.process_time()
            if step == "upload":
                done = importing.upload(manager, market, f"bench.{fmt}", content)
            else:
                done = importing.apply_upload(manager, market, batch_id)
            result[f"{step}_s"] = time.perf_counter() - start
            result[f"{step}_cpu_s"] = time.process_time() - cpu_start
            result[f"{step}_server_cpu_s"] = _cpu_seconds(backends) - server_before
            result[f"{step}_rss_mib"] = (_status_kib("VmHWM") - rss_before) / 1024
            if traced:
                peak = tracemalloc.get_traced_memory()[1]
                result[f"{step}_traced_mib"] = (peak - traced_before) / 2**20
            if step == "upload":
                assert done.report.ok, done.report.errors[:3]
                batch_id = done.batch.id
            else:
                assert done.report.applied and done.report.stalls_created == count
            db.session.remove()
    print(json.dumps(result))


def measure(url: str, path: Path, fmt: str, *, traced: bool = False) -> dict:
    command = [sys.executable, __file__, "--child", url, str(path), fmt]
    if traced:
        command.append("--traced")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cpu(row: dict, step: str) -> str:
    """CPU seconds of a step: the app's, plus PostgreSQL's (its server processes)."""
    app, server = row[f"{step}_cpu_s"], row[f"{step}_server_cpu_s"]
    return f"{app:.2f} + server {server:.2f}" if row["db"] == "postgresql" else f"{app:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 20000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--format", default="csv,xlsx")
    parser.add_argument("--no-traced", dest="traced", action="store_false")
    parser.add_argument("--child", nargs=3, metavar=("URL", "FILE", "FORMAT"))
    parser.add_argument("--traced", dest="child_traced", action="store_true")
    args = parser.parse_args()
    if args.child:
        url, path, fmt = args.child
        child(url, path, fmt, args.child_traced)
        return

    results = []
    with tempfile.TemporaryDirectory() as workdir:
        files = {}
        for fmt in args.format.split(","):
            for size in args.sizes:
                files[fmt, size] = Path(workdir) / f"{fmt}-{size}"
                files[fmt, size].write_bytes(make_file(size, fmt))
        for kind in args.db.split(","):
            server = None
            if kind == "postgresql":
                from tests.pgserver import ThrowawayPostgres

                server = ThrowawayPostgres().start()
            counter = iter(range(10**6))

            def fresh_url(kind=kind, server=server, counter=counter) -> str:
                n = next(counter)
                if kind == "postgresql":
                    return server.create_database(f"bench_import_{n}")
                return f"sqlite:///{workdir}/bench-{n}.sqlite3"

            try:
                for fmt in args.format.split(","):
                    for size in args.sizes:
                        path = files[fmt, size]
                        runs = [measure(fresh_url(), path, fmt) for _ in range(args.rounds)]
                        row = {
                            "db": kind,
                            "format": fmt,
                            "rows": size,
                            "kib": runs[0]["bytes"] / 1024,
                            "load": os.getloadavg()[0],
                        }
                        for step in STEPS:
                            for key in (f"{step}_s", f"{step}_cpu_s", f"{step}_server_cpu_s"):
                                row[key] = statistics.median(r[key] for r in runs)
                            row[f"{step}_rss"] = max(r[f"{step}_rss_mib"] for r in runs)
                        if args.traced:
                            traced = measure(fresh_url(), path, fmt, traced=True)
                            for step in STEPS:
                                row[f"{step}_traced"] = traced[f"{step}_traced_mib"]
                        results.append(row)
                        print(
                            f"{kind:10} {fmt:4} {size:>6,} rows ({row['kib']:,.0f} KiB): "
                            f"upload (dry run) {row['upload_s']:.2f} s (CPU {_cpu(row, 'upload')}), "
                            f"apply {row['apply_s']:.2f} s (CPU {_cpu(row, 'apply')}); "
                            "the import's peak RSS growth "
                            f"+{row['upload_rss']:.1f} / +{row['apply_rss']:.1f} MiB"
                            + (
                                f", traced peak {row['upload_traced']:.1f} / "
                                f"{row['apply_traced']:.1f} MiB"
                                if args.traced
                                else ""
                            )
                            + f"; load {row['load']:.1f}",
                            flush=True,
                        )
            finally:
                if server is not None:
                    server.destroy()
    print()
    print(
        f"target: {TARGET_SECONDS:.0f} s to check and apply 20,000 rows (apply includes the "
        "check); memory flat in the row count"
    )
    for row in results:
        per_row = row["apply_s"] / row["rows"] * 1000
        verdict = ""
        if row["rows"] == 20000:
            verdict = ", target met" if row["apply_s"] <= TARGET_SECONDS else ", target MISSED"
        print(
            f"  {row['db']:10} {row['format']:4} {row['rows']:>6,}: apply {row['apply_s']:.2f} s "
            f"({per_row:.2f} ms/row{verdict}); upload+apply "
            f"{row['upload_s'] + row['apply_s']:.2f} s"
        )
    sizes = sorted(args.sizes)
    if len(sizes) > 1:
        low, high = sizes[0], sizes[-1]
        print(f"\nthe import's own memory (upload / apply), MiB; ratio {high:,} / {low:,} rows:")
        figures = [("rss", "peak RSS growth")]
        if args.traced:
            figures.append(("traced", "tracemalloc peak"))
        for kind in args.db.split(","):
            for fmt in args.format.split(","):
                by_size = {r["rows"]: r for r in results if (r["db"], r["format"]) == (kind, fmt)}
                for key, label in figures:
                    cells = ", ".join(
                        f"{size:,}: {by_size[size][f'upload_{key}']:.1f} / "
                        f"{by_size[size][f'apply_{key}']:.1f}"
                        for size in sizes
                    )
                    ratios = " / ".join(
                        f"{by_size[high][f'{step}_{key}'] / by_size[low][f'{step}_{key}']:.2f}"
                        for step in STEPS
                    )
                    print(f"  {kind:10} {fmt:4} {label:16} {cells}; ratio {ratios}")


if __name__ == "__main__":
    main()
