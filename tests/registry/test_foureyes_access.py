"""Who may see and use the pending payee changes page: every role × own/other market.

Market A has a pending payee change made by its second manager (``manager2``, not one of the
roles tried), so its other manager and the province may verify it; everyone else is refused
and the refused request changes nothing.
"""

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.merchants import services
from market.merchants.models import PayeeAccount
from tests.conftest import ACCESS_ROLES

MANAGERS_A = {"admin", "manager"}

# (endpoint, method, url, data, roles allowed); everyone else gets 403/404 (or a login redirect).
MATRIX = [
    (
        "markets.pending_payees",
        "GET",
        "/markets/pending-payees",
        None,
        {"admin", "manager", "manager_b"},
    ),
    ("markets.pending_payees", "GET", "/markets/pending-payees?market=TN-A", None, MANAGERS_A),
    (
        "markets.verify_pending_payees",
        "POST",
        "/markets/pending-payees/verify",
        {"payee": "{pending_a}"},
        MANAGERS_A,
    ),
    (
        "markets.verify_pending_payees",
        "POST",
        "/markets/pending-payees/verify",
        {"payee": "{pending_a}", "market": "TN-A"},
        MANAGERS_A,
    ),
]


def _state(pending_id: int):
    payee = db.session.get(PayeeAccount, pending_id)
    return (
        payee.verified_at,
        payee.verified_by_id,
        db.session.scalar(select(func.count(PayeeAccount.id))),
        db.session.scalar(select(func.count(AuditLog.id))),
    )


@pytest.mark.parametrize("role", ACCESS_ROLES)
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed"),
    MATRIX,
    ids=[f"{m} {u} {sorted(d or {})}" for _e, m, u, d, _a in MATRIX],
)
def test_access(world, client, auth, role, endpoint, method, url, data, allowed):
    pending = services.set_payee(
        world.users["manager2"],
        world.stall_a,
        bank_bin="970415",
        account_number="999888777",
        service="account",
        holder_name="NGUYEN THI HOA",
    )
    if role != "anonymous":
        assert auth.login(role).status_code == 302
    if data:
        data = {k: v.format(pending_a=pending.id) for k, v in data.items()}
    before = _state(pending.id)
    response = client.open(url, method=method, data=data)
    db.session.expire_all()
    if role in allowed:
        assert response.status_code == 200, response.status_code
        page = response.get_data(as_text=True)
        if method == "POST":
            assert "Đã xác minh 1 tài khoản" in page
            assert _state(pending.id)[1] == world.users[role].id
        else:
            # Each sees their own markets' pending changes only.
            assert ("999888777" in page) == (role in MANAGERS_A)
    else:
        if role == "anonymous":
            assert response.status_code == 302
            assert "/login" in response.headers["Location"]
        else:
            assert response.status_code in (403, 404), response.status_code
        assert _state(pending.id) == before, "a refused request changed data"
