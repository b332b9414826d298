"""The dashboard pages: what they show, that they keep to the CSP (no inline script or style),
that each chart has a title and a table, and the manager's CSRF-protected declaration form."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from market.adoption import queries
from market.app import create_app
from market.audit.models import AuditLog
from market.auth.models import User
from market.extensions import db
from market.markets.models import Market
from tests.adoption.conftest import NOW
from tests.conftest import HASH, PASSWORD, Auth


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr(queries, "now_utc", lambda: NOW)


@pytest.fixture
def people(province):
    users = {
        "admin": User(username="admin", full_name="Admin", role="admin"),
        "manager": User(
            username="manager", full_name="Manager", role="manager", markets=[province.a]
        ),
        "helper": User(username="helper", full_name="Helper", role="helper", markets=[province.a]),
    }
    for user in users.values():
        user.password_hash = HASH
        db.session.add(user)
    db.session.commit()
    return users


def _page(client, url: str, as_: str) -> str:
    assert Auth(client).login(as_).status_code == 302
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    return response.get_data(as_text=True)


def _keeps_to_the_csp(html: str) -> None:
    assert "<script" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_province_dashboard(client, people, now):
    html = _page(client, "/adoption/", "admin")
    _keeps_to_the_csp(html)
    assert "adoption.css" in html
    assert "Chợ đạt chuẩn Chợ 4.0: 2" in html
    # No target saved yet: the settings' one; its deadline, 31/12/2025, has passed.
    assert "Chưa đạt đến 31/12/2025; hiện có 2 / 60 chợ." in html
    assert "615.000 ₫" in html  # money as Vietnamese people write it
    assert "03/02/2026" in html and "04/03/2026" in html  # the window, dd/mm/yyyy
    assert "còn thiếu 1 sạp có QR" in html  # closest to qualifying: TN-A
    # Four charts (target, merchants, two weekly trends, districts), each with a <title>.
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) == 5
    assert all("<title" in svg for svg in svgs)
    assert html.count('<table class="numbers') >= 3  # the numbers behind the charts, and more
    for code in ("TN-A", "SC-B", "TN-C", "DT-D"):
        assert f"/adoption/markets/{code}" in html


def test_a_managers_dashboard_shows_only_their_markets(client, people, now):
    html = _page(client, "/adoption/", "manager")
    assert "/adoption/markets/TN-A" in html
    assert "/adoption/markets/SC-B" not in html
    assert "Chợ đạt chuẩn Chợ 4.0: 0 / 1 chợ của bạn" in html


def test_nav_link_for_admins_and_managers_only(client, people):
    assert 'href="/adoption/"' in _page(client, "/markets/", "manager")
    assert 'href="/adoption/"' not in _page(client, "/markets/", "helper")


def test_market_page_shows_criteria_series_and_the_form(client, people, now):
    html = _page(client, "/adoption/markets/TN-A", "manager")
    _keeps_to_the_csp(html)
    assert "3 / 4 sạp có QR, cần 4" in html
    assert "thiếu 1 sạp" in html
    assert "từ 01/01/2026" in html  # fees cashless since
    assert 'name="fees_cashless_since"' in html and 'value="2026-01-01"' in html
    assert 'type="date"' in html
    assert len(re.findall(r"<svg ", html)) == 3  # per day, week and month


def test_market_without_stalls_page(client, people, now):
    html = _page(client, "/adoption/markets/TN-C", "admin")
    # Not "0 / 0 stalls with a QR, 1 needed, 1 missing": it has not started.
    assert "chưa bắt đầu: chợ chưa có sạp đang kinh doanh" in html
    assert "thiếu 1 sạp" not in html
    assert "chưa tới ngày" in html  # fees declared from tomorrow


def test_declaring_the_criteria_is_saved_and_audited(client, people, province):
    Auth(client).login("manager")
    response = client.post(
        "/adoption/markets/TN-A/criteria",
        data={
            "fees_cashless_since": "2026-01-01",
            "ecommerce_listed_since": "2026-02-14",
            "ecommerce_note": "  Shopee:   mật ong  ",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    market = db.session.scalar(select(Market).where(Market.code == "TN-A"))
    assert (market.ecommerce_listed_since, market.ecommerce_note) == (
        date(2026, 2, 14),
        "Shopee: mật ong",
    )
    [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "market.adoption"))
    assert (entry.market_id, entry.actor_id) == (market.id, people["manager"].id)
    assert entry.old["ecommerce_listed_since"] is None
    assert entry.new["ecommerce_listed_since"] == "2026-02-14"
    # Saving the same again changes nothing and logs nothing.
    client.post(
        "/adoption/markets/TN-A/criteria",
        data={
            "fees_cashless_since": "2026-01-01",
            "ecommerce_listed_since": "2026-02-14",
            "ecommerce_note": "Shopee: mật ong",
        },
    )
    assert len(db.session.scalars(select(AuditLog)).all()) == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"fees_cashless_since": "2999-01-01"}, "fees_cashless_since"),
        ({"ecommerce_listed_since": "31/12/2025"}, "ecommerce_listed_since"),
        ({"ecommerce_note": "x" * 301}, "ecommerce_note"),
    ],
)
def test_a_bad_declaration_is_refused_and_changes_nothing(client, people, province, data, field):
    Auth(client).login("admin")
    response = client.post("/adoption/markets/TN-A/criteria", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-err"' in html
    db.session.expire_all()
    market = db.session.scalar(select(Market).where(Market.code == "TN-A"))
    assert (market.fees_cashless_since, market.ecommerce_listed_since) == (date(2026, 1, 1), None)
    assert db.session.scalars(select(AuditLog)).all() == []


def test_the_form_needs_its_csrf_token(db_url, people):
    # An app of its own with CSRF on; its requests push their own contexts (sharing one
    # would share flask.g, where Flask-WTF keeps the token it issued).
    protected = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": db_url})
    client = protected.test_client()

    def token(html: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)[1]

    login = token(client.get("/login").get_data(as_text=True))
    data = {"username": "manager", "password": PASSWORD, "csrf_token": login}
    assert client.post("/login", data=data).status_code == 302
    url = "/adoption/markets/TN-A/criteria"
    assert client.post(url, data={"ecommerce_listed_since": "2026-02-14"}).status_code == 400
    db.session.expire_all()
    assert (
        db.session.scalar(select(Market.ecommerce_listed_since).where(Market.code == "TN-A"))
        is None
    )
    page = token(client.get("/adoption/markets/TN-A").get_data(as_text=True))
    data = {"ecommerce_listed_since": "2026-02-14", "csrf_token": page}
    assert client.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(
        select(Market.ecommerce_listed_since).where(Market.code == "TN-A")
    ) == date(2026, 2, 14)
    with protected.app_context():
        db.engine.dispose()
