"""The time windows of the adoption figures, in Vietnam's calendar. Pure: standard library only.

Every day, week and month is a calendar period of Asia/Ho_Chi_Minh (UTC+7 all year: Vietnam
has had no daylight saving time since 1975), whatever the server's zone.

* **Last 30 days**: the 30 Vietnam calendar days ending today, today included. A payment at
  00:00:00 Vietnam time on the first of those days counts; one at 23:59:59 the day before
  does not.
* **Weeks**: ISO weeks (Monday to Sunday) in Vietnam time; the current week is the last one,
  still running.
* **Months**: calendar months in Vietnam time; the current month is the last one.

>>> today = date(2026, 3, 4)
>>> last_30_days(today)
Period(start=datetime.date(2026, 2, 3), end=datetime.date(2026, 3, 5))
>>> [str(p.start) for p in iso_weeks(today, 3)]
['2026-02-16', '2026-02-23', '2026-03-02']
>>> [str(p.start) for p in months(today, 3)]
['2026-01-01', '2026-02-01', '2026-03-01']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "VIETNAM",
    "WINDOW_DAYS",
    "Period",
    "days",
    "iso_weeks",
    "last_30_days",
    "months",
    "utc_start_of",
    "vietnam_date",
]

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class Period:
    """The calendar days ``start`` <= day < ``end``."""

    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)


def vietnam_date(moment: datetime) -> date:
    """The Vietnam calendar date of an instant; a naive datetime is UTC (as SQLite gives it
    back).

    >>> vietnam_date(datetime(2026, 3, 3, 17, 0, tzinfo=UTC))
    datetime.date(2026, 3, 4)
    >>> vietnam_date(datetime(2026, 3, 3, 16, 59, 59))
    datetime.date(2026, 3, 3)
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM).date()


def utc_start_of(day: date) -> datetime:
    """00:00 Vietnam time on ``day``, as a UTC instant (what the database stores).

    >>> utc_start_of(date(2026, 3, 4))
    datetime.datetime(2026, 3, 3, 17, 0, tzinfo=datetime.timezone.utc)
    """
    return datetime.combine(day, time.min, tzinfo=VIETNAM).astimezone(UTC)


def last_30_days(today: date) -> Period:
    return Period(today - timedelta(days=WINDOW_DAYS - 1), today + timedelta(days=1))


def days(today: date, count: int = WINDOW_DAYS) -> list[Period]:
    """The last ``count`` days, oldest first, today last."""
    return [
        Period(day, day + timedelta(days=1))
        for day in (today - timedelta(days=n) for n in range(count - 1, -1, -1))
    ]


def iso_weeks(today: date, count: int) -> list[Period]:
    """The last ``count`` ISO weeks, oldest first; the last one contains ``today``."""
    monday = today - timedelta(days=today.weekday())
    return [
        Period(monday - timedelta(weeks=n), monday - timedelta(weeks=n - 1))
        for n in range(count - 1, -1, -1)
    ]


def months(today: date, count: int) -> list[Period]:
    """The last ``count`` calendar months, oldest first; the last one contains ``today``.

    >>> months(date(2026, 1, 31), 2)
    [Period(start=datetime.date(2025, 12, 1), end=datetime.date(2026, 1, 1)), \
Period(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))]
    """
    starts = []
    first = today.replace(day=1)
    for _ in range(count):
        starts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return [Period(start, _next_month(start)) for start in reversed(starts)]


def _next_month(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
