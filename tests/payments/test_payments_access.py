"""Who may use the payments routes: every route × every role × own/other market.

The pay page is public; collect mode belongs to the stall's own merchant; webhook settings to
the province (admin); the unmatched review: test_payments_review_access.py. Webhooks are for no role at all:
without the provider's signature everyone gets 401 and nothing is stored.
"""

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.payments.models import CollectOrder, PaymentNotification, WebhookIntegration
from tests.conftest import ACCESS_ROLES, Auth
from tests.payments.conftest import sepay_body

# (endpoint, method, url, data, roles allowed); everyone else gets 403/404 (or a login
# redirect), and 401 on the webhooks.
MATRIX = [
    ("payments.pay", "GET", "/pay/TN-A/A-01", None, set(ACCESS_ROLES)),
    ("payments.pay", "GET", "/pay/TN-A/A-01?amount=25.000", None, set(ACCESS_ROLES)),
    ("payments.pay", "GET", "/pay/TN-A/A-01?amount=5000&ref=A01+K7Q3", None, set(ACCESS_ROLES)),
    ("payments.pay_card", "GET", "/pay/TN-A/A-01/qr-card.png", None, set(ACCESS_ROLES)),
    (
        "payments.pay_card",
        "GET",
        "/pay/TN-B/B-01/qr-card.png?amount=25.000&ref=B01+K7Q3",
        None,
        set(ACCESS_ROLES),
    ),
    ("payments.collect", "GET", "/collect/TN-A/A-01", None, {"merchant"}),
    ("payments.collect", "POST", "/collect/TN-A/A-01", {"amount": "50.000"}, {"merchant"}),
    ("payments.collect", "GET", "/collect/TN-B/B-01", None, {"merchant_b"}),
    ("payments.collect_order", "GET", "/collect/orders/{order_a}", None, {"merchant"}),
    (
        "payments.collect_status",
        "GET",
        "/collect/orders/{order_a}/status.json",
        None,
        {"merchant"},
    ),
    ("payments.today", "GET", "/collect/TN-A/A-01/today", None, {"merchant"}),
    ("payments.integrations", "GET", "/admin/webhooks", None, {"admin"}),
    (
        "payments.save_integration",
        "POST",
        "/admin/webhooks/sepay",
        {"sepay-auth_mode": "apikey", "sepay-secret": "x" * 32, "sepay-enabled": "y"},
        {"admin"},
    ),
    ("webhooks.sepay", "POST", "/api/v1/webhooks/sepay", sepay_body(), set()),
    ("webhooks.casso", "POST", "/api/v1/webhooks/casso", {"error": 0, "data": {}}, set()),
    ("webhooks.named", "POST", "/api/v1/webhooks/sepay/cho-thai", sepay_body(), set()),
]


def _state():
    return (
        db.session.scalar(select(func.count(CollectOrder.id))),
        db.session.scalar(select(func.count(PaymentNotification.id))),
        db.session.scalar(select(func.count(AuditLog.id))),
        tuple(
            db.session.execute(
                select(
                    WebhookIntegration.provider,
                    WebhookIntegration.secret,
                    WebhookIntegration.auth_mode,
                ).order_by(WebhookIntegration.provider)
            ).all()
        ),
    )


def _check(app, world, order_a, role, endpoint, method, url, data, allowed):
    client = app.test_client()
    if role != "anonymous":
        assert Auth(client).login(role).status_code == 302
    url = url.format(order_a=order_a.id)
    before = _state()
    if endpoint.startswith("webhooks."):
        response = client.open(url, method=method, json=data)
    else:
        response = client.open(url, method=method, data=data)
    db.session.expire_all()
    if role in allowed:
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            assert "/login" not in response.headers["Location"]
        return
    if endpoint.startswith("webhooks."):
        assert response.status_code == 401
        assert response.is_json
    elif role == "anonymous":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    else:
        assert response.status_code in (403, 404), response.status_code
    assert _state() == before, "a refused request changed data"


# One test per route, every role inside it (one world per route keeps the suite quick).
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed"),
    MATRIX,
    ids=[f"{m} {u}" for _e, m, u, _d, _a in MATRIX],
)
def test_access(app, world, integrations, order_a, endpoint, method, url, data, allowed):
    for role in ACCESS_ROLES:
        try:
            _check(app, world, order_a, role, endpoint, method, url, data, allowed)
        except AssertionError as exc:
            raise AssertionError(f"role {role}: {exc}") from exc
