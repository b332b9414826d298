"""Who may use the listening screen: every route × every role × own/other market.

The screen, its payments and its service worker belong to merchants, each hearing only their
own stalls' money; the "anything new?" question is answered to a listen key (made for one
merchant by their own page), never to a session, and without one it is refused to everyone.
"""

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.payments import board
from market.payments.models import PaymentNotification
from tests.conftest import ACCESS_ROLES, Auth
from tests.payments.conftest import post_sepay, sepay_body

MERCHANTS = {"merchant", "merchant_b"}

# (endpoint, method, url, data, roles allowed); everyone else gets 403 (or a login redirect).
MATRIX = [
    ("merchants.listen", "GET", "/me/listen", None, MERCHANTS),
    ("merchants.listen_payments", "GET", "/me/listen/payments.json?after=0", None, MERCHANTS),
    ("merchants.listen_worker", "GET", "/me/listen/sw.js", None, MERCHANTS),
    # Without a key: nobody, whatever their session.
    ("merchants.listen_changes", "GET", "/me/listen/changes?seen=0", None, set()),
]


def _state():
    return (
        db.session.scalar(select(func.count(PaymentNotification.id))),
        db.session.scalar(select(func.count(AuditLog.id))),
    )


@pytest.fixture
def paid_a(app, world, integrations):
    """A payment to market A's merchant (market B's merchant must never hear of it)."""
    assert post_sepay(app.test_client(), sepay_body(7001, amount=42_000)).status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed"), MATRIX, ids=[r[2] for r in MATRIX]
)
def test_access(app, world, paid_a, endpoint, method, url, data, allowed):
    for role in ACCESS_ROLES:
        client = app.test_client()
        if role != "anonymous":
            assert Auth(client).login(role).status_code == 302
        before = _state()
        response = client.open(url, method=method, data=data)
        db.session.expire_all()
        assert _state() == before, f"role {role}: a request changed data"
        if role in allowed:
            assert response.status_code == 200, (role, response.status_code)
            if endpoint == "merchants.listen_payments":
                amounts = [p["amount"] for p in response.get_json()["payments"]]
                assert amounts == ([42_000] if role == "merchant" else []), role
            if endpoint == "merchants.listen":
                page = response.get_data(as_text=True)
                assert ("42.000" in page) == (role == "merchant"), role
        elif role == "anonymous" and endpoint != "merchants.listen_changes":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == 403, (role, response.status_code)


@pytest.mark.parametrize("role", ACCESS_ROLES)
def test_a_key_answers_for_its_merchant_whoever_asks(app, world, paid_a, role):
    """The key, not the session, says whose money is asked about: market B's merchant holding
    market A's key learns what the key's owner would (that a payment came), no more."""
    with app.test_request_context():
        key_a = board.listen_key(world.merchant_a.id)
        key_b = board.listen_key(world.merchant_b.id)
    client = app.test_client()
    if role != "anonymous":
        assert Auth(client).login(role).status_code == 302
    before = _state()
    url = "/me/listen/changes?seen=0&asked=0"
    answer_a = client.get(url, headers={"X-Listen-Key": key_a})
    answer_b = client.get(url, headers={"X-Listen-Key": key_b})
    assert answer_a.status_code in (200, 204) and answer_b.status_code in (200, 204)
    assert not answer_a.get_data() or answer_a.get_json() == {"news": True}
    assert _state() == before
