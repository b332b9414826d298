"""How money, dates and times are shown: Vietnamese conventions, Asia/Ho_Chi_Minh time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import get_locale

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _locale() -> str:
    try:
        return str(get_locale() or "vi")
    except RuntimeError:  # outside a request
        return "vi"


def number(amount: int) -> str:
    """``25000`` -> ``'25.000'`` in Vietnamese, ``'25,000'`` in English: the reader's own
    thousands separator (an English voice reads "25.000" as twenty-five point zero)."""
    grouped = f"{int(amount):,}"
    return grouped.replace(",", ".") if _locale() == "vi" else grouped


def group_separator() -> str:
    """The thousands separator :func:`number` uses, for scripts that group as you type."""
    return "." if _locale() == "vi" else ","


def money(amount: int | None) -> str:
    """``25000`` -> ``'25.000 ₫'`` (dong have no minor unit)."""
    if amount is None:
        return "—"
    return f"{number(amount)} ₫"


def date_vn(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value.strftime("%d/%m/%Y")


def datetime_vn(value: datetime | None) -> str:
    if value is None:
        return "—"
    return to_local(value).strftime("%d/%m/%Y %H:%M")


def to_local(value: datetime) -> datetime:
    """Stored datetimes are UTC (SQLite drops the zone, so a naive one is UTC too)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(VN_TZ)
