"""The integrations' admin screen: create, edit, disable named integrations; secrets and
tokens write-only (only "set on <date>" is ever shown); field-by-field errors that change
nothing; audit-logged without secrets; health on the list. Both databases."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.payments.models import IntegrationRefusal, WebhookIntegration

SECRET = "a-long-enough-secret-qwxy"
TOKEN = "api-token-abcdef-zzqx"


def _named(name):
    return db.session.scalar(select(WebhookIntegration).where(WebhookIntegration.name == name))


def _create(client, **fields):
    data = {
        "provider": "sepay",
        "name": "cho-thai",
        "auth_mode": "hmac",
        "secret": SECRET,
        "api_token": TOKEN,
        "accounts": "0011001234567\n0011009999999, 1234",
        "enabled": "y",
    } | fields
    return client.post("/admin/webhooks/new", data=data)


def test_admin_creates_a_named_integration_and_never_sees_its_secret_again(world, client, auth):
    auth.login("admin")
    response = _create(client)
    assert response.status_code == 302
    found = _named("cho-thai")
    assert (found.provider, found.secret, found.api_token, found.enabled) == (
        "sepay",
        SECRET,
        TOKEN,
        True,
    )
    assert [a.account_number for a in found.accounts] == ["0011001234567", "0011009999999", "1234"]
    assert found.secret_set_at is not None and found.api_token_set_at is not None
    for page in ("/admin/webhooks", f"/admin/webhooks/{found.id}/edit"):
        html = client.get(page).get_data(as_text=True)
        assert SECRET not in html and TOKEN not in html
        assert SECRET[-4:] not in html and TOKEN[-4:] not in html
        assert "đã đặt ngày" in html or "Đã đặt ngày" in html
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert "/api/v1/webhooks/sepay/cho-thai" in listing
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "webhook.add"))
    assert entry.new["name"] == "cho-thai" and entry.new["secret_changed"] is True
    assert entry.new["accounts"] == ["0011001234567", "0011009999999", "1234"]
    assert SECRET not in str(entry.new) and TOKEN not in str(entry.new)


def test_a_generated_secret_is_shown_once(world, client, auth):
    auth.login("admin")
    response = _create(client, secret="", generate="y", name="")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    found = db.session.scalar(select(WebhookIntegration))
    assert found.name == "" and found.secret in response.get_data(as_text=True)
    assert found.secret not in client.get(f"/admin/webhooks/{found.id}/edit").get_data(as_text=True)
    assert found.secret not in client.get("/admin/webhooks").get_data(as_text=True)


def test_editing_keeps_a_blank_secret_and_token_and_disables(world, client, auth):
    auth.login("admin")
    _create(client)
    found = _named("cho-thai")
    secret_set_at = found.secret_set_at
    response = client.post(
        f"/admin/webhooks/{found.id}/edit",
        data={"auth_mode": "apikey", "secret": "", "api_token": "", "accounts": "0011001234567"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    found = _named("cho-thai")
    assert (found.secret, found.api_token, found.auth_mode, found.enabled) == (
        SECRET,
        TOKEN,
        "apikey",
        False,
    )
    assert found.secret_set_at == secret_set_at
    assert [a.account_number for a in found.accounts] == ["0011001234567"]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "webhook.configure"))
    assert entry.old["enabled"] is True and entry.new["enabled"] is False
    assert entry.new["secret_changed"] is False and entry.new["api_token_changed"] is False
    # A new token, then removing it.
    client.post(
        f"/admin/webhooks/{found.id}/edit",
        data={"auth_mode": "hmac", "api_token": "new-token-000111", "enabled": "y"},
    )
    db.session.expire_all()
    assert _named("cho-thai").api_token == "new-token-000111"
    client.post(
        f"/admin/webhooks/{found.id}/edit",
        data={"auth_mode": "hmac", "remove_api_token": "y", "enabled": "y"},
    )
    db.session.expire_all()
    assert _named("cho-thai").api_token is None and _named("cho-thai").api_token_set_at is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "Chợ Thái"}, "name", "Tên chỉ gồm chữ thường"),
        ({"secret": "short"}, "secret", "Khóa bí mật cần ít nhất 16 ký tự"),
        ({"secret": ""}, "secret", "Vui lòng nhập hoặc tạo khóa bí mật"),
        ({"provider": "casso", "auth_mode": "apikey"}, "auth_mode", "Casso chỉ hỗ trợ chữ ký HMAC"),
        ({"accounts": "0011-00"}, "accounts", "Số tài khoản không hợp lệ"),
        ({"api_token": "has space"}, "api_token", "API token không hợp lệ"),
    ],
    ids=["name", "short", "nosecret", "casso", "account", "token"],
)
def test_bad_input_is_answered_field_by_field_and_changes_nothing(
    world, client, auth, fields, field, message
):
    auth.login("admin")
    audits = db.session.scalar(select(func.count(AuditLog.id)))
    response = _create(client, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-err"' in html  # under its own field
    assert db.session.scalar(select(func.count(WebhookIntegration.id))) == 0
    assert db.session.scalar(select(func.count(AuditLog.id))) == audits


def test_a_second_integration_of_the_same_name_is_refused(world, client, auth):
    auth.login("admin")
    _create(client)
    again = _create(client, secret="another-secret-0123456789")
    assert again.status_code == 422
    assert "Tích hợp này đã có" in again.get_data(as_text=True)
    assert _named("cho-thai").secret == SECRET


def test_the_list_shows_each_integrations_health(world, client, auth, integrations):
    auth.login("admin")
    sepay, casso = integrations["sepay"], integrations["casso"]
    now = datetime.now(UTC)
    sepay.last_received_at = now - timedelta(minutes=3)
    # Casso: nothing for days (silent through any market hours), two bad signatures.
    casso.last_received_at = now - timedelta(days=2)
    db.session.add(
        IntegrationRefusal(integration_id=casso.id, reason="bad_signature", count=2, last_at=now)
    )
    db.session.commit()
    html = client.get("/admin/webhooks").get_data(as_text=True)
    sepay_card = html.split(f'id="integration-{sepay.id}"')[1].split("</section>")[0]
    casso_card = html.split(f'id="integration-{casso.id}"')[1].split("</section>")[0]
    assert "Im lặng" not in sepay_card and "Không có thông báo nào bị từ chối" in sepay_card
    assert "Im lặng" in casso_card
    assert 'data-reason="bad_signature"' in casso_card and "Sai chữ ký" in casso_card
    assert '<td class="num">2</td>' in casso_card


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/webhooks/new", {"provider": "sepay", "name": "x", "secret": SECRET}),
        ("/admin/webhooks/sepay", {"sepay-auth_mode": "hmac", "sepay-secret": SECRET}),
    ],
    ids=["new", "legacy"],
)
def test_the_forms_need_the_csrf_token(app, world, client, auth, path, data):
    auth.login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(path, data=data).status_code == 400
    page = client.get("/admin/webhooks/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert client.post(path, data=data | {"csrf_token": token.group(1)}).status_code in (200, 302)
    assert db.session.scalar(select(func.count(WebhookIntegration.id))) == 1
