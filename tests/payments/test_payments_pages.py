"""The shopper's pay page, the merchant's collect screen and day view, the admin's settings."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from market.audit.models import AuditLog
from market.extensions import db
from market.payments.models import CollectOrder, WebhookIntegration
from market.payments.values import REFERENCE_ALPHABET
from market.vietqr import parse_payload
from tests.payments.conftest import post_sepay, sepay_body

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def _csp_clean(html: str) -> None:
    assert not INLINE_SCRIPT.search(html), "inline script"
    assert " style=" not in html, "inline style"
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "inline event handler"


def _img_srcs(html: str) -> list[str]:
    return [src.replace("&amp;", "&") for src in re.findall(r'<img[^>]*\ssrc="([^"]+)"', html)]


# --- pay page -------------------------------------------------------------------------------


def test_pay_page_shows_stall_holder_and_static_qr(world, client):
    response = client.get("/pay/TN-A/A-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Chợ Đồng Quang", "A-01", "NGUYEN THI HOA", "0011001234567"):
        assert text in html
    [src] = _img_srcs(html)
    assert urlsplit(src).path == "/stalls/TN-A/A-01/qr.svg"
    assert "amount" not in src
    _csp_clean(html)
    assert 'src="/static/pay.js"' in html


def test_pay_page_amount_with_thousands_separator_gives_a_dynamic_qr(world, client):
    html = client.get("/pay/TN-A/A-01?amount=25.000").get_data(as_text=True)
    [src] = _img_srcs(html)
    assert parse_qs(urlsplit(src).query) == {"amount": ["25000"]}
    assert "25.000" in html
    image = client.get(src)
    assert image.status_code == 200
    assert image.mimetype == "image/svg+xml"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "Số tiền “abc” không hợp lệ"),
        ("25,5", "Số tiền “25,5” không hợp lệ"),
        ("0", "Số tiền phải lớn hơn 0 đồng"),
        ("600.000.000", "Số tiền tối đa cho một lần chuyển là 500.000.000 đồng"),
    ],
)
def test_pay_page_bad_amount_shows_a_vietnamese_error(world, client, amount, message):
    response = client.get("/pay/TN-A/A-01", query_string={"amount": amount})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    # The static code still works for the shopper.
    assert [urlsplit(s).path for s in _img_srcs(html)] == ["/stalls/TN-A/A-01/qr.svg"]


def test_pay_page_refuses_a_closed_stall_or_an_unverified_payee(world, client):
    assert client.get("/pay/TN-A/NOPE").status_code == 404
    world.payee_a.verified_at = None
    db.session.commit()
    assert client.get("/pay/TN-A/A-01").status_code == 409
    world.stall_a.status = "closed"
    db.session.commit()
    assert client.get("/pay/TN-A/A-01").status_code == 404


# --- collect mode ---------------------------------------------------------------------------


def test_collect_screen_has_the_keypad_and_no_inline_code(world, client, auth):
    auth.login("merchant")
    html = client.get("/collect/TN-A/A-01").get_data(as_text=True)
    assert 'data-key="000"' in html
    assert 'src="/static/collect.js"' in html
    _csp_clean(html)


def test_merchant_creates_an_order_with_a_dynamic_qr_and_short_reference(world, client, auth):
    auth.login("merchant")
    response = client.post(
        "/collect/TN-A/A-01", data={"amount": "200.000"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 201
    status = response.get_json()
    assert re.fullmatch(rf"A01 [{REFERENCE_ALPHABET}]{{4}}", status["reference"])
    assert (status["status"], status["amount"], status["amount_text"]) == (
        "pending",
        200_000,
        "200.000",
    )
    qr = parse_payload(status["payload"])
    assert (qr.initiation, qr.amount, qr.purpose) == ("12", 200_000, status["reference"])
    assert qr.account == "0011001234567"
    assert parse_qs(urlsplit(status["qr_url"]).query) == {
        "amount": ["200000"],
        "purpose": [status["reference"]],
    }
    assert client.get(status["qr_url"]).status_code == 200
    order = db.session.scalar(select(CollectOrder))
    assert (order.stall_id, order.created_by_id) == (world.stall_a.id, world.users["merchant"].id)


def test_collect_without_javascript_redirects_to_the_order_page(world, client, auth):
    auth.login("merchant")
    response = client.post("/collect/TN-A/A-01", data={"amount": "15000"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    order = db.session.scalar(select(CollectOrder))
    assert order.reference in html
    assert 'http-equiv="refresh"' in html  # inside <noscript>
    _csp_clean(html)


def test_collect_bad_amount_is_422_with_the_message(world, client, auth):
    auth.login("merchant")
    response = client.post("/collect/TN-A/A-01", data={"amount": "12,5"})
    assert response.status_code == 422
    assert "không hợp lệ" in response.get_data(as_text=True)
    response = client.post(
        "/collect/TN-A/A-01", data={"amount": ""}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["amount"] == ["Vui lòng nhập số tiền."]
    assert db.session.scalar(select(CollectOrder)) is None


def _status(client, order):
    return client.get(f"/collect/orders/{order.id}/status.json").get_json()


def test_status_turns_paid_with_the_spoken_amount(world, integrations, order_a, client, auth):
    auth.login("merchant")
    assert _status(client, order_a)["status"] == "pending"
    assert _status(client, order_a)["speech"] is None
    assert post_sepay(client, sepay_body(7, content="A01 K7Q3")).status_code == 200
    status = _status(client, order_a)
    assert status["status"] == "paid"
    assert status["speech"] == "Đã nhận 200.000 đồng"
    assert status["received_text"] == "200.000"


def test_short_payment_is_never_announced_as_paid(world, integrations, order_a, client, auth):
    auth.login("merchant")
    assert post_sepay(client, sepay_body(8, amount=200, content="A01K7Q3")).status_code == 200
    status = _status(client, order_a)
    assert status["status"] == "short"
    assert status["message"].startswith("CHƯA ĐỦ")
    assert "Đã nhận" not in status["speech"]
    assert "còn thiếu 199.800 đồng" in status["speech"]


def test_short_payment_qr_asks_for_what_is_still_missing(
    world, integrations, order_a, client, auth
):
    auth.login("merchant")
    assert post_sepay(client, sepay_body(21, amount=50_000, content="A01 K7Q3")).status_code == 200
    status = _status(client, order_a)
    assert (status["status"], status["due_amount"], status["shown_text"]) == (
        "short",
        150_000,
        "150.000",
    )
    assert status["shown_label"].startswith("Còn thiếu")
    # Same reference, so the second transfer is added to this order.
    qr = parse_payload(status["payload"])
    assert (qr.amount, qr.purpose) == (150_000, "A01 K7Q3")
    assert parse_qs(urlsplit(status["qr_url"]).query)["amount"] == ["150000"]
    html = client.get(f"/collect/orders/{order_a.id}").get_data(as_text=True)
    assert [src for src in _img_srcs(html) if "qr.svg" in src] == [status["qr_url"]]
    assert post_sepay(client, sepay_body(22, amount=150_000, content="A01K7Q3")).status_code == 200
    assert _status(client, order_a)["status"] == "paid"


def test_paid_order_hides_its_qr_and_offers_a_new_sale(world, integrations, order_a, client, auth):
    auth.login("merchant")
    assert post_sepay(client, sepay_body(23, content="A01 K7Q3")).status_code == 200
    status = _status(client, order_a)
    assert (status["due_amount"], status["shown_label"], status["shown_text"]) == (
        0,
        "Đã nhận",
        "200.000",
    )
    html = client.get(f"/collect/orders/{order_a.id}").get_data(as_text=True)
    # No QR left for a second shopper to pay (the page without JavaScript, too).
    assert not [src for src in _img_srcs(html) if "qr.svg" in src]
    assert re.search(r'id="order-qr-box"[^>]*\shidden', html)
    assert re.search(r'<p id="order-done"[^>]*>', html).group(0).find("hidden") == -1
    assert 'id="order-new"' in html and "Thu khoản mới" in html


def test_pending_order_page_shows_the_qr_and_hides_the_paid_banner(world, order_a, client, auth):
    auth.login("merchant")
    html = client.get(f"/collect/orders/{order_a.id}").get_data(as_text=True)
    assert len([src for src in _img_srcs(html) if "qr.svg" in src]) == 1
    assert re.search(r'<p id="order-done"[^>]*\shidden', html)
    assert "Số tiền khách cần chuyển" in html


def test_collect_screen_speaks_english_after_a_switch_in_the_same_test(
    world, integrations, order_a, client, auth
):
    # The app fixture keeps one app context open; each request must still pick its language.
    auth.login("merchant")
    assert "Đang chờ khách chuyển" in _status(client, order_a)["message"]
    client.get("/lang/en")
    status = _status(client, order_a)
    # English groups thousands with commas: a voice reads "200.000" as two hundred point zero.
    assert status["message"] == "Waiting for the shopper to transfer 200,000 dong"
    assert (status["shown_label"], status["shown_text"]) == (
        "Amount the shopper should transfer",
        "200,000",
    )
    assert post_sepay(client, sepay_body(31, content="A01 K7Q3")).status_code == 200
    assert _status(client, order_a)["speech"] == "Received 200,000 dong"
    # The keypad groups as it types, with the page's separator.
    assert 'data-group=","' in client.get("/collect/TN-A/A-01").get_data(as_text=True)


def test_pay_page_gives_pay_js_its_sentences_in_the_page_language(world, client):
    html = client.get("/pay/TN-A/A-01").get_data(as_text=True)
    assert 'data-template="Quét để chuyển {amount} đồng"' in html
    assert 'data-alt="Mã QR chuyển {amount} đồng cho sạp A-01"' in html
    client.get("/lang/en")
    html = client.get("/pay/TN-A/A-01?amount=25000").get_data(as_text=True)
    assert 'data-template="Scan to pay {amount} dong"' in html
    assert "Scan to pay 25,000 dong" in html and 'data-group=","' in html
    assert "Quét" not in html


def test_day_view_lists_todays_payments_and_total(world, integrations, order_a, client, auth):
    assert post_sepay(client, sepay_body(9, amount=25_000, content="A01 K7Q3")).status_code == 200
    assert post_sepay(client, sepay_body(10, amount=30_000)).status_code == 200
    assert post_sepay(client, sepay_body(11, amount=99_000, kind="out")).status_code == 200
    assert (
        post_sepay(client, sepay_body(12, amount=1_000, account="101867123456")).status_code == 200
    )
    auth.login("merchant")
    html = client.get("/collect/TN-A/A-01/today").get_data(as_text=True)
    assert '<dd id="day-total">55.000 ₫</dd>' in html
    assert "A01 K7Q3" in html and "chưa đủ" in html
    assert "99.000" not in html and "1.000 ₫" not in html


# --- admin ----------------------------------------------------------------------------------


def test_admin_generates_a_secret_shown_once_and_audited_without_it(world, client, auth):
    auth.login("admin")
    response = client.post(
        "/admin/webhooks/sepay",
        data={"sepay-auth_mode": "hmac", "sepay-generate": "y", "sepay-enabled": "y"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    integration = db.session.scalar(select(WebhookIntegration))
    html = response.get_data(as_text=True)
    assert integration.secret in html
    later = client.get("/admin/webhooks").get_data(as_text=True)
    assert integration.secret not in later
    # Write-only: only when it was set, never a part of it.
    assert integration.secret[-4:] not in later and "đã đặt ngày" in later
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "webhook.configure"))
    assert entry.new == {
        "provider": "sepay",
        "auth_mode": "hmac",
        "enabled": True,
        "secret_changed": True,
    }
    assert integration.secret not in str(entry.old) + str(entry.new)


def test_admin_pastes_cassos_key_and_cannot_pick_api_key_mode(world, client, auth):
    auth.login("admin")
    bad = client.post(
        "/admin/webhooks/casso", data={"casso-auth_mode": "apikey", "casso-secret": "k" * 64}
    )
    assert bad.status_code == 422
    assert "Casso chỉ hỗ trợ chữ ký HMAC" in bad.get_data(as_text=True)
    short = client.post(
        "/admin/webhooks/casso", data={"casso-auth_mode": "hmac", "casso-secret": "abc"}
    )
    assert short.status_code == 422
    good = client.post(
        "/admin/webhooks/casso",
        data={"casso-auth_mode": "hmac", "casso-secret": "k" * 64, "casso-enabled": "y"},
    )
    assert good.status_code == 200
    assert "k" * 64 not in good.get_data(as_text=True)
    integration = db.session.scalar(select(WebhookIntegration))
    assert (integration.provider, integration.secret, integration.enabled) == (
        "casso",
        "k" * 64,
        True,
    )
