"""How the app uses its database connections: SQLite files in write-ahead-log mode, and
pooled server connections checked only when they may have gone stale.

SQLite's default rollback journal makes every reader wait while a writer commits, and every
commit sync the journal and the file. In WAL mode (a property of the file, set once) pages
keep reading while a webhook writes, and a commit is one append to the log. ``synchronous``
stays at its default, FULL: the log is synced at every commit, so a notification answered
"stored" survives a power cut, not only a crash of the app.

SQLAlchemy's ``pool_pre_ping`` sends a ``SELECT 1`` every time a connection leaves the pool:
one extra round trip on every request, which is a large share of a bank notification's cost
(a webhook is one read and one write). A connection that was in use a moment ago is as good as
one just pinged, so this pings only a connection that has sat idle in the pool for longer
than ``after`` seconds: a quiet night, a database restart or a fail-over are caught before a
request uses a dead connection, and a busy worker pays nothing.

A connection that dies while in active use (the database restarts mid-burst) fails that one
statement; SQLAlchemy then sees the disconnect, discards it and every connection the pool
handed out before it, and the next request connects afresh. Webhooks answer 503 for that
statement, so the bank retries (tests/payments/test_payments_faults.py), and pages recover
by themselves (tests/scaleout/test_recovery.py).
"""

from __future__ import annotations

import fcntl
import functools
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, any_, bindparam, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.sql import Executable

#: Seconds a pooled connection may sit unused before it is pinged on its next checkout.
PING_AFTER_IDLE = 1.0

_RETURNED = "market.returned_at"


def enforce_foreign_keys(engine: Engine) -> None:
    """Have SQLite check foreign keys, as PostgreSQL does, on every connection.

    SQLite ignores them unless each connection asks (``PRAGMA foreign_keys``): a payee account
    could name a stall that is gone, and ``ON DELETE CASCADE`` / ``SET NULL`` would do nothing
    on the embedded default while they act in production. Migrations turn it off while they
    rebuild tables, and check the whole file before they finish (migrations/env.py)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection, record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()


def use_write_ahead_log(engine: Engine) -> None:
    """Switch a SQLite database file to WAL when the app first connects to it."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection, record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except engine.dialect.loaded_dbapi.OperationalError:
            pass  # another process holds the file mid-transaction: it switched it, or will
        finally:
            cursor.close()


def ping_idle_connections(engine: Engine, after: float = PING_AFTER_IDLE) -> None:
    """Ping a connection on checkout only if it was returned to the pool over ``after``
    seconds ago; a dead one is replaced before the request sees it."""
    if engine.dialect.name == "sqlite":
        return  # a file, not a server: nothing can go away between two requests

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        returned = record.info.get(_RETURNED)
        if returned is None or time.monotonic() - returned <= after:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError(f"idle connection no longer answers: {exc}") from exc


#: One open lock file per (process, database file): flock() locks belong to an open file, so
#: a descriptor inherited across a fork would let parent and child hold the lock at once.
_TURN_FILES: dict[tuple[int, str], int] = {}


