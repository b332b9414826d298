"""The demo data set is on today's map and includes markets of the former Bắc Kạn."""

from sqlalchemy import select

from market import demo
from market.adoption.models import AdoptionTarget
from market.extensions import db
from market.markets.models import Market


def test_every_demo_market_is_in_a_commune_or_ward_of_the_merged_province(app):
    demo.load()
    markets = db.session.scalars(select(Market)).all()
    unplaced = [(m.code, m.district, m.commune) for m in markets if m.admin_unit is None]
    assert unplaced == []
    assert {m.admin_unit.province for m in markets} == {"Thái Nguyên"}
    bac_kan = [m for m in markets if m.former_province == "Bắc Kạn"]
    assert len(bac_kan) >= 5
    assert all("Bắc Kạn" in m.admin_unit.former_provinces for m in bac_kan)
    chothai = next(m for m in markets if m.code == "TN-CHOTHAI")
    assert chothai.admin_unit.full_name == "Phường Phan Đình Phùng"
    assert chothai.district == "TP. Thái Nguyên"  # the former district, kept
    targets = db.session.scalars(select(AdoptionTarget).order_by(AdoptionTarget.deadline)).all()
    assert [(t.markets, t.former_province) for t in targets] == [(60, "Thái Nguyên"), (80, "")]
