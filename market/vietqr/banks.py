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

People write a bank many ways; ``resolve_bank`` takes them all (BIN, code, short name, full
legal name, a former name), ignoring case, spaces, punctuation and diacritics:

>>> [resolve_bank(t).code for t in ("970436", "vcb", "Vietcombank", "Ngoại thương")]
['VCB', 'VCB', 'VCB', 'VCB']
>>> resolve_bank("ngan hang tmcp quan doi").short_name
'MBBank'
>>> resolve_bank("IBK")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
market.vietqr.errors.AmbiguousBankError: bank: 'IBK' could be IBKHCM, IBKHN
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

from market.vietqr.errors import AmbiguousBankError, NoSuchBankError
from market.vietqr.text import transliterate

__all__ = [
    "POPULAR_BINS",
    "Bank",
    "all_banks",
    "bank_by_bin",
    "bank_by_code",
    "bank_search_text",
    "banks_by_use",
    "fold",
    "resolve_bank",
]

#: The banks most merchants in a Vietnamese market hold an account with, most used first:
#: the four state-owned commercial banks, then the largest joint-stock retail banks (by
#: retail customers in their 2024 annual reports). Pickers list these first.
POPULAR_BINS = (
    "970436",  # Vietcombank
    "970405",  # Agribank
    "970418",  # BIDV
    "970415",  # VietinBank
    "970422",  # MBBank
    "970407",  # Techcombank
    "970416",  # ACB
    "970432",  # VPBank
    "970403",  # Sacombank
    "970423",  # TPBank
    "970449",  # LPBank
    "970437",  # HDBank
    "970441",  # VIB
    "970443",  # SHB
)

# Former names and names people use that the list does not carry (bank renamings since
# 2021: LienVietPostBank -> LPBank, OceanBank -> MBV, DongA Bank -> Vikki, CBBank's "Xây
# dựng"), keyed by BIN.
_ALIASES = {
    "970449": ("LienVietPostBank", "LienViet", "Bưu điện Liên Việt"),
    "970414": ("OceanBank", "Đại Dương"),
    "970406": ("DongA Bank", "Đông Á"),
    "970415": ("Viettinbank", "Vietin"),
    "970405": ("Nông nghiệp", "Nông nghiệp và Phát triển Nông thôn"),
    "970418": ("Đầu tư và Phát triển",),
    "971025": ("Ví MoMo",),
    "971005": ("Viettel Pay",),
}

# Words around the distinctive part of a legal name, which people leave out.
_NAME_PREFIXES = (
    "ngan hang",
    "thuong mai co phan",
    "thuong mai",
    "tmcp",
    "tnhh mtv",
    "tnhh",
    "mtv",
    "lien doanh",
    "nh",
)
_NAME_SUFFIXES = ("viet nam", "vn")
_NOT_WORD = re.compile(r"[^0-9a-z]+")

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
    by_key: dict[str, tuple[Bank, ...]]  # every folded name -> the banks it names


@functools.cache
def _index() -> _Index:
    text = resources.files(__package__).joinpath(_CSV_NAME).read_text(encoding="utf-8")
    banks = tuple(
        Bank(row["bin"], row["code"], row["short_name"], row["name"])
        for row in csv.DictReader(io.StringIO(text))
    )
    by_key: dict[str, list[Bank]] = {}
    for bank in banks:
        for key in _bank_keys(bank):
            found = by_key.setdefault(key, [])
            if bank not in found:
                found.append(bank)
    return _Index(
        banks=banks,
        by_bin={bank.bin: bank for bank in banks},
        by_code={bank.code.casefold(): bank for bank in banks},
        by_key={key: tuple(found) for key, found in by_key.items()},
    )


def _words(text: str) -> str:
    """NFC, no diacritics, lower case, runs of anything but letters and digits one space."""
    plain = transliterate(unicodedata.normalize("NFC", text)).casefold()
    return _NOT_WORD.sub(" ", plain).strip()


