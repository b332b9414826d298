"""Two functions make every VietQR text outside the pure core, side by side in
market.merchants.queries: payee_payload (a stall's payee) and bill_payload (a fee bill, paid
into the market board's account)."""

from __future__ import annotations

import ast
from pathlib import Path

from market.fees.models import FeeAccount
from market.merchants.models import PayeeAccount
from market.merchants.queries import bill_payload, payee_payload
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


def test_a_bill_payload_is_dynamic_with_the_reference_in_its_purpose():
    account = FeeAccount(bank_bin="970415", account_number="113000006789")
    parsed = parse_payload(bill_payload(account, amount=1_250_000, reference="CPAB23CD45"))
    assert (parsed.bank_bin, parsed.account) == ("970415", "113000006789")
    assert parsed.amount == 1_250_000 and parsed.purpose == "CPAB23CD45"


#: The only functions outside market/vietqr that may call build_payload: (file, function).
SANCTIONED = {("merchants/queries.py", "payee_payload"), ("merchants/queries.py", "bill_payload")}


def test_no_other_module_builds_a_payload_itself():
    """Stickers, the pay page, collect orders, the stall page and the API all call
    payee_payload; fee bills (page, notice, API) call bill_payload. So their QR codes cannot
    disagree, and a third way in is a decision to write down here."""
    callers = []
    for path in MARKET.rglob("*.py"):
        relative = path.relative_to(MARKET).as_posix()
        if relative.startswith("vietqr/"):
            continue
        finder = _PayloadCalls()
        finder.visit(ast.parse(path.read_text(encoding="utf-8")))
        callers += [
            f"{relative}:{line} in {function}"
            for function, line in finder.calls
            if (relative, function) not in SANCTIONED
        ]
    assert callers == []


class _PayloadCalls(ast.NodeVisitor):
    """Every build_payload call in a module, as (the function it is in, line)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str | None, int]] = []
        self._function: str | None = None

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self._function = self._function, node.name
        self.generic_visit(node)
        self._function = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name == "build_payload":
            self.calls.append((self._function, node.lineno))
        self.generic_visit(node)
