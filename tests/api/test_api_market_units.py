"""A market's commune or ward (today's map) through the API, and its former place kept."""

from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.markets.models import Market
from market.places import services as places


def _load_units():
    places.load_units(
        "Thái Nguyên",
        places.parse_unit_list(
            "code,name,kind\n05443,Phan Đình Phùng,phuong\n01840,Đức Xuân,phuong\n"
            ",Gia Sàng,phuong\n,Gia Sàng,xa\n"
        ),
    )


def test_market_is_placed_in_a_ward_by_code_or_name(world, api):
    _load_units()
    created = api.post(
        "/markets",
        json={
            "code": "BK-1",
            "name": "Chợ Bắc Kạn",
            "admin_unit": "phường đức xuân",
            "district": "TP. Bắc Kạn",
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["admin_unit"]["full_name"] == "Phường Đức Xuân"
    assert body["admin_unit"]["code"] == "01840"
    # The former district says which former province the market was in.
    assert (body["district"], body["former_province"]) == ("TP. Bắc Kạn", "Bắc Kạn")
    moved = api.patch("/markets/BK-1", json={"admin_unit": "05443"})
    assert moved.get_json()["admin_unit"]["name"] == "Phan Đình Phùng"
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "market.update")).one()
    assert set(entry.new) == {"admin_unit_id"}
    cleared = api.patch("/markets/BK-1", json={"admin_unit": None})
    assert cleared.get_json()["admin_unit"] is None


def test_unknown_or_ambiguous_unit_is_a_field_error_and_changes_nothing(world, api):
    _load_units()
    before = db.session.scalar(select(func.count(Market.id)))
    for name in ("Phường Không Có", "Gia Sàng"):
        refused = api.post("/markets", json={"code": "X-1", "name": "Chợ X", "admin_unit": name})
        assert refused.status_code == 422
        assert "admin_unit" in refused.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count(Market.id))) == before
    # Its full name tells the two apart.
    assert (
        api.post(
            "/markets", json={"code": "X-1", "name": "Chợ X", "admin_unit": "Xã Gia Sàng"}
        ).status_code
        == 201
    )
