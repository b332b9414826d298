"""NAPAS VietQR: build and parse bank-transfer QR payloads (standard library only).

>>> from market.vietqr import build_payload, parse_payload
>>> parse_payload(build_payload("970422", "77500614710", amount=1000)).amount
1000
"""

from market.vietqr.banks import (
    POPULAR_BINS,
    Bank,
    all_banks,
    bank_by_bin,
    bank_by_code,
    bank_search_text,
    banks_by_use,
    fold,
    resolve_bank,
)
from market.vietqr.crc import crc16_ccitt_false
from market.vietqr.deeplink import BankApp, bank_app_link, bank_apps
from market.vietqr.errors import (
    AmbiguousBankError,
    CRCError,
    FieldError,
    LengthError,
    MissingFieldError,
    NoSuchBankError,
    TLVError,
    UnknownBankError,
    VietQRError,
)
from market.vietqr.payload import VietQR, build_payload, parse_payload
from market.vietqr.text import transliterate

__all__ = [
    "POPULAR_BINS",
    "AmbiguousBankError",
    "Bank",
    "BankApp",
    "CRCError",
    "FieldError",
    "LengthError",
    "MissingFieldError",
    "NoSuchBankError",
    "TLVError",
    "UnknownBankError",
    "VietQR",
    "VietQRError",
    "all_banks",
    "bank_app_link",
    "bank_apps",
    "bank_by_bin",
    "bank_by_code",
    "bank_search_text",
    "banks_by_use",
    "build_payload",
    "crc16_ccitt_false",
    "fold",
    "parse_payload",
    "resolve_bank",
    "transliterate",
]
