"""Pages in English (session lang=en) say everything in English, and money, dates and times
follow the Vietnamese conventions in both languages.

Formats (chosen for a Vietnamese market, in both languages): money is the number of dong
grouped by thousands with the ₫ sign after it, "25.000 ₫" in Vietnamese and "25,000 ₫" in
English (the sign stays where Vietnamese price tags put it; only the separator changes);
dates are dd/mm/yyyy and times are Asia/Ho_Chi_Minh (UTC+7), whatever the language.
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale

from market import formatting
from market.extensions import db
from market.markets.models import DISTRICTS
from market.payments.models import PaymentNotification
from market.vietqr import bank_apps, bank_by_bin

VIETNAMESE = re.compile(r"[À-ỹđĐ]")
# Text a visitor reads: element text and the attributes screen readers and forms show.
_ATTRIBUTES = re.compile(r'\s(?:alt|aria-label|placeholder|title|value)="([^"]*)"')
_HIDDEN_PARTS = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->", re.S | re.I)


def visible_text(page: str) -> str:
    page = _HIDDEN_PARTS.sub(" ", page)
    parts = [*_ATTRIBUTES.findall(page), re.sub(r"<[^>]+>", " ", page)]
    return html_lib.unescape(" ".join(parts))


def vietnamese_left(page: str, data: list[str]) -> list[str]:
    """Words with Vietnamese letters that are not the data shown (names, places...)."""
    text = visible_text(page)
    # The brand, the switch back to Vietnamese (lang="vi"), and proper nouns.
    for known in sorted(["Chợ 4.0", "Tiếng Việt", *DISTRICTS, *data], key=len, reverse=True):
        text = text.replace(known, " ")
    return sorted({word for word in text.split() if VIETNAMESE.search(word)})


def english(client, auth, user: str | None = None) -> None:
    if user:
        auth.login(user)
    client.get("/lang/en")


def _data(world) -> list[str]:
    return [
        world.market_a.name,
        world.market_b.name,
        world.merchant_a.full_name,
        world.stall_a.zone,
        bank_by_bin(world.payee_a.bank_bin).name,  # the bank's registered Vietnamese name
        # The pay page's bank app list: the apps' own names and their banks' registered names.
        *(app.bank_name for app in bank_apps()),
        *(app.app_name for app in bank_apps()),
        # The goods vocabulary (GOODS_CATEGORIES) is Vietnamese data, also used to read
        # import files; it has no English labels yet.
        world.stall_a.category_label,
    ]


@pytest.mark.parametrize(
    ("user", "path", "expected"),
    [
        (None, "/login", ["Log in", "Username", "Password", "Skip to content"]),
        ("manager", "/markets/", ["Markets", "Market name or code", "Filter", "Log out"]),
        ("manager", "/markets/TN-A", ["Add a stall", "Import from a file", "Total stalls"]),
        ("manager", "/markets/TN-A/stalls/A-01", ["Stall A-01", "Payee account", "Verified by"]),
        (None, "/pay/TN-A/A-01", ["Pay stall A-01", "Make QR code", "Scan it with your"]),
        ("merchant", "/me/", ["My stalls", "Collect (enter the amount)", "Verified by"]),
    ],
    ids=["login", "market-list", "market", "stall", "pay", "merchant"],
)
def test_english_pages_have_no_vietnamese_left(world, client, auth, user, path, expected):
    english(client, auth, user)
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in page
    for text in expected:
        assert text in page, f"{text!r} not on {path}"
    assert vietnamese_left(page, _data(world)) == []


def test_vietnamese_is_the_default(world, client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Tên đăng nhập" in page and "Username" not in page


def test_english_form_errors_and_flash_messages(world, client, auth):
    english(client, auth)
    page = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "Please enter your username." in page
    page = auth.login("manager", "wrong").get_data(as_text=True)
    assert "Wrong username or password." in page
    auth.login("manager")
    page = client.post("/logout", follow_redirects=True).get_data(as_text=True)
    assert "You have logged out." in page


def test_vietnamese_check_sees_a_leftover():
    """Control for the checks above."""
    page = '<p>Markets</p><input placeholder="Tìm chợ"><script>"đồng"</script>'
    assert vietnamese_left(page, []) == ["Tìm", "chợ"]


# --- money, dates, times --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "amount", "shown"),
    [
        ("vi", 25_000, "25.000 ₫"),
        ("vi", 1_250_000, "1.250.000 ₫"),
        ("vi", 500, "500 ₫"),
        ("en", 25_000, "25,000 ₫"),
        ("en", 1_250_000, "1,250,000 ₫"),
        ("vi", None, "—"),
    ],
)
def test_money_is_grouped_by_thousands_with_the_dong_sign(app, locale, amount, shown):
    with app.test_request_context(), force_locale(locale):
        assert formatting.money(amount) == shown


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_dates_are_day_month_year_and_times_are_vietnam_time(app, locale):
    late_utc = datetime(2024, 3, 9, 17, 30, tzinfo=UTC)  # 00:30 on 10 March in Hà Nội
    with app.test_request_context(), force_locale(locale):
        assert formatting.date_vn(date(2024, 3, 9)) == "09/03/2024"
        assert formatting.datetime_vn(late_utc) == "10/03/2024 00:30"
        assert formatting.date_vn(late_utc) == "10/03/2024"
        # SQLite hands stored UTC values back without a zone.
        assert formatting.datetime_vn(late_utc.replace(tzinfo=None)) == "10/03/2024 00:30"


@pytest.mark.parametrize(("lang", "money"), [("vi", "25.000 ₫"), ("en", "25,000 ₫")])
def test_a_page_shows_money_and_vietnam_time_in_either_language(world, client, auth, lang, money):
    db.session.add(
        PaymentNotification(
            provider="sepay",
            event_id="i18n-1",
            raw_body="{}",
            transaction_at=datetime(2024, 3, 9, 17, 30, tzinfo=UTC),
            account_number="999",
            amount=25_000,
            direction="in",
            match_status="unmatched",
        )
    )
    db.session.commit()
    auth.login("admin")
    client.get(f"/lang/{lang}")
    page = client.get("/admin/payments/unmatched").get_data(as_text=True)
    assert money in page
    assert "10/03/2024 00:30" in page
