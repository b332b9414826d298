"""A merchant's record is shared by the markets where they hold a stall (issue 17, item 1).

A manager of market A, naming by phone number a merchant who holds stalls only in market B,
neither changes nor learns their record, through the form, the API or the import: the
assignment is refused with the same words whatever name was typed. A merchant of A and B is
brought to another stall of A unchanged, but only the province edits their personal data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from market.auth.services import create_api_token
from market.extensions import db
from market.markets import importing
from market.markets.models import Stall
from market.merchants.models import Merchant

B_PHONE = "0987654321"  # merchant B of tests.conftest.World, stalls only in market B
HEADER = (
    "ma_sap,khu,nganh_hang,trang_thai,ho_ten,so_dien_thoai,ma_so_thue,dong_y,ngan_hang,"
    "so_tai_khoan,loai_tai_khoan,ten_chu_tai_khoan"
)


def _record(phone=B_PHONE):
    db.session.expire_all()
    m = db.session.scalar(select(Merchant).where(Merchant.phone == phone))
    return (m.full_name, m.tax_code, m.consent, m.consent_at)


def _holder(world, code="A-01"):
    db.session.expire_all()
    return db.session.scalar(
        select(Stall.merchant_id).where(Stall.market_id == world.market_a.id, Stall.code == code)
    )


def _form(client, auth, user, name, phone=B_PHONE, tax="", consent=False):
    auth.login(user)
    data = {"full_name": name, "phone": phone, "tax_code": tax}
    if consent:
        data["consent"] = "y"
    return client.post("/markets/TN-A/stalls/A-01/merchant", data=data)


def _api(world, client, user, name, phone=B_PHONE, consent=False):
    _token, secret = create_api_token(world.users[user], "t")
    return client.put(
        "/api/v1/markets/TN-A/stalls/A-01/merchant",
        json={"full_name": name, "phone": phone, "consent": consent},
        headers={"Authorization": f"Bearer {secret}"},
    )


def _import(world, user, name, phone=B_PHONE):
    row = f"A-01,Khu A,rau-cu,active,{name},{phone},,có,,,,"
    return importing.run_import(
        world.users[user], world.market_a, "x.csv", f"{HEADER}\n{row}\n".encode(), dry_run=False
    )


@pytest.mark.parametrize("user", ["manager", "helper"])
def test_form_cannot_overwrite_or_reveal_another_markets_merchant(world, client, auth, user):
    before, holder = _record(), _holder(world)
    answers = []
    for name in ("Kẻ Giả Mạo", "Trần Văn Bình"):  # a wrong name and the real one
        response = _form(client, auth, user, name, tax="0101234567", consent=False)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "đã được chợ khác đăng ký" in page
        answers.append(page.replace(name, "NAME"))
    assert answers[0] == answers[1]  # the same words whatever was typed: nothing learnt
    assert "Trần Văn Bình" not in answers[1].replace("NAME", "")
    assert (_record(), _holder(world)) == (before, holder)


def test_api_cannot_overwrite_or_reveal_another_markets_merchant(world, client):
    before, holder = _record(), _holder(world)
    bodies = []
    for name in ("Kẻ Giả Mạo", "Trần Văn Bình"):
        response = _api(world, client, "manager", name)
        assert response.status_code == 422
        bodies.append(response.get_json())
        assert "phone" in response.get_json()["error"]["fields"]
    assert bodies[0] == bodies[1]
    assert "Trần Văn Bình" not in str(bodies[1])
    assert (_record(), _holder(world)) == (before, holder)


def test_import_cannot_overwrite_or_reveal_another_markets_merchant(world):
    before, holder = _record(), _holder(world)
    reports = [_import(world, "manager", name) for name in ("Kẻ Giả Mạo", "Trần Văn Bình")]
    for report in reports:
        assert not report.applied
        assert [e.column for e in report.errors] == ["so_dien_thoai"]
    assert reports[0].errors == reports[1].errors
    assert (_record(), _holder(world)) == (before, holder)


def test_the_province_may_assign_and_edit_anyone(world, client, auth):
    response = _form(client, auth, "admin", "Trần Văn Bình (sửa)")
    assert response.status_code == 302
    assert _holder(world) == world.merchant_b.id
    assert _record()[0] == "Trần Văn Bình (sửa)"


def _share_merchant_a_with_market_b(world):
    db.session.add(
        Stall(market_id=world.market_b.id, code="B-07", status="active", merchant=world.merchant_a)
    )
    db.session.commit()


def test_a_merchant_of_two_markets_is_edited_by_neither_manager_alone(world, client, auth):
    _share_merchant_a_with_market_b(world)
    before = _record(world.merchant_a.phone)
    response = _form(client, auth, "manager", "Tên Khác", phone=world.merchant_a.phone)
    assert response.status_code == 422
    assert "chỉ quản trị viên của tỉnh mới sửa được" in response.get_data(as_text=True)
    assert _record(world.merchant_a.phone) == before
    report = _import(world, "manager", "Tên Khác", phone=world.merchant_a.phone)
    assert not report.applied and _record(world.merchant_a.phone) == before


def test_a_merchant_of_two_markets_can_take_another_stall_unchanged(world, client, auth):
    _share_merchant_a_with_market_b(world)
    db.session.add(Stall(market_id=world.market_a.id, code="A-05", status="active"))
    db.session.commit()
    auth.login("manager")
    response = client.post(
        "/markets/TN-A/stalls/A-05/merchant",
        data={"full_name": "Nguyễn Thị Hoa", "phone": world.merchant_a.phone, "consent": "y"},
    )
    assert response.status_code == 302
    assert _holder(world, "A-05") == world.merchant_a.id


def test_own_merchants_are_still_edited_by_their_market(world, client, auth):
    response = _form(
        client, auth, "manager", "Nguyễn Thị Hoa Mới", phone="0912345678", consent=True
    )
    assert response.status_code == 302
    assert _record("0912345678")[0] == "Nguyễn Thị Hoa Mới"
