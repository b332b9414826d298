"""How money, dates and times are shown: Vietnamese conventions, Asia/Ho_Chi_Minh time."""

from __future__ import annotations

import unicodedata
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


# --- Vietnamese alphabetical order -----------------------------------------------------------

#: The Vietnamese alphabet in order (ă, â after a; đ after d; ê after e; ô, ơ after o; ư after
#: u), with the letters it lacks (f, j, w, z) where the Latin alphabet has them, for names
#: borrowed from other languages.
_ALPHABET = tuple("aăâbcdđeêfghijklmnoôơpqrstuưvwxyz")
_LETTER_RANK = {letter: 100 + i for i, letter in enumerate(_ALPHABET)}
#: Combining marks that make a letter (breve, circumflex, horn), composed back onto their base.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
#: Tone marks in dictionary order: none, huyền, hỏi, ngã, sắc, nặng.
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def vietnamese_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    """Sort key of Vietnamese alphabetical order: letters first (Đ after D, Ơ after Ô, case
    ignored), then tone marks (none, huyền, hỏi, ngã, sắc, nặng), then the text itself. The
    same on every database and in every export, whatever its collation.

    >>> sorted(["Đồng Hỷ", "Định Hóa", "Đại Từ", "Dương Quang", "Ba Bể", "bạch Thông"],
    ...        key=vietnamese_key)
    ['Ba Bể', 'bạch Thông', 'Dương Quang', 'Đại Từ', 'Định Hóa', 'Đồng Hỷ']
    >>> sorted(["ma", "mà", "mả", "mã", "má", "mạ", "mă", "mâ"], key=vietnamese_key)
    ['ma', 'mà', 'mả', 'mã', 'má', 'mạ', 'mă', 'mâ']
    >>> sorted(["Chợ Ơ", "Chợ Ô", "Chợ O", "Chợ 2", "Chợ"], key=vietnamese_key)
    ['Chợ', 'Chợ 2', 'Chợ O', 'Chợ Ô', 'Chợ Ơ']
    """
    letters: list[int] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFC", text).casefold():
        parts = unicodedata.normalize("NFD", char)
        base = parts[0] + "".join(m for m in parts[1:] if m in _LETTER_MARKS)
        base = unicodedata.normalize("NFC", base)
        tone = next((_TONE_RANK[m] for m in parts[1:] if m in _TONE_RANK), 0)
        if base in _LETTER_RANK:
            letters.append(_LETTER_RANK[base])
        elif base.isspace():
            letters.append(0)
        elif base.isdigit():
            letters.append(10 + int(base) if base.isascii() else 1000 + ord(base))
        else:
            letters.append(1000 + ord(base))
        tones.append(tone)
    return tuple(letters), tuple(tones), text
