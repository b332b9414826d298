"""How the app uses its connections (market/database.py): SQLite files in WAL mode with every
commit synced and foreign keys checked, and pooled PostgreSQL connections pinged only after
sitting idle."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import flask_migrate
import pytest
from sqlalchemy import bindparam, create_engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from market.database import PING_AFTER_IDLE, DriverStatement
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants.models import Merchant


def test_sqlite_file_is_in_wal_mode_and_every_commit_is_synced(app, db_kind):
    if db_kind != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # FULL (2): a notification answered "stored" survives a power cut, not only a crash.
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def _market_with_stall_of(merchant: Merchant) -> tuple[Market, Stall]:
    market = Market(code="FK-01", name="Chợ thử khóa ngoại", district="Phổ Yên")
    stall = Stall(market=market, code="K-01", merchant=merchant)
    db.session.add_all([market, stall])
    db.session.commit()
    return market, stall


def _a_stall_of_no_market_is_refused() -> None:
    db.session.add(Stall(market_id=999_999, code="K-01"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(Stall.id)) is None


def test_a_row_pointing_at_nothing_is_refused_on_both_databases(app):
    # Before, SQLite took it silently while PostgreSQL refused it.
    _a_stall_of_no_market_is_refused()


def test_deleting_acts_on_what_points_at_it_as_on_postgresql(app):
    merchant = Merchant(full_name="Người bán thử", phone="0912000111")
    market, stall = _market_with_stall_of(merchant)
    stall_id = stall.id
    # ON DELETE SET NULL: the stall stays, without its merchant.
    db.session.execute(text("DELETE FROM merchants WHERE id = :id"), {"id": merchant.id})
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Stall, stall_id).merchant_id is None
    # ON DELETE CASCADE: the market's stalls go with it.
    db.session.execute(text("DELETE FROM markets WHERE id = :id"), {"id": market.id})
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Stall, stall_id) is None


def test_migrating_hands_back_connections_that_check_foreign_keys(app, db_kind):
    if db_kind != "sqlite":
        pytest.skip("SQLite only: PostgreSQL always checks them")
    # Migrations turn the check off on their connection while they rebuild tables
    # (migrations/env.py); the pool must not hand that connection out still unchecked.
    flask_migrate.upgrade()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    _a_stall_of_no_market_is_refused()


def test_migrating_a_file_with_rows_pointing_at_nothing_still_starts(app, db_kind):
    if db_kind != "sqlite":
        pytest.skip("SQLite only: PostgreSQL never let such rows in")
    # A file from before the app checked foreign keys may hold rows pointing at nothing: the
    # migration reports them (a warning) and goes on, instead of refusing to start the app;
    # it refuses only rows its own changes would leave pointing at nothing.
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.execute(
            text(
                "INSERT INTO stalls (market_id, code, zone, category, status, "
                "created_at) VALUES (999999, 'K-09', '', 'khac', 'active', "
                "'2026-01-01 00:00:00.000000')"
            )
        )
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    flask_migrate.upgrade()
    assert db.session.scalar(select(Stall.code).where(Stall.market_id == 999_999)) == "K-09"
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar()


@pytest.fixture
def pings(app, db_kind, monkeypatch):
    if db_kind != "postgresql":
        pytest.skip("a server connection can go away; a SQLite file cannot")
    # A pool as a worker starts with: the suite's app has served other tests, and its pool
    # may hold several idle connections, which it hands out in turn.
    db.engine.dispose()
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


def test_a_driver_statement_stores_what_sqlalchemy_would(app):
    # Compiled by SQLAlchemy, run on the driver's cursor (the webhook's hot path): the same
    # parameters in the SQL's order (SQLite's are positional), through the column types'
    # bind processors (SQLite stores dates and times as text), so the ORM reads back the
    # values it was given.
    statement = insert(Market.__table__).values(
        code=bindparam("code"),
        name=bindparam("name"),
        district=bindparam("name"),  # one parameter in two places
        commune=bindparam("empty"),
        address=bindparam("empty"),
        status=bindparam("status"),
        launch_date=bindparam("day"),
        created_at=bindparam("at"),
    )
    prepared = DriverStatement(statement, db.engine.dialect)
    at = datetime(2026, 11, 27, 2, 30, 15, 123456, tzinfo=UTC)
    pooled = db.engine.raw_connection()
    try:
        cursor = pooled.dbapi_connection.cursor()
        prepared.execute(
            cursor,
            {
                "code": "DS-01",
                "name": "Chợ Đồng Hỷ",
                "empty": "",
                "status": "live",
                "day": date(2026, 1, 5),
                "at": at,
            },
        )
        cursor.close()
        pooled.dbapi_connection.commit()
    finally:
        pooled.close()
    # Stored as the ORM stores the same values (on SQLite, the very same text).
    db.session.add(
        Market(
            code="DS-00", name="Chợ", district="Chợ", launch_date=date(2026, 1, 5), created_at=at
        )
    )
    db.session.commit()
    stored = db.session.execute(
        text("SELECT created_at, launch_date FROM markets ORDER BY code")
    ).all()
    assert stored[0] == stored[1]
    market = db.session.scalar(select(Market).where(Market.code == "DS-01"))
    assert (market.name, market.district, market.launch_date) == (
        "Chợ Đồng Hỷ",
        "Chợ Đồng Hỷ",
        date(2026, 1, 5),
    )
    assert market.created_at.replace(tzinfo=UTC) == at


def test_a_statement_the_driver_alone_would_get_wrong_is_refused(app):
    # An expanding IN writes its SQL per execution; a column left to its Python-side
    # default (markets.commune, created_at) gets its value from SQLAlchemy per execution.
    expanding = select(Market.id).where(Market.code.in_(bindparam("codes", expanding=True)))
    with pytest.raises(ValueError, match="changes per execution"):
        DriverStatement(expanding, db.engine.dialect)
    defaults = insert(Market.__table__).values(code="DS-02", name="Chợ", district="Phú Lương")
    with pytest.raises(ValueError, match="Python-side default"):
        DriverStatement(defaults, db.engine.dialect)
