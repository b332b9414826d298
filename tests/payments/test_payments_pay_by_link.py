"""The pay page for a shopper on the phone they pay with: copy rows, the saved QR card, bank
app links; and the merchant's shared link with amount and order reference. Both databases."""

from __future__ import annotations

import html as html_lib
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image

from market.vietqr import bank_apps, parse_payload
from tests.payments.conftest import post_sepay, sepay_body
from tests.payments.test_payments_pages import _csp_clean


def _deeplinks(html: str) -> dict[str, str]:
    found = re.findall(
        r'<a href="(https://dl\.vietqr\.io/pay\?[^"]+)"[^>]*data-app="([^"]+)"', html
    )
    return {app: html_lib.unescape(href) for href, app in found}


def _query(link: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def _decode(png: bytes) -> str:
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


def test_pay_page_offers_copy_rows_save_and_every_bank_app(world, client):
    response = client.get("/pay/TN-A/A-01?amount=25.000")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="copy-account">0011001234567<' in html
    assert 'id="copy-amount">25000<' in html
    assert 'id="copy-content-row" hidden' in html  # no order reference: nothing to copy
    assert 'href="/pay/TN-A/A-01/qr-card.png?amount=25000"' in html
    links = _deeplinks(html)
    assert list(links) == [app.app_id for app in bank_apps()]  # most installed first
    fields = _query(links["mb"])
    assert fields["app"] == "mb"
    assert fields["ba"] == "0011001234567@vcb"
    assert fields["am"] == "25000"
    assert set(fields) == {"app", "ba", "am"}  # no content without an order reference
    assert "@vcb" in links["mb"]  # "@" unescaped, as the scheme asks
    _csp_clean(html)
    assert 'src="/static/copy.js"' in html


def test_pay_page_says_which_apps_fill_in_and_which_only_open(world, client):
    html = client.get("/pay/TN-A/A-01").get_data(as_text=True)
    items = re.findall(r'data-app="([^"]+)">(.*?)</a>', html, re.S)
    said = {app: ("Tự điền" in body, "Chỉ mở ứng dụng" in body) for app, body in items}
    for app in bank_apps():
        assert said[app.app_id] == (app.autofill, not app.autofill)


def test_static_pay_page_links_carry_no_amount(world, client):
    html = client.get("/pay/TN-A/A-01").get_data(as_text=True)
    assert 'id="copy-amount-row" hidden' in html
    assert "am" not in _query(_deeplinks(html)["vcb"])


def test_shared_link_with_a_reference_fills_the_content_everywhere(world, client):
    response = client.get("/pay/TN-A/A-01?amount=200000&ref=a01+k7q3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="copy-content">A01 K7Q3<' in html
    [src] = [s for s in re.findall(r'<img[^>]*\ssrc="([^"]+)"', html)]
    assert parse_qs(urlsplit(html_lib.unescape(src)).query) == {
        "amount": ["200000"],
        "purpose": ["A01 K7Q3"],
    }
    fields = _query(_deeplinks(html)["bidv"])
    assert (fields["am"], fields["tn"]) == ("200000", "A01 K7Q3")
    # Typing another amount keeps the reference (hidden field of the GET form).
    assert '<input type="hidden" name="ref" value="A01 K7Q3">' in html


@pytest.mark.parametrize("ref", ["Chuyen cho so 0123", "A01 K7Q", "<b>x</b> ABCD"])
def test_a_reference_of_another_shape_is_refused_not_shown(world, client, ref):
    response = client.get("/pay/TN-A/A-01", query_string={"amount": "5000", "ref": ref})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "không đúng dạng" in html
    assert 'id="copy-content-row" hidden' in html
    assert all("tn" not in _query(link) for link in _deeplinks(html).values())


def test_pay_page_sets_no_cookie_and_writes_nothing(world, client):
    response = client.get("/pay/TN-A/A-01?amount=25000")
    assert "Set-Cookie" not in response.headers
    card = client.get("/pay/TN-A/A-01/qr-card.png?amount=25000")
    assert "Set-Cookie" not in card.headers


def test_pay_page_stays_light(world, client):
    html = client.get("/pay/TN-A/A-01?amount=25000&ref=A01+K7Q3").get_data()
    assets = []
    for name in ("pay.js", "copy.js", "payments.css"):
        with client.get(f"/static/{name}") as response:
            assets.append(response.get_data())
    *scripts, css = assets
    assert len(html) < 18_000, len(html)
    assert sum(map(len, scripts)) < 6_000
    assert len(css) < 8_000
    assert b"<script src=" in html and html.count(b"<script") == 2


def test_saved_card_decodes_to_the_pages_payload_with_the_amount(world, client):
    response = client.get("/pay/TN-A/A-01/qr-card.png?amount=25.000&ref=A01+K7Q3")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="QR-sap-A-01-25000d-A01-K7Q3.png"'
    )
    qr = parse_payload(_decode(response.get_data()))
    assert (qr.account, qr.amount, qr.purpose) == ("0011001234567", 25000, "A01 K7Q3")
    again = client.get(
        "/pay/TN-A/A-01/qr-card.png?amount=25.000&ref=A01+K7Q3",
        headers={"If-None-Match": response.headers["ETag"].strip('"')},
    )
    assert again.status_code == 304


def test_static_card_has_no_amount_and_a_plain_name(world, client):
    response = client.get("/pay/TN-A/A-01/qr-card.png")
    assert 'filename="QR-sap-A-01.png"' in response.headers["Content-Disposition"]
    assert parse_payload(_decode(response.get_data())).amount is None


@pytest.mark.parametrize(
    ("query", "field"), [("amount=abc", "amount"), ("amount=5000&ref=hello", "ref")]
)
def test_card_with_bad_arguments_is_refused_per_field(world, client, query, field):
    response = client.get(
        f"/pay/TN-A/A-01/qr-card.png?{query}", headers={"Accept": "application/json"}
    )
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_card_of_a_closed_stall_is_refused(world, client):
    world.stall_a.status = "closed"
    from market.extensions import db

    db.session.commit()
    assert client.get("/pay/TN-A/A-01/qr-card.png").status_code == 404


# --- the merchant's collect screen: a link to share instead of a QR to scan -----------------


def _status(client, order):
    return client.get(f"/collect/orders/{order.id}/status.json").get_json()


def test_order_offers_a_link_with_its_amount_and_reference(world, order_a, client, auth):
    auth.login("merchant")
    status = _status(client, order_a)
    parts = urlsplit(status["pay_url"])
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "localhost", "/pay/TN-A/A-01")
    assert parse_qs(parts.query) == {"amount": ["200000"], "ref": ["A01 K7Q3"]}
    html = client.get(f"/collect/orders/{order_a.id}").get_data(as_text=True)
    assert f'id="share-link">{html_lib.escape(status["pay_url"])}<' in html
    assert f'href="{html_lib.escape(status["card_url"])}" download' in html
    _csp_clean(html)
    # The shopper's page behind the link asks for the order's amount under its reference.
    client.post("/logout")
    page = client.get(status["pay_url"]).get_data(as_text=True)
    assert 'id="copy-content">A01 K7Q3<' in page
    assert _query(_deeplinks(page)["mb"])["tn"] == "A01 K7Q3"
    card = client.get(status["card_url"])
    qr = parse_payload(_decode(card.get_data()))
    assert (qr.amount, qr.purpose) == (200_000, "A01 K7Q3")


