"""The NAPAS member banks that can receive VietQR transfers.

A snapshot of the vietqr.io list cross-checked with the State Bank's BIN list
(see ``napas_banks.csv`` next to this module). The payload carries the BIN;
the code is only for people and for vietqr.io image URLs.

>>> bank_by_bin("970436")  # doctest: +ELLIPSIS
Bank(bin='970436', code='VCB', short_name='Vietcombank', name='Ngân hàng TMCP Ngoại...')
>>> bank_by_code("ibk - hn").bin
'970455'
>>> bank_by_bin("999999") is None
True
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

__all__ = ["Bank", "all_banks", "bank_by_bin", "bank_by_code"]

_CSV_NAME = "napas_banks.csv"


@dataclass(frozen=True, slots=True)
class Bank:
    """One NAPAS member: 6-digit BIN, vietqr.io code, short name, legal name."""

    bin: str
    code: str
    short_name: str
    name: str


@dataclass(frozen=True, slots=True)
class _Index:
    banks: tuple[Bank, ...]
    by_bin: dict[str, Bank]
    by_code: dict[str, Bank]


@functools.cache
def _index() -> _Index:
    text = resources.files(__package__).joinpath(_CSV_NAME).read_text(encoding="utf-8")
    banks = tuple(
        Bank(row["bin"], row["code"], row["short_name"], row["name"])
        for row in csv.DictReader(io.StringIO(text))
    )
    return _Index(
        banks=banks,
        by_bin={bank.bin: bank for bank in banks},
        by_code={bank.code.casefold(): bank for bank in banks},
    )


def all_banks() -> tuple[Bank, ...]:
    """Return every bank in the list, sorted by BIN."""
    return _index().banks


def bank_by_bin(bin: str, /) -> Bank | None:
    """Return the bank with this 6-digit BIN, or ``None``."""
    return _index().by_bin.get(bin)


def bank_by_code(code: str, /) -> Bank | None:
    """Return the bank with this vietqr.io code, ignoring case and outer spaces.

    Codes are matched whole: ``"IBK - HN"`` has spaces inside it.
    """
    return _index().by_code.get(code.strip().casefold())
