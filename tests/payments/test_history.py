"""A merchant's history: any past day, its close-of-day summary, and who sees whose.

The statements' files (PDF, XLSX) are read back in test_statement.py; who may open each
route: test_history_access.py.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from market.auth.models import utcnow
from market.extensions import db
from market.formatting import VN_TZ
from market.markets.models import Stall
from market.merchants.models import PayeeAccount
from market.payments import queries
from market.payments.models import CollectOrder, PaymentNotification
from tests.conftest import Auth
from tests.payments.conftest import casso_body, post_casso

_events = iter(range(1, 10**9))


def pay(stall, at: datetime, amount: int, *, payer="", reference=None, status="matched", **kw):
    """A notification as the webhook stores it (``at`` in UTC)."""
    number = next(_events)
    notification = PaymentNotification(
        provider="casso",
        event_id=f"h{number}",
        raw_body="{}",
        transaction_at=at,
        account_number="0011001234567",
        amount=amount,
        direction=kw.pop("direction", "in"),
        content=kw.pop("content", f"thanh toan {number}"),
        reference_code=f"FT{number:08d}" if reference is None else reference,
        payer_name=payer,
        stall_id=stall.id if stall is not None and status == "matched" else None,
        match_status=status,
        **kw,
    )
    db.session.add(notification)
    return notification


def vn(year, month, day, hour, minute) -> datetime:
    """A Vietnam wall-clock time as the UTC instant stored (UTC+7, no daylight saving)."""
    return datetime(year, month, day, hour, minute, tzinfo=VN_TZ).astimezone(UTC)


def second_stall(world, market=None, code="A-02") -> Stall:
    stall = Stall(
        market=market or world.market_a,
        code=code,
        zone="Khu A",
        category="rau-cu",
        status="active",
        merchant=world.merchant_a,
    )
    db.session.add(stall)
    db.session.flush()
    db.session.add(
        PayeeAccount(
            stall=stall,
            bank_bin="970436",
            account_number="0011009999999",
            holder_name="NGUYEN THI HOA",
            verified_at=utcnow(),
        )
    )
    return stall


def login(app, who: str):
    client = app.test_client()
    assert Auth(client).login(who).status_code == 302
    return client


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, element_id
    return match.group(1).strip()


# --- days ---------------------------------------------------------------------------------------


def test_vn_helper_is_vietnam_time():
    assert vn(2026, 11, 3, 23, 59) == datetime(2026, 11, 3, 16, 59, tzinfo=UTC)
    assert vn(2026, 11, 4, 0, 1) == datetime(2026, 11, 3, 17, 1, tzinfo=UTC)


def test_payments_at_2359_and_0001_vietnam_time_land_on_their_own_days(app, world):
    pay(world.stall_a, vn(2026, 11, 3, 23, 59), 11_000, payer="LATE BUYER")
    pay(world.stall_a, vn(2026, 11, 4, 0, 1), 22_000, payer="EARLY BUYER")
    db.session.commit()
    client = login(app, "merchant")

    third = client.get("/me/history?day=2026-11-03").get_data(as_text=True)
    assert text_of(third, "day-total") == "11.000 ₫"
    assert text_of(third, "day-count") == "1"
    assert "LATE BUYER" in third and "EARLY BUYER" not in third
    assert "23:59" in third

    fourth = client.get("/me/history?day=2026-11-04").get_data(as_text=True)
    assert text_of(fourth, "day-total") == "22.000 ₫"
    assert "EARLY BUYER" in fourth and "LATE BUYER" not in fourth
    assert "00:01" in fourth
    # The same query as today's screen, given any day.
    assert queries.received_payments(world.stall_a, date(2026, 11, 3)).total == 11_000
    assert queries.received_payments(world.stall_a, date(2026, 11, 4)).total == 22_000


def test_a_past_day_links_to_the_days_around_it_and_not_past_today(app, world):
    client = login(app, "merchant")
    html = client.get("/me/history?day=2026-11-01").get_data(as_text=True)
    assert 'href="/me/history?day=2026-10-31"' in html
    assert 'href="/me/history?day=2026-11-02"' in html
    today = queries.today_in_vietnam(utcnow())
    html = client.get("/me/history").get_data(as_text=True)
    assert today.strftime("%d/%m/%Y") in html
    assert 'id="next-day"' not in html
    assert f'max="{today.isoformat()}"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("day=2026-13-01", "Ngày “2026-13-01” không hợp lệ"),
        ("day=hôm-qua", "Ngày “hôm-qua” không hợp lệ"),
        ("day=2999-01-01", "Ngày 01/01/2999 chưa tới."),
        ("day=0001-01-01", "Chọn một ngày từ năm 2000 trở đi."),
    ],
    ids=["month13", "text", "future", "year1"],
)
def test_a_bad_day_is_refused_with_a_clear_message(app, world, query, message):
    client = login(app, "merchant")
    response = client.get(f"/me/history?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    json = client.get(f"/me/history?{query}", headers={"Accept": "application/json"})
    assert json.status_code == 422
    assert "day" in json.get_json()["error"]["fields"]


def test_the_close_of_day_counts_by_stall_by_kind_and_by_hour(app, world):
    a02 = second_stall(world)
    order = CollectOrder(stall_id=world.stall_a.id, reference="A01 K7Q3", amount=50_000)
    db.session.add(order)
    db.session.flush()
    pay(world.stall_a, vn(2026, 11, 5, 7, 10), 10_000)
    pay(world.stall_a, vn(2026, 11, 5, 7, 50), 50_000, order_id=order.id)
    pay(a02, vn(2026, 11, 5, 9, 5), 30_000, payer="Đỗ Thị Ánh")
    db.session.commit()

    day = queries.received_payments([world.stall_a, a02], date(2026, 11, 5))
    close = queries.close_of_day(day, [world.stall_a, a02])
    assert (close.count, close.total) == (3, 90_000)
    assert [(t.label, t.count, t.total) for t in close.by_stall] == [
        ("A-01", 2, 60_000),
        ("A-02", 1, 30_000),
    ]
    assert [(t.label, t.count, t.total) for t in close.by_hour] == [
        ("07:00–08:00", 2, 60_000),
        ("09:00–10:00", 1, 30_000),
    ]
    assert sorted((t.count, t.total) for t in close.by_kind) == [(1, 50_000), (2, 40_000)]

    html = login(app, "merchant").get("/me/history?day=2026-11-05").get_data(as_text=True)
    assert text_of(html, "day-total") == "90.000 ₫"
    by_stall = html[html.index('id="by-stall"') : html.index('id="by-kind"')]
    assert "A-01" in by_stall and "60.000 ₫" in by_stall and "30.000 ₫" in by_stall
    assert "Đỗ Thị Ánh" in html
    assert "A01 K7Q3" in html  # the order a payment paid


def test_one_stall_shows_no_by_stall_table(app, world):
    pay(world.stall_a, vn(2026, 11, 5, 7, 10), 10_000)
    db.session.commit()
    html = login(app, "merchant").get("/me/history?day=2026-11-05").get_data(as_text=True)
    assert 'id="by-stall"' not in html
    assert 'id="by-hour"' in html


def test_unmatched_ignored_outgoing_and_other_merchants_payments_never_appear(app, world):
    pay(world.stall_a, vn(2026, 11, 6, 8, 0), 1_000, payer="COUNTED")
    pay(None, vn(2026, 11, 6, 8, 1), 2_000, payer="UNMATCHED", status="unmatched")
    pay(None, vn(2026, 11, 6, 8, 2), 4_000, payer="IGNORED", status="ignored", direction="out")
    pay(world.stall_b, vn(2026, 11, 6, 8, 3), 8_000, payer="OTHER MERCHANT")
    db.session.commit()
    html = login(app, "merchant").get("/me/history?day=2026-11-06").get_data(as_text=True)
    assert text_of(html, "day-total") == "1.000 ₫"
    assert "COUNTED" in html
    for hidden in ("UNMATCHED", "IGNORED", "OTHER MERCHANT"):
        assert hidden not in html
    assert queries.month_received_totals([world.stall_a], date(2026, 11, 1)) == (1, 1_000)


def test_a_payment_assigned_off_the_unmatched_list_moves_into_the_day(app, world):
    late = pay(None, vn(2026, 11, 6, 9, 0), 7_000, payer="ASSIGNED", status="unmatched")
    db.session.commit()
    client = login(app, "merchant")
    assert "ASSIGNED" not in client.get("/me/history?day=2026-11-06").get_data(as_text=True)
    late.match_status, late.stall_id = "matched", world.stall_a.id
    db.session.commit()
    html = client.get("/me/history?day=2026-11-06").get_data(as_text=True)
    assert "ASSIGNED" in html and text_of(html, "day-total") == "7.000 ₫"


def test_the_payers_name_a_notifier_gives_shows_in_the_day(app, world, integrations, client):
    body = casso_body(2101, amount=65_000, account=world.payee_a.account_number)
    body["data"]["counterAccountName"] = "PHẠM THỊ THU"
    assert post_casso(client, body).status_code == 200
    html = login(app, "merchant").get("/me/history").get_data(as_text=True)
    assert "PHẠM THỊ THU" in html
    assert text_of(html, "day-total") == "65.000 ₫"


# --- who sees whose -----------------------------------------------------------------------------


def test_a_manager_sees_the_merchants_stalls_of_their_own_market_only(app, world):
    in_b = second_stall(world, market=world.market_b, code="B-07")
    pay(world.stall_a, vn(2026, 11, 7, 8, 0), 3_000, payer="AT MARKET A")
    pay(in_b, vn(2026, 11, 7, 8, 5), 5_000, payer="AT MARKET B")
    db.session.commit()
    merchant = world.merchant_a.id

    html = login(app, "manager").get(f"/markets/TN-A/merchants/{merchant}/history?day=2026-11-07")
    page = html.get_data(as_text=True)
    assert html.status_code == 200
    assert "AT MARKET A" in page and "AT MARKET B" not in page
    assert text_of(page, "day-total") == "3.000 ₫"
    assert f'href="/markets/TN-A/merchants/{merchant}/statement.pdf?month=' in page

    manager_b = login(app, "manager_b")
    page = manager_b.get(f"/markets/TN-B/merchants/{merchant}/history?day=2026-11-07")
    assert "AT MARKET B" in page.get_data(as_text=True)
    assert "AT MARKET A" not in page.get_data(as_text=True)
    assert manager_b.get(f"/markets/TN-A/merchants/{merchant}/history").status_code == 404

    # The merchant's own page has both markets' stalls.
    page = login(app, "merchant").get("/me/history?day=2026-11-07").get_data(as_text=True)
    assert "AT MARKET A" in page and "AT MARKET B" in page
    assert text_of(page, "day-total") == "8.000 ₫"


def test_a_merchant_with_no_stall_at_that_market_is_not_found_there(app, world):
    client = login(app, "manager")
    assert client.get(f"/markets/TN-A/merchants/{world.merchant_b.id}/history").status_code == 404
    assert client.get("/markets/TN-A/merchants/9999/history").status_code == 404


def test_the_history_is_reached_from_home_today_and_the_stall_page(app, world):
    merchant = login(app, "merchant")
    assert 'href="/me/history"' in merchant.get("/me/").get_data(as_text=True)
    assert 'href="/me/history"' in merchant.get("/collect/TN-A/A-01/today").get_data(as_text=True)
    link = f'href="/markets/TN-A/merchants/{world.merchant_a.id}/history"'
    assert link in login(app, "manager").get("/markets/TN-A/stalls/A-01").get_data(as_text=True)
    assert link in login(app, "admin").get("/markets/TN-A/stalls/A-01").get_data(as_text=True)
    # Helpers onboard stalls but do not read a merchant's takings.
    assert link not in login(app, "helper").get("/markets/TN-A/stalls/A-01").get_data(as_text=True)


def test_the_history_page_is_english_when_the_ui_is(app, world):
    pay(world.stall_a, vn(2026, 11, 5, 7, 10), 10_000)
    db.session.commit()
    client = login(app, "merchant")
    client.get("/lang/en")
    html = client.get("/me/history?day=2026-11-05").get_data(as_text=True)
    for text in ("Money received on 05/11/2026", "Close of day", "By hour", "Download PDF"):
        assert text in html
    assert "10,000 ₫" in html
