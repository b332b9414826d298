"""The figures on today's map: exports with a market without stalls, translated labels,
Vietnamese alphabetical order, grouping by commune/ward or former district, and the
dashboard's market table filtered and paged."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from market.adoption import queries
from market.auth.models import User
from market.extensions import db
from market.markets.models import Market
from market.places import services as places
from market.places.models import AdminUnit
from tests.adoption.conftest import NOW
from tests.conftest import HASH, Auth


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr(queries, "now_utc", lambda: NOW)


@pytest.fixture
def mapped(province):
    """The hand-built province placed on today's map: TN-A and TN-C in phường Phan Đình
    Phùng, SC-B in phường Sông Công, DT-D in no unit yet; plus a market of the former Bắc
    Kạn (no stalls) in phường Đức Xuân."""
    places.load_units(
        "Thái Nguyên",
        places.parse_unit_list(
            "code,name,kind\n05443,Phan Đình Phùng,phuong\n05518,Sông Công,phuong\n"
            "01840,Đức Xuân,phuong\n"
        ),
    )
    units = {u.code: u for u in db.session.scalars(select(AdminUnit))}
    province.a.admin_unit_id = province.c.admin_unit_id = units["05443"].id
    province.b.admin_unit_id = units["05518"].id
    bk = Market(
        code="BK-E",
        name="Chợ Đức Xuân",
        district="TP. Bắc Kạn",
        former_province="Bắc Kạn",
        admin_unit_id=units["01840"].id,
        status="planned",
    )
    db.session.add(bk)
    db.session.commit()
    return province


@pytest.fixture
def admin(mapped, client):
    user = User(username="admin", full_name="Admin", role="admin")
    user.password_hash = HASH
    db.session.add(user)
    db.session.commit()
    assert Auth(client).login("admin").status_code == 302
    return client


def _csv(body: bytes) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_csv_export_says_a_market_without_stalls_has_not_started(admin, now):
    rows = {r["Mã chợ"]: r for r in _csv(admin.get("/adoption/export.csv").data)}
    gamma = rows["TN-C"]  # planned, no stalls
    assert gamma["Tình trạng Chợ 4.0"] == "Chưa bắt đầu"
    assert gamma["Tiêu chí QR"] == "chưa bắt đầu"  # not "thiếu 1 sạp"
    assert gamma["Trạng thái"] == "Dự kiến"  # the status translated, not "planned"
    assert gamma["Sạp đang kinh doanh"] == "0"
    assert (gamma["Xã / phường"], gamma["Huyện cũ"]) == (
        "Phường Phan Đình Phùng",
        "TP. Thái Nguyên",
    )
    assert rows["BK-E"]["Tỉnh cũ"] == "Bắc Kạn"
    assert rows["TỔNG"]["Tình trạng Chợ 4.0"] == "2 chợ chưa bắt đầu"
    assert rows["TN-A"]["Tình trạng Chợ 4.0"] == "Đang triển khai, chưa đạt"
    assert rows["TN-A"]["Tiêu chí QR"] == "thiếu 1 sạp"


def test_csv_export_sorts_names_in_vietnamese_order(admin, now):
    names = [r["Tên chợ"] for r in _csv(admin.get("/adoption/export.csv").data)][:-1]
    # Đ after D (a byte or accent-blind sort puts Đức Xuân first or after Gamma).
    assert names == ["Chợ Alpha", "Chợ Beta", "Chợ Delta", "Chợ Đức Xuân", "Chợ Gamma"]


def test_english_export_translates_every_label_and_keeps_numbers_numeric(admin, now):
    admin.get("/lang/en")
    body = admin.get("/adoption/export.xlsx").data
    book = load_workbook(io.BytesIO(body))
    header, *rows = list(book["Cho"].iter_rows(values_only=True))
    gamma = dict(zip(header, next(r for r in rows if r[0] == "TN-C"), strict=True))
    assert gamma["Status"] == "Planned"
    assert gamma["Chợ 4.0 state"] == "Not started"
    assert gamma["Trading stalls"] == 0  # a number, not text
    a = dict(zip(header, next(r for r in rows if r[0] == "TN-A"), strict=True))
    assert a["Amount, 30 days (dong)"] == 515_000
    units = list(book["Theo xa phuong"].iter_rows(values_only=True))
    assert units[0][:2] == ("Commune / ward", "Markets")
    assert [u[0] for u in units[1:]] == [
        "Ward Đức Xuân",
        "Ward Phan Đình Phùng",
        "Ward Sông Công",
        "No commune / ward yet",
    ]
    targets = list(book["Muc tieu"].iter_rows(values_only=True))
    assert targets[1][5] == "not reached, deadline passed"


def test_xlsx_groups_by_commune_and_by_former_district(admin, now):
    book = load_workbook(io.BytesIO(admin.get("/adoption/export.xlsx").data))
    units = {r[0]: r for r in book["Theo xa phuong"].iter_rows(values_only=True)}
    # Phan Đình Phùng: TN-A (under way) and TN-C (not started).
    assert units["Phường Phan Đình Phùng"][1:4] == (2, 0, 1)
    districts = [r[0] for r in book["Theo huyen cu"].iter_rows(values_only=True)][1:]
    assert districts == ["TP. Thái Nguyên", "TP. Sông Công", "Huyện Đại Từ", "TP. Bắc Kạn"]


def test_dashboard_shows_thousands_separators(admin, now):
    html = admin.get("/adoption/").get_data(as_text=True)
    assert "Tiểu thương có QR: 3 / 2.100 dự kiến" in html
    admin.get("/lang/en")
    assert "3 / 2,100 expected" in admin.get("/adoption/").get_data(as_text=True)


def _codes(html: str) -> list[str]:
    import re

    table = html[html.index('id="markets"') :]
    return re.findall(r'href="/adoption/markets/([A-Z0-9-]+)"', table)


def test_market_table_filters_by_commune_stage_and_missing_criterion(admin, now):
    unit = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "05443"))
    assert _codes(admin.get(f"/adoption/?unit={unit.id}").get_data(as_text=True)) == [
        "TN-A",
        "TN-C",
    ]
    assert _codes(admin.get("/adoption/?stage=not_started").get_data(as_text=True)) == [
        "BK-E",
        "TN-C",
    ]
    assert _codes(admin.get("/adoption/?stage=qualifies").get_data(as_text=True)) == [
        "SC-B",
        "DT-D",
    ]
    missing = admin.get("/adoption/?stage=in_progress&missing=ecommerce_listed")
    assert _codes(missing.get_data(as_text=True)) == ["TN-A"]
    assert _codes(admin.get("/adoption/?unit=0").get_data(as_text=True)) == ["DT-D"]
    # Nonsense filters are ignored, never an error.
    assert admin.get("/adoption/?unit=x&stage=zz&missing=zz&page=-4").status_code == 200
    assert admin.get("/adoption/?unit=²").status_code == 200


def test_market_table_pages(admin, now, monkeypatch):
    from market.adoption import views

    monkeypatch.setattr(views, "MARKETS_PER_PAGE", 2)
    first = admin.get("/adoption/").get_data(as_text=True)
    assert _codes(first)[:2] == ["TN-A", "SC-B"]
    assert "5 chợ phù hợp" in first and "trang 1 / 3" in first
    third = admin.get("/adoption/?page=3").get_data(as_text=True)
    assert _codes(third)[0] == "TN-C"
    # The pages keep the filters.
    filtered = admin.get("/adoption/?stage=not_started&page=1").get_data(as_text=True)
    assert "2 chợ phù hợp" in filtered


def test_group_by_former_district_is_an_option(admin, now):
    html = admin.get("/adoption/?group=district").get_data(as_text=True)
    assert "Theo huyện cũ (trước 1/7/2025)" in html
    assert '<th scope="row">TP. Bắc Kạn</th>' in html
    html = admin.get("/adoption/").get_data(as_text=True)
    assert '<th scope="row">Phường Đức Xuân</th>' in html


def test_market_page_of_a_market_without_stalls_says_not_started(admin, now):
    html = admin.get("/adoption/markets/TN-C").get_data(as_text=True)
    assert "chưa bắt đầu: chợ chưa có sạp đang kinh doanh" in html
    assert "thiếu 1 sạp" not in html
    assert "Phường Phan Đình Phùng (TP. Thái Nguyên)" in html
