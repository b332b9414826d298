"""The package as a whole: public API, doctests that run, and purity."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import market.vietqr

REPO = Path(__file__).resolve().parents[2]

MODULES = [
    "market.vietqr",
    "market.vietqr.banks",
    "market.vietqr.crc",
    "market.vietqr.deeplink",
    "market.vietqr.errors",
    "market.vietqr.payload",
    "market.vietqr.text",
    "market.vietqr.tlv",
]

PUBLIC_API = {
    "build_payload",
    "parse_payload",
    "VietQR",
    "VietQRError",
    "CRCError",
    "FieldError",
    "LengthError",
    "MissingFieldError",
    "TLVError",
    "UnknownBankError",
    "AmbiguousBankError",
    "NoSuchBankError",
    "POPULAR_BINS",
    "Bank",
    "BankApp",
    "bank_app_link",
    "bank_apps",
    "bank_by_bin",
    "bank_by_code",
    "bank_search_text",
    "banks_by_use",
    "resolve_bank",
    "fold",
    "all_banks",
    "transliterate",
    "crc16_ccitt_false",
}


@pytest.mark.parametrize("name", MODULES)
def test_doctests_pass(name: str) -> None:
    module: ModuleType = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_all_exports_the_public_api() -> None:
    assert set(market.vietqr.__all__) == PUBLIC_API
    for name in market.vietqr.__all__:
        assert getattr(market.vietqr, name) is not None


@pytest.mark.parametrize("name", [*MODULES, "market.vietqr.__main__"])
def test_every_module_declares_all(name: str) -> None:
    module = importlib.import_module(name)
    assert all(hasattr(module, attr) for attr in module.__all__)


def test_every_error_is_a_value_error() -> None:
    errors = [getattr(market.vietqr, n) for n in PUBLIC_API if n.endswith("Error")]
    assert all(issubclass(error, market.vietqr.VietQRError) for error in errors)
    assert issubclass(market.vietqr.VietQRError, ValueError)


def test_the_package_runs_without_site_packages() -> None:
    # -S: no site-packages at all, so any third-party import would fail; the
    # package is found through the working directory.
    code = (
        "import sys, market.vietqr, market.vietqr.__main__\n"
        "market.vietqr.parse_payload(market.vietqr.build_payload('970436', '1', amount=1))\n"
        "std = set(sys.stdlib_module_names) | {'__main__', 'market'}\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] not in std and not m.startswith('market.vietqr')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
