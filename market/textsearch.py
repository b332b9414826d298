"""Searching text the way people type it: without diacritics, in any case.

"nguyen thi hoa", "NGUYỄN THỊ HOA" and "Nguyễn Thị Hoa" find the same merchant. Both sides
are folded: the typed text in Python (``fold_text``), the searched text either stored folded
(merchants' names: ``Merchant.name_folded``, ``stored_contains``), plain ASCII that only
needs lower case (stall codes, account holders: ``ascii_contains``), or folded in SQL
(``contains_folded``: PostgreSQL's built-in ``translate(lower(…))`` and a function SQLite
learns on every connection, ``register_fold``). Folding in SQL costs 25-45x a plain LIKE
on PostgreSQL and 3-5x on SQLite (bench/bench_search.py): it is kept for small tables (the
markets), and large ones store their fold.

>>> fold_text("Nguyễn THỊ Đào"), fold_text("C-001")
('nguyen thi dao', 'c-001')
"""

from __future__ import annotations

import functools
import unicodedata

from sqlalchemy import event, func, literal
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import String

from market.vietqr import transliterate

__all__ = ["contains_folded", "fold_text", "folded", "register_fold"]

_SQLITE_FUNCTION = "market_fold"


def fold_text(text: str | None) -> str:
    """``text`` in NFC, without diacritics (đ -> d), lower case."""
    return transliterate(unicodedata.normalize("NFC", text or "")).lower()


@functools.cache
def _translation() -> tuple[str, str]:
    """Every accented Latin letter (both cases) and its folded ASCII letter, for SQL's
    ``translate``: Latin-1, Latin Extended-A/B and Vietnamese's Latin Extended Additional."""
    source, target = [], []
    for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        ch = chr(code)
        plain = fold_text(ch)
        if len(plain) == 1 and plain.isascii() and plain.isalpha() and plain != ch:
            source.append(ch)
            target.append(plain)
    return "".join(source), "".join(target)


class folded(GenericFunction):
    """The folded text of a column, in SQL: ``folded(Merchant.full_name)``."""

    type = String()
    inherit_cache = True
    name = "folded"


@compiles(folded, "sqlite")
def _folded_sqlite(element, compiler, **kw) -> str:
    return f"{_SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(folded)
def _folded_default(element, compiler, **kw) -> str:
    source, target = _translation()
    # lower() folds ASCII whatever the database's locale; translate() takes both cases of
    # every accented letter, so the C locale (which leaves "Ễ" alone) folds too.
    expression = func.translate(
        func.lower(*element.clauses), literal(source, String()), literal(target, String())
    )
    return compiler.process(expression, **kw)


def contains_folded(column, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, both folded (``%`` and ``_`` in ``text`` are literal)."""
    return folded(column).contains(fold_text(text), autoescape=True)


def stored_contains(folded_column, text: str) -> ColumnElement[bool]:
    """A column that stores its text folded (``fold_text``) contains ``text`` folded."""
    return folded_column.contains(fold_text(text), autoescape=True)


def ascii_contains(column, text: str) -> ColumnElement[bool]:
    """An ASCII column (stall codes, account holders) contains ``text`` folded: SQL's
    ``lower`` folds ASCII on every database and locale."""
    return func.lower(column).contains(fold_text(text), autoescape=True)


def register_fold(engine: Engine) -> None:
    """Teach every SQLite connection of ``engine`` the fold (PostgreSQL has it built in)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _fold(dbapi_connection, record) -> None:
        dbapi_connection.create_function(_SQLITE_FUNCTION, 1, _fold_or_none, deterministic=True)


def _fold_or_none(value: str | None) -> str | None:
    return None if value is None else fold_text(value)
