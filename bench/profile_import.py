"""Where a registry import's time goes: the statements it sends and a cProfile of each step.

Run: ``.venv/bin/python bench/profile_import.py [--db postgresql] [--rows 20000] [--top 40]``

Not a benchmark (cProfile slows Python code down, not the database's): it says what to look
at. It makes one file as bench/bench_import.py does (new stalls, each with a new merchant and a
payee account), imports it into a fresh database (the suite's throwaway PostgreSQL server, or
an SQLite file) the way the pages do (``importing.upload``, then ``importing.apply_upload``),
and prints, for each step, the statements SQLAlchemy sent (how many times each, and how many
rows their executemany carried: a pg_stat_statements of the client's side) and the functions
that took the most cumulative time. Rows written by ``market.database.insert_rows`` go to the
driver directly (COPY on PostgreSQL): counted in its own line, not as statements.

Found with it (20,000 rows, PostgreSQL): before the bulk path, the apply sent 586 statements,
and 210 of them were executemany that carried 180,000 rows one by one through psycopg's
pipeline, then read every id back with a 2,000-value IN list parsed in Python; the codes step
loaded 20,000 User objects and their markets. After: 126 statements, 180,000 rows by 90 COPY.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import event

    from bench.bench_import import make_file
    from market import database
    from market.app import create_app
    from market.auth.models import User
    from market.extensions import db
    from market.markets import importing
    from market.markets.models import Market

    content = make_file(args.rows, "csv")
    server = None
    with tempfile.TemporaryDirectory() as workdir:
        if args.db == "postgresql":
            from tests.pgserver import ThrowawayPostgres

            server = ThrowawayPostgres().start()
            url = server.create_database("profile_import")
        else:
            url = f"sqlite:///{workdir}/profile.sqlite3"
        try:
            app = create_app(
                {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False}
            )
            statements: collections.Counter[str] = collections.Counter()
            rows: collections.Counter[str] = collections.Counter()
            with app.app_context():
                upgrade()
                market = Market(code="TN-BENCH", name="Chợ Bench", district="TP. Thái Nguyên")
                manager = User(username="bench", full_name="Bench", role="manager")
                manager.markets = [market]
                manager.password_hash = "!"  # noqa: S105 (no login: nothing matches it)
                db.session.add_all([market, manager])
                db.session.commit()
                market_id, manager_id = market.id, manager.id

                @event.listens_for(db.engine, "before_cursor_execute")
                def count(_conn, _cursor, statement, parameters, _context, executemany):
                    key = " ".join(statement.split())[:100]
                    statements[key] += 1
                    rows[key] += len(parameters) if executemany else 1

                db.session.remove()

            bulk = collections.Counter()
            insert_rows = database.insert_rows

            def counted(session, table, batch, **kwargs):
                bulk[table.name] += len(batch)
                bulk["(calls)"] += 1
                return insert_rows(session, table, batch, **kwargs)

            for name in (
                "markets.importing",
                "auth.services",
                "audit.services",
                "merchants.services",
            ):
                sys.modules[f"market.{name}"].insert_rows = counted  # where it was imported

            batch_id = None
            for step in ("upload", "apply"):
                statements.clear()
                rows.clear()
                bulk.clear()
                with app.test_request_context():
                    market = db.session.get(Market, market_id)
                    manager = db.session.get(User, manager_id)
                    profile = cProfile.Profile()
                    start = time.perf_counter()
                    profile.enable()
                    if step == "upload":
                        done = importing.upload(manager, market, "bench.csv", content)
                        batch_id = done.batch.id
                    else:
                        done = importing.apply_upload(manager, market, batch_id)
                    profile.disable()
                    took = time.perf_counter() - start
                    db.session.remove()
                print(f"\n=== {step}: {took:.2f} s under cProfile, {statements.total()} statements")
                for key, times in statements.most_common(25):
                    print(f"  {times:5} x {rows[key]:6} rows  {key}")
                print(f"  bulk inserts: {dict(bulk)}")
                pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
        finally:
            if server is not None:
                server.destroy()


if __name__ == "__main__":
    main()
