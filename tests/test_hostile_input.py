"""No 5xx, whatever the input (issue 17, item 8): the examples the attack found."""

from __future__ import annotations

import pytest

from market.extensions import db


@pytest.mark.parametrize(
    "url",
    [
        "/markets/?page=99999999999999999999",
        "/markets/?page=9223372036854775808",
        "/markets/?page=-9223372036854775809",
        "/markets/TN-A?page=4611686018427387904",
        "/markets/TN-A?page=1000001",
    ],
)
def test_a_page_far_past_the_end_is_an_empty_page(world, client, auth, url):
    auth.login("admin")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("amount", ["9" * 5000, "²", "٣٣٣", "1" * 30])
def test_public_qr_with_a_hostile_amount_is_refused(world, client, amount):
    assert client.get(f"/stalls/TN-A/A-01/qr.png?amount={amount}").status_code == 422


@pytest.mark.parametrize("amount", ["9" * 5000, "٣٣٣"])
def test_pay_page_with_a_hostile_amount_is_not_an_error(world, client, amount):
    assert client.get(f"/pay/TN-A/A-01?amount={amount}").status_code < 500


@pytest.mark.parametrize("name", ["Chợ 🍉 Đồng Quang", "市場", "Chợ 𝔸 Thái"])
def test_sticker_pdf_for_a_name_the_font_lacks(world, client, auth, name):
    world.market_a.name = name
    world.payee_a.holder_name = "NGUYỄN 🙂"
    db.session.commit()
    auth.login("manager")
    response = client.get("/markets/TN-A/stickers.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    single = client.get("/markets/TN-A/stalls/A-01/sticker.pdf")
    assert single.status_code == 200 and single.data.startswith(b"%PDF")


def _state(world):
    db.session.expire_all()
    return (world.market_a.name, world.merchant_a.full_name, world.stall_a.zone)


@pytest.mark.parametrize(
    "method,url,data",
    [
        ("GET", "/markets/?q=Ch%00o", None),
        ("GET", "/markets/TN-A?q=%00", None),
        ("POST", "/markets/TN-A/edit", {"name": "Chợ\x00Thái", "district": "TP. Thái Nguyên"}),
        ("POST", "/markets/TN-A/stalls/A-01/merchant", {"full_name": "A\x00", "phone": "09"}),
        ("POST", "/markets/TN-A/stalls/A-01/edit", {"zone": "Khu\x07A"}),
    ],
)
def test_nul_and_control_characters_are_refused_not_a_500(world, client, auth, method, url, data):
    auth.login("manager")
    before = _state(world)
    response = client.open(url, method=method, data=data)
    assert response.status_code == 422
    assert _state(world) == before


@pytest.mark.parametrize("expected", ["²", "٣", "9" * 5000])
def test_payee_form_with_a_hostile_expected_id_is_not_an_error(world, client, auth, expected):
    auth.login("manager")
    data = {
        "bank_bin": "970436",
        "account_number": "0011001234567",
        "service": "account",
        "holder_name": "NGUYEN THI HOA",
        "expected_current_id": expected,
    }
    response = client.post("/markets/TN-A/stalls/A-01/payee", data=data)
    assert response.status_code < 500
