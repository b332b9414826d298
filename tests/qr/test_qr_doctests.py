"""The examples in ``market.qr`` docstrings run and stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "market.qr.errors",
    "market.qr.symbol",
    "market.qr.images",
    "market.qr.cards",
    "market.qr.decode",
    "market.qr.stickers",
    "market.qr.welcome",
    "market.qr.notices",
    "market.qr.receipts",
    "market.fees.values",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
