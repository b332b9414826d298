"""Checks and normal forms for what people type about payments.

Each function returns the normal form or raises ``ValueError`` with a message for the person
who typed it (the pay page, the collect screen and the tests use these).
"""

from __future__ import annotations

import re
import secrets

from flask_babel import gettext as _

from market.formatting import number

#: NAPAS 247's ceiling for one transfer, in dong; a QR asking for more could never be paid.
NAPAS_LIMIT = 500_000_000

# "25000", "25.000", "25,000", "25 000", "1.250.000", optionally followed by đ/₫/d/vnd.
_AMOUNT = re.compile(r"(\d+|\d{1,3}(?:([.,\s])\d{3})(?:\2\d{3})*)")
_CURRENCY = re.compile(r"\s*(đ|₫|d|vnd|vnđ|dong|đồng)\s*$", re.IGNORECASE)

#: Order references avoid characters a bank clerk or an OCR confuses (0/O, 1/I/L, 2/Z, 5/S, 8/B).
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
REFERENCE_RANDOM_LENGTH = 4
MAX_REFERENCE_LENGTH = 25
_STALL_PART = 12


def parse_amount(raw: str | None) -> int:
    """'25.000' -> 25000: whole dong from 1 to the NAPAS limit, thousands separators allowed.

    >>> parse_amount("1.250.000 đ")
    1250000
    >>> parse_amount("25,5")
    Traceback (most recent call last):
    ...
    ValueError: Số tiền “25,5” không hợp lệ. Hãy nhập số đồng nguyên, ví dụ 25.000.
    """
    text = _CURRENCY.sub("", (raw or "").strip())
    if not text:
        raise ValueError(_("Vui lòng nhập số tiền."))
    if len(text) > 20 or not text.isascii() or not _AMOUNT.fullmatch(text):
        raise ValueError(
            _("Số tiền “%(value)s” không hợp lệ. Hãy nhập số đồng nguyên, ví dụ 25.000.", value=raw)
        )
    amount = int(re.sub(r"\D", "", text))
    if amount < 1:
        raise ValueError(_("Số tiền phải lớn hơn 0 đồng."))
    if amount > NAPAS_LIMIT:
        raise ValueError(
            _("Số tiền tối đa cho một lần chuyển là %(limit)s đồng.", limit=number(NAPAS_LIMIT))
        )
    return amount


def new_reference(stall_code: str) -> str:
    """A short order reference for a transfer's purpose: the stall code without punctuation,
    a space and 4 random characters, e.g. ``A01 K7Q3`` (at most 25 ASCII characters)."""
    stall_part = re.sub(r"[^A-Z0-9]", "", stall_code.upper())[:_STALL_PART] or "SAP"
    random_part = "".join(
        secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_RANDOM_LENGTH)
    )
    return f"{stall_part} {random_part}"


def squeeze(text: str | None) -> str:
    """Upper case letters and digits only: how a reference is found in mangled bank content.

    >>> squeeze("ck tu NGUYEN VAN A - a01-k7q3 .FT2412")
    'CKTUNGUYENVANAA01K7Q3FT2412'
    """
    return re.sub(r"[^A-Z0-9]", "", (text or "").upper())


_REFERENCE = re.compile(
    rf"[A-Z0-9]{{1,{_STALL_PART}}} [{REFERENCE_ALPHABET}]{{{REFERENCE_RANDOM_LENGTH}}}"
)


def parse_reference(raw: str | None) -> str:
    """An order reference as a shared pay link carries it (``A01 K7Q3``), in its normal form.

    Only the shape :func:`new_reference` makes: the public pay page shows it as the transfer
    content, so a link cannot put arbitrary words there.

    >>> parse_reference(" a01  k7q3 ")
    'A01 K7Q3'
    >>> parse_reference("Chuyen cho so 0123")
    Traceback (most recent call last):
    ...
    ValueError: Mã đơn “Chuyen cho so 0123” không đúng dạng. Hãy hỏi lại người bán.
    """
    text = " ".join((raw or "").upper().split())
    if not _REFERENCE.fullmatch(text):
        raise ValueError(_("Mã đơn “%(value)s” không đúng dạng. Hãy hỏi lại người bán.", value=raw))
    return text
