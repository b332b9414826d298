"""How the app uses its connections (market/database.py): SQLite files in WAL mode with every
commit synced, and pooled PostgreSQL connections pinged only after sitting idle."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from market.database import PING_AFTER_IDLE
from market.extensions import db


def test_sqlite_file_is_in_wal_mode_and_every_commit_is_synced(app, db_kind):
    if db_kind != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # FULL (2): a notification answered "stored" survives a power cut, not only a crash.
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar()


@pytest.fixture
def pings(app, db_kind, monkeypatch):
    if db_kind != "postgresql":
        pytest.skip("a server connection can go away; a SQLite file cannot")
    calls = []
    real = db.engine.dialect.do_ping

    def counted(dbapi_connection):
        calls.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counted)
    return calls


def test_a_connection_in_use_a_moment_ago_is_not_pinged(pings):
    first = _backend_pid(db.engine)
    for _ in range(5):
        assert _backend_pid(db.engine) == first  # the same pooled connection, reused
    assert pings == []


def test_an_idle_connection_is_pinged_before_use(pings):
    first = _backend_pid(db.engine)
    time.sleep(PING_AFTER_IDLE + 0.2)
    assert _backend_pid(db.engine) == first
    assert len(pings) == 1


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(pings, db_url):
    first = _backend_pid(db.engine)
    # The server ends that session, as a restart or a fail-over would.
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(
            text("SELECT pg_terminate_backend(:pid)"), {"pid": first}
        ).scalar()
    admin.dispose()
    time.sleep(PING_AFTER_IDLE + 0.2)
    # The ping finds it dead; the request gets a fresh connection instead of an error.
    assert _backend_pid(db.engine) != first
    assert len(pings) >= 1
