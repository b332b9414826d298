"""Values of the fees domain that need no database: billing periods and payment references.

>>> parse_period("2026-11")
Period(key='2026-11', cycle='monthly', start=datetime.date(2026, 11, 1), end=datetime.date(2026, 11, 30))
>>> parse_period("2026-11-05").cycle
'daily'
>>> parse_period("2026-11").previous().key
'2026-10'
>>> is_reference("CPAB23CD45") and not is_reference("CPAB23CD4O")
True
>>> find_reference("NGUYEN THI HOA chuyen tien CPAB23CD45 FT2611")
'CPAB23CD45'
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "REFERENCE_ALPHABET",
    "REFERENCE_PREFIX",
    "Period",
    "find_reference",
    "is_reference",
    "new_reference",
    "parse_period",
]

#: Every bill's payment reference starts with these letters ("Chợ, phí"): a reader of a bank
#: statement, and the reconciliation reading a transfer's free-text content, find it there.
REFERENCE_PREFIX = "CP"
#: Capital letters and digits without the look-alikes 0/O and 1/I: the reference may be typed
#: by hand into a bank app. 32 symbols, 8 of them: 2^40 references.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = len(REFERENCE_PREFIX) + 8
_REFERENCE = re.compile(rf"{REFERENCE_PREFIX}[{REFERENCE_ALPHABET}]{{8}}")
# Banks upper-case and strip the content; a reference may be glued to other words.
_IN_TEXT = re.compile(rf"(?<![A-Z0-9]){REFERENCE_PREFIX}[{REFERENCE_ALPHABET}]{{8}}(?![A-Z0-9])")


def new_reference() -> str:
    """A new random payment reference (uniqueness is the database's to enforce): 40 random
    bits, five bits a symbol."""
    bits = int.from_bytes(secrets.token_bytes(5), "big")
    return REFERENCE_PREFIX + "".join(
        REFERENCE_ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5)
    )


def is_reference(text: str) -> bool:
    return bool(_REFERENCE.fullmatch(text))


def find_reference(content: str) -> str | None:
    """The first bill reference in a transfer's content (case and spacing as banks send it),
    or None. For the reconciliation of transfers to bills."""
    found = _IN_TEXT.search(content.upper())
    return found.group(0) if found else None


@dataclass(frozen=True)
class Period:
    """A billing period: a month (``YYYY-MM``, monthly fees) or a day (``YYYY-MM-DD``)."""

    key: str
    cycle: str  # "monthly" | "daily"
    start: date
    end: date

    def previous(self) -> Period:
        if self.cycle == "daily":
            return _day(self.start - timedelta(days=1))
        return _month((self.start - timedelta(days=1)).replace(day=1))

    def default_due_date(self) -> date:
        """The 10th of the month for monthly fees; the day itself for daily ones."""
        return self.start + timedelta(days=9) if self.cycle == "monthly" else self.start


class InvalidPeriod(ValueError):
    def __init__(self, text: object) -> None:
        self.text = text
        super().__init__(f"{text!r} is not a period: YYYY-MM (a month) or YYYY-MM-DD (a day)")


_PERIOD = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")


def parse_period(text: str) -> Period:
    """``YYYY-MM`` or ``YYYY-MM-DD``; raises :class:`InvalidPeriod` (a ValueError) otherwise."""
    found = _PERIOD.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is None:
        raise InvalidPeriod(text)
    year, month, day = found.groups()
    try:
        start = date(int(year), int(month), int(day or 1))
    except ValueError as exc:
        raise InvalidPeriod(text) from exc
    if not 2000 <= start.year <= 2099:
        raise InvalidPeriod(text)
    return _day(start) if day else _month(start)


def _month(start: date) -> Period:
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period(start.strftime("%Y-%m"), "monthly", start, following - timedelta(days=1))


def _day(start: date) -> Period:
    return Period(start.isoformat(), "daily", start, start)


def month_of(day: date) -> Period:
    return _month(day.replace(day=1))