@contextmanager
def sqlite_write_turn(engine: Engine) -> Iterator[None]:
    """Take a turn before writing to a SQLite file, across all processes of the app.

    SQLite lets one writer in at a time. Another that finds the file locked sleeps and polls
    (its busy handler waits 1, 2, 5, 10, … ms), so under a burst of webhooks a waiting worker
    sleeps far longer than the write it waits for, and the tail latency grows to seconds.
    Writers that take a turn here queue on an OS file lock instead, which wakes the next one
    the moment the current one is done. Writers that do not (pages) still meet SQLite's own
    lock, as before."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        yield
        return
    key = (os.getpid(), database)
    descriptor = _TURN_FILES.get(key)
    if descriptor is None:
        descriptor = _TURN_FILES[key] = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)


class DriverStatement:
    """A Core statement compiled once for a dialect and run on the driver's own cursor.

    ``Connection.execute`` works out the statement's cache key on every call (for a large
    statement, a nested tuple hashed each time), builds an execution context and wraps the
    result. For the one statement a bank's burst of webhooks runs thousands of times, that
    was about a quarter of the worker's time per notification (bench/bench_webhooks.py). This
    keeps what matters of it: the SQL and the order of its parameters are SQLAlchemy's own
    compilation, and values go through the column types' bind processors, as they would
    there. What it does not do: fire the engine's statement events, or turn the driver's
    errors into SQLAlchemy's (the caller handles those, and invalidates a connection that
    the server dropped: market.payments.services)."""

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a statement whose SQL changes per execution cannot be prepared")
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Values SQLAlchemy works out per execution (a column's Python-side default or
            # onupdate): run here they would be NULL, so such a statement is refused.
            raise ValueError("a statement that needs a column's Python-side default")
        self.sql: str = compiled.string
        self._compiled = compiled
        # The names in the order of the SQL's "?" (SQLite), or None for named parameters.
        self._positions = compiled.positiontup
        self._processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            # The dialect's own type (SQLite's DATETIME writes its text format; the generic
            # DateTime would leave the value to the driver's adapter, in another format).
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[name] = processor

    def parameters(self, values: dict[str, Any]) -> dict[str, Any] | list[Any]:
        bound = self._compiled.construct_params(values)
        for name, processor in self._processors.items():
            if name in bound:
                bound[name] = processor(bound[name])
        if self._positions is None:
            return bound
        return [bound[name] for name in self._positions]

    def execute(self, cursor: Any, values: dict[str, Any]) -> list[Any]:
        """Run on ``cursor`` (a driver cursor) with ``values`` by parameter name; returns the
        rows it returns, all of them: SQLite refuses to commit while a statement that
        returns rows has not been read to its end, and SQLAlchemy compiles some inserts
        with a RETURNING of their own (for the primary key it would report)."""
        cursor.execute(self.sql, self.parameters(values))
        return cursor.fetchall() if cursor.description is not None else []


@functools.lru_cache(maxsize=64)
def driver_statement(statement: Executable, dialect: Dialect) -> DriverStatement:
    """``statement`` compiled for ``dialect`` (each engine has its own), once."""
    return DriverStatement(statement, dialect)


def insert_rows(session: Any, table: Any, rows: list[dict[str, Any]], *, ids: bool = False):
    """Insert ``rows`` (dicts of column values, all with the same keys) into ``table`` in the
    session's transaction; with ``ids``, return the new rows' ids in the order of ``rows``.

    The bulk import's writes: tens of thousands of rows in one request. ``execute`` with a
    list of rows is an ``executemany`` that SQLAlchemy prepares row by row in Python (the
    parameters, each value's bind processor: most of a 20,000-row import's time on SQLite),
    that psycopg then sends row by row in a pipeline, dumping and parsing each in Python, and
    whose ids have to be read back by a second query with an ``IN (…)`` list. Here the
    column types' bind processors run once per distinct value (a batch's timestamps are all
    the same), and the rows go to the driver at once: on PostgreSQL by one ``COPY … FROM
    STDIN``, with the ids taken from the table's sequence in one query before; on SQLite by
    the driver's ``executemany`` (a loop in C), and the ids are the last ``n`` rowids:
    SQLite gives a new row the largest rowid plus one, and a transaction that writes holds
    the only write lock until it ends, so a batch's rowids are consecutive.

    What it gives up: no ORM events or objects (the session does not know these rows), no
    statement events, and a column's Python-side default is worked out once per call, not
    per row (one ``created_at`` for the whole batch), unless it reads the row's own values
    (then per row, from them). Driver errors are re-raised as
    SQLAlchemy's (``IntegrityError`` for a broken constraint), as ``execute`` would."""
    if not rows:
        return [] if ids else None
    if session.autoflush:
        session.flush()  # what the session holds goes first, as execute() would do
    connection = session.connection()
    dialect = connection.dialect
    if (dialect.name, dialect.driver) not in _BULK_DRIVERS:
        return _insert_rows_portably(connection, table, rows, ids=ids)
    postgresql = dialect.name == "postgresql"
    keys = list(rows[0])
    defaults = {}
    # Callable defaults that read the row (``context.get_current_parameters()``, like
    # merchants.name_folded): worked out per row, from the row's own values.
    row_defaults = []
    for column in table.columns:
        if column.key in keys or column.primary_key or column.default is None:
            continue
        if column.default.is_scalar:
            defaults[column.key] = column.default.arg
        elif column.default.is_callable:
            try:
                defaults[column.key] = column.default.arg(None)
            except AttributeError:  # it asked the (absent) context for the row
                row_defaults.append((column.key, column.default.arg))

    def processor(name: str) -> Callable[[Any], Any] | None:
        return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    fixed = []
    for name, value in defaults.items():
        process = processor(name)
        fixed.append(process(value) if process is not None and value is not None else value)
    # (position in a row's values, bind processor, its results by value or None for JSON)
    converters = []
    for position, name in enumerate(keys):
        process = processor(name)
        if process is not None:
            cached = None if isinstance(table.c[name].type, JSON) else {}
            converters.append((position, process, cached))

    row_processors = [(name, arg, processor(name)) for name, arg in row_defaults]

    def values_of(row: dict[str, Any]) -> list[Any]:
        values = [row[key] for key in keys]
        if row_processors:
            context = _RowContext(row)
            for _name, arg, process in row_processors:
                value = arg(context)
                values.append(
                    process(value) if process is not None and value is not None else value
                )
        for position, process, cached in converters:
            value = values[position]
            if value is None:
                continue
            if cached is None:
                values[position] = process(value)
            elif value in cached:
                values[position] = cached[value]
            else:
                values[position] = cached[value] = process(value)
        return [*fixed, *values] if fixed else values

    names = [*defaults, *keys, *(name for name, _arg in row_defaults)]
    new_ids = None
    if ids and postgresql:
        new_ids = list(
            connection.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) "
                "FROM generate_series(1, %(n)s)",
                {"table": table.name, "n": len(rows)},
            ).scalars()
        )
        names = ["id", *names]
    preparer = dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in names)
    target = preparer.format_table(table)
    driver = connection.connection.driver_connection
    sql = f"COPY {target} ({columns}) FROM STDIN"
    try:
        if postgresql:
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                for index, row in enumerate(rows):
                    values = values_of(row)
                    copy.write_row([new_ids[index], *values] if new_ids is not None else values)
            return new_ids
        # The table's own quoted names, no input: the values go as parameters.
        marks = ", ".join("?" * len(names))
        sql = f"INSERT INTO {target} ({columns}) VALUES ({marks})"  # noqa: S608
        cursor = driver.cursor()
        try:
            cursor.executemany(sql, map(values_of, rows))
            if not ids:
                return None
            last = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
        finally:
            cursor.close()
        return list(range(last - len(rows) + 1, last + 1))
    except dialect.loaded_dbapi.Error as exc:
        integrity = isinstance(exc, dialect.loaded_dbapi.IntegrityError)
        wrapped = sa_exc.IntegrityError if integrity else sa_exc.DBAPIError
        raise wrapped(sql, None, exc) from exc


class _RowContext:
    """What a context-sensitive column default reads when :func:`insert_rows` fills a row."""

    __slots__ = ("row",)

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.row


#: The drivers ``insert_rows`` talks to directly: psycopg 3 (``COPY``) and sqlite3.
_BULK_DRIVERS = {("postgresql", "psycopg"), ("sqlite", "pysqlite")}


def _insert_rows_portably(connection: Any, table: Any, rows: list[dict[str, Any]], *, ids: bool):
    """``insert_rows`` through SQLAlchemy alone, for another driver (a ``DATABASE_URL`` that
    names psycopg2, say): slower, the same result."""
    if not ids:
        connection.execute(table.insert(), rows)
        return None
    statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return list(connection.execute(statement, rows).scalars())


def one_of(session: Any, column: Any, values: list[Any]) -> Any:
    """``column IN (values)`` for the bulk import's long lists (thousands of values).

    An ``IN`` list is a placeholder per value, and psycopg turns each statement's
    placeholders into PostgreSQL's with a regular expression, in Python, again for every
    statement too long for its cache: a few milliseconds per 2,000 values, per query. On
    PostgreSQL this is ``column = ANY(array)`` with one array parameter instead."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
