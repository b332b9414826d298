"""Who may use the integrations' admin screen: the province (admin) only, as the webhook
settings before it. Every role × every route; a refused request changes nothing (no
integration, account, secret or audit entry)."""

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.payments.models import IntegrationAccount, WebhookIntegration
from tests.conftest import ACCESS_ROLES, Auth

NEW = {
    "provider": "sepay",
    "name": "cho-moi",
    "auth_mode": "hmac",
    "secret": "s" * 32,
    "accounts": "0011001234567",
    "enabled": "y",
}
EDIT = {"auth_mode": "apikey", "secret": "t" * 32, "accounts": "", "api_token": "tok-123"}

MATRIX = [
    ("payments.new_integration", "GET", "/admin/webhooks/new", None),
    ("payments.new_integration", "POST", "/admin/webhooks/new", NEW),
    ("payments.edit_integration", "GET", "/admin/webhooks/{sepay}/edit", None),
    ("payments.edit_integration", "POST", "/admin/webhooks/{sepay}/edit", EDIT),
]


def _state():
    return (
        db.session.scalar(select(func.count(AuditLog.id))),
        tuple(
            db.session.execute(
                select(
                    WebhookIntegration.provider,
                    WebhookIntegration.name,
                    WebhookIntegration.secret,
                    WebhookIntegration.auth_mode,
                    WebhookIntegration.api_token,
                    WebhookIntegration.enabled,
                ).order_by(WebhookIntegration.id)
            ).all()
        ),
        tuple(db.session.execute(select(IntegrationAccount.account_number)).scalars()),
    )


@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data"), MATRIX, ids=[f"{m} {u}" for _e, m, u, _d in MATRIX]
)
def test_access(app, world, integrations, endpoint, method, url, data):
    url = url.format(sepay=integrations["sepay"].id)
    for role in ACCESS_ROLES:
        db.session.rollback()
        client = app.test_client()
        if role != "anonymous":
            assert Auth(client).login(role).status_code == 302
        before = _state()
        response = client.open(url, method=method, data=data)
        db.session.expire_all()
        if role == "admin":
            assert response.status_code in (200, 302), (role, response.status_code)
            if response.status_code == 302:
                assert "/login" not in response.headers["Location"]
            continue
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code in (403, 404), (role, response.status_code)
        assert _state() == before, f"role {role}: a refused request changed data"
