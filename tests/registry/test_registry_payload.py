"""One place makes a payee's VietQR text: market.merchants.queries.payee_payload."""

from __future__ import annotations

import ast
from pathlib import Path

from market.merchants.models import PayeeAccount
from market.merchants.queries import payee_payload
from market.vietqr import parse_payload

MARKET = Path(__file__).resolve().parents[2] / "market"


def test_a_payee_payload_is_static_without_an_amount_and_dynamic_with_one():
    payee = PayeeAccount(bank_bin="970436", account_number="0011001234567", service="account")
    static = parse_payload(payee_payload(payee))
    assert static.bank_bin == "970436" and static.account == "0011001234567"
    assert static.amount is None
    dynamic = parse_payload(payee_payload(payee, amount=25_000, purpose="Tien rau"))
    assert dynamic.amount == 25_000 and dynamic.purpose == "Tien rau"
    card = PayeeAccount(bank_bin="970436", account_number="9704366614952200", service="card")
    assert parse_payload(payee_payload(card)).service == "card"


def test_no_other_module_builds_a_payload_itself():
    """Stickers, the pay page, collect orders, the stall page and the API all call
    payee_payload, so their QR codes cannot disagree."""
    callers = []
    for path in MARKET.rglob("*.py"):
        relative = path.relative_to(MARKET).as_posix()
        if relative.startswith("vietqr/") or relative == "merchants/queries.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "build_payload":
                    callers.append(f"{relative}:{node.lineno}")
    assert callers == []