def fold(text: str) -> str:
    """The letters and digits of ``text`` without diacritics, in lower case: what two ways of
    writing one name have in common.

    >>> fold("  MB-Bank "), fold("Ngoại Thương"), fold("NGOA\u0323I THU\u031bO\u031bNG")
    ('mbbank', 'ngoaithuong', 'ngoaithuong')
    """
    return _words(text).replace(" ", "")


def _core(text: str) -> str:
    """A name without the words around its distinctive part ('Ngân hàng TMCP … Việt Nam')."""
    words = f" {_words(text)} "
    changed = True
    while changed:
        changed = False
        for prefix in _NAME_PREFIXES:
            if words.startswith(f" {prefix} ") and len(words) > len(prefix) + 3:
                words = words[len(prefix) + 1 :]
                changed = True
        for suffix in _NAME_SUFFIXES:
            if words.endswith(f" {suffix} ") and len(words) > len(suffix) + 3:
                words = words[: -len(suffix) - 1]
                changed = True
    return words.replace(" ", "")


def _bank_keys(bank: Bank) -> set[str]:
    names = (bank.code, bank.short_name, bank.name, *_ALIASES.get(bank.bin, ()))
    keys = {fold(name) for name in names} | {_core(name) for name in names}
    keys.discard("")
    return keys


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


def resolve_bank(text: str, /) -> Bank:
    """The bank ``text`` names: a BIN, a code, a short or full name or a former name, in any
    case, with or without diacritics, spaces or punctuation.

    Raises ``AmbiguousBankError`` (with ``candidates``) when the text names several banks or
    is only part of names, and ``NoSuchBankError`` when it names none; both are
    ``UnknownBankError``.

    >>> resolve_bank("VIETINBANK").bin, resolve_bank("Ngan Hang Nong Nghiep").code
    ('970415', 'VBA')
    >>> try:  # a part of a name is never taken for the name
    ...     resolve_bank("vietcom")
    ... except AmbiguousBankError as exc:
    ...     exc.candidates
    ('Vietcombank',)
    """
    raw = text or ""
    value = unicodedata.normalize("NFC", raw).strip()
    if value.isdigit() and value.isascii():
        bank = bank_by_bin(value)
        if bank is None:
            raise NoSuchBankError(raw)
        return bank
    index = _index()
    for key in (fold(value), _core(value)):
        found = index.by_key.get(key)
        if found and len(found) == 1:
            return found[0]
        if found:
            raise AmbiguousBankError(raw, tuple(sorted(b.short_name for b in found)))
    candidates = _partial_matches(fold(value))
    if candidates:
        raise AmbiguousBankError(raw, tuple(sorted(b.short_name for b in candidates)))
    raise NoSuchBankError(raw)


def _partial_matches(key: str, limit: int = 8) -> list[Bank]:
    """Banks one of whose names contains ``key`` (3 characters or more)."""
    if len(key) < 3:
        return []
    found: list[Bank] = []
    for name, banks in _index().by_key.items():
        if key in name:
            found.extend(b for b in banks if b not in found)
    return found[:limit]


def bank_search_text(bank: Bank) -> str:
    """Every folded name of ``bank``, space-separated: what a picker matches typing against
    (``fold`` of what is typed must be a part of one of them)."""
    return " ".join(sorted(_bank_keys(bank) | {bank.bin}))


def banks_by_use(counts: dict[str, int] | None = None) -> list[Bank]:
    """Every bank, most used first: by ``counts`` (BIN -> accounts in this deployment) when
    given, then ``POPULAR_BINS``' order, then by short name.

    >>> [b.short_name for b in banks_by_use()][:3]
    ['Vietcombank', 'Agribank', 'BIDV']
    >>> banks_by_use({"970403": 5})[0].short_name
    'Sacombank'
    """
    counts = counts or {}
    popular = {bin_: rank for rank, bin_ in enumerate(POPULAR_BINS)}

    def order(bank: Bank) -> tuple[int, int, str]:
        return (
            -counts.get(bank.bin, 0),
            popular.get(bank.bin, len(popular)),
            bank.short_name.casefold(),
        )

    return sorted(all_banks(), key=order)