def test_after_a_short_payment_the_link_asks_for_the_rest(
    world, integrations, order_a, client, auth
):
    auth.login("merchant")
    assert post_sepay(client, sepay_body(31, amount=50_000, content="A01 K7Q3")).status_code == 200
    status = _status(client, order_a)
    assert parse_qs(urlsplit(status["pay_url"]).query)["amount"] == ["150000"]
    assert parse_qs(urlsplit(status["card_url"]).query)["amount"] == ["150000"]


def test_paid_order_hides_the_link(world, integrations, order_a, client, auth):
    auth.login("merchant")
    assert post_sepay(client, sepay_body(32, content="A01 K7Q3")).status_code == 200
    html = client.get(f"/collect/orders/{order_a.id}").get_data(as_text=True)
    assert re.search(r'<details id="order-share"[^>]*\shidden', html)


def test_card_downloads_are_rate_limited_per_address(world, app, client):
    app.config["PAY_CARD_RATE_LIMIT"] = "2 per minute"
    for amount in (1000, 2000):
        assert client.get(f"/pay/TN-A/A-01/qr-card.png?amount={amount}").status_code == 200
    refused = client.get("/pay/TN-A/A-01/qr-card.png?amount=3000")
    assert refused.status_code == 429
    assert "Set-Cookie" not in refused.headers
    assert client.get("/pay/TN-A/A-01").status_code == 200  # the page itself is not limited
