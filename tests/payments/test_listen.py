"""The listening screen's server side: the merchant's payments after a cursor (every stall,
sticker and collect order alike), the day's running totals, the cheap "anything new?"
question answered from the board, and the screen's page, manifest and service worker."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from market.auth.models import utcnow
from market.extensions import db
from market.markets.models import Stall
from market.merchants.models import PayeeAccount
from market.payments import board, queries
from market.payments.models import PaymentNotification
from tests.conftest import Auth
from tests.payments.conftest import casso_body, post_casso, post_sepay, sepay_body

STATIC = Path(__file__).resolve().parents[2] / "market" / "static"
#: The environ of a threaded worker (gunicorn -k gthread), where a question may wait.
THREADED = {"wsgi.multithread": True}


@pytest.fixture
def merchant_client(app, world, integrations, monkeypatch):
    # Every id counts as settled at once and the board reads on every question (the waits
    # themselves are checked in the tests of the board below).
    monkeypatch.setattr(board, "SETTLE", 0.0)
    monkeypatch.setattr(board, "REFRESH", 0.0)
    client = app.test_client()
    assert Auth(client).login("merchant").status_code == 302
    return client


def _pay(app, event_id, amount, content=""):
    response = post_sepay(app.test_client(), sepay_body(event_id, amount=amount, content=content))
    assert response.status_code == 200, response.get_json()


def _listen(client, after):
    response = client.get(f"/me/listen/payments.json?after={after}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def test_payments_after_the_cursor_come_oldest_first_with_running_totals(
    app, world, merchant_client, order_a
):
    start = _listen(merchant_client, 0)
    assert start["payments"] == [] and start["today_total"] == 0
    _pay(app, 1, 60_000)
    _pay(app, 2, 200_000, content="A01K7Q3 chuyen tien")  # the collect order
    _pay(app, 3, 15_000)
    page = _listen(merchant_client, start["cursor"])
    assert [p["amount"] for p in page["payments"]] == [60_000, 200_000, 15_000]
    assert [p["kind"] for p in page["payments"]] == ["sticker", "order", "sticker"]
    assert page["payments"][1]["order_reference"] == "A01 K7Q3"
    assert [p["day_total"] for p in page["payments"]] == [60_000, 260_000, 275_000]
    assert page["payments"][0]["speech"] == "Đã nhận 60.000 đồng"
    assert page["payments"][0]["stall"] == "A-01"
    assert (page["today_total"], page["today_count"]) == (275_000, 3)
    assert page["today_total_text"] == "275.000"
    assert page["cursor"] == page["seen"] == page["payments"][-1]["id"]
    assert _listen(merchant_client, page["cursor"])["payments"] == []


def test_the_cursor_stays_behind_what_may_still_commit(app, world, integrations):
    """An insert that commits after one with a higher id (ids are handed out before commit)
    is in a later answer: the cursor never passes the settled id."""
    for n in (1, 2, 3):
        _pay(app, n, n * 1_000)
    ids = db.session.scalars(db.select(PaymentNotification.id).order_by("id")).all()
    kept = _withhold(ids[1])
    now = utcnow()
    first = queries.merchant_payments_after(world.merchant_a.id, 0, now=now, settled=ids[0])
    assert [p.id for p in first.payments] == [ids[0], ids[2]]
    assert (first.cursor, first.seen) == (ids[0], ids[2])
    db.session.add(PaymentNotification(**kept))  # ... and now it commits
    db.session.commit()
    second = queries.merchant_payments_after(
        world.merchant_a.id, first.cursor, now=now, settled=ids[2]
    )
    # The late one, and the one after it again (the screen skips what it announced).
    assert [p.id for p in second.payments] == [ids[1], ids[2]]
    assert second.cursor == ids[2]
    assert [p.day_total for p in second.payments] == [3_000, 6_000]


def test_only_the_merchants_own_matched_incoming_payments(app, world, merchant_client):
    _pay(app, 1, 10_000)
    # Market B's stall, an outgoing transfer and an account no stall has: not this merchant's.
    assert post_casso(app.test_client(), casso_body(2, amount=99_000)).status_code == 200
    response = post_sepay(app.test_client(), sepay_body(3, amount=5_000, kind="out"))
    assert response.status_code == 200
    response = post_sepay(app.test_client(), sepay_body(4, amount=7_000, account="999"))
    assert response.status_code == 200
    page = _listen(merchant_client, 0)
    assert [p["amount"] for p in page["payments"]] == [10_000]
    other = app.test_client()
    Auth(other).login("merchant_b")
    page_b = _listen(other, 0)
    assert [(p["amount"], p["payer_name"]) for p in page_b["payments"]] == [
        (99_000, "NGUYEN VAN A")
    ]


def test_all_stalls_of_the_merchant_are_heard(app, world, merchant_client):
    second = Stall(market=world.market_b, code="B-09", status="active", merchant=world.merchant_a)
    db.session.add(second)
    db.session.flush()
    db.session.add(
        PayeeAccount(
            stall=second,
            bank_bin="970436",
            account_number="0099887766",
            holder_name="NGUYEN THI HOA",
            verified_at=db.func.now(),
            verified_by_id=world.users["manager_b"].id,
        )
    )
    db.session.commit()
    _pay(app, 1, 10_000)
    response = post_sepay(app.test_client(), sepay_body(2, amount=20_000, account="0099887766"))
    assert response.status_code == 200
    page = _listen(merchant_client, 0)
    assert [(p["stall"], p["market"]) for p in page["payments"]] == [
        ("A-01", "TN-A"),
        ("B-09", "TN-B"),
    ]
    assert page["today_total"] == 30_000


def test_a_long_absence_is_caught_up_page_by_page(app, world, merchant_client):
    for n in range(queries.LISTEN_PAGE + 5):
        _pay(app, 100 + n, 1_000 + n)
    page = _listen(merchant_client, 0)
    assert len(page["payments"]) == queries.LISTEN_PAGE and page["more"]
    rest = _listen(merchant_client, page["cursor"])
    assert not rest["more"]
    new = [p["id"] for p in rest["payments"] if p["id"] > page["cursor"]]
    ids = [p["id"] for p in page["payments"]] + new
    assert len(ids) == len(set(ids)) == queries.LISTEN_PAGE + 5


def test_a_bad_cursor_is_refused_field_by_field(app, world, merchant_client):
    response = merchant_client.get(
        "/me/listen/payments.json?after=-1", headers={"Accept": "application/json"}
    )
    assert response.status_code == 422
    assert "after" in response.get_json()["error"]["fields"]


def _changes(client, key, after):
    return client.get(f"/me/listen/changes?after={after}", headers={"X-Listen-Key": key})


def _changes(client, key, seen, asked=0.0):
    return client.get(
        f"/me/listen/changes?seen={seen}&asked={asked}", headers={"X-Listen-Key": key}
    )


def test_changes_answer_from_the_board_with_a_listen_key(app, world, merchant_client):
    start = _listen(merchant_client, 0)
    key, seen, asked = start["key"], start["seen"], start["asked_at"]
    anonymous = app.test_client()  # no session at all: the key is enough
    assert _changes(anonymous, key, seen, asked).status_code == 204
    _pay(app, 1, 60_000)
    answer = _changes(anonymous, key, seen, asked)
    assert answer.status_code == 200 and answer.get_json() == {"news": True}
    page = _listen(merchant_client, start["cursor"])
    assert _changes(anonymous, page["key"], page["seen"], page["asked_at"]).status_code == 204
    # Another merchant's money is not news for this one.
    assert post_casso(app.test_client(), casso_body(2, amount=99_000)).status_code == 200
    assert _changes(anonymous, key, page["seen"], page["asked_at"]).status_code == 204


def test_a_phone_that_saw_less_than_the_board_knows_is_told_to_ask(app, world, merchant_client):
    _pay(app, 1, 60_000)
    key = _listen(merchant_client, 0)["key"]  # the board starts after that payment
    assert _changes(app.test_client(), key, 0).status_code == 200


@pytest.mark.parametrize("key", ["", "nonsense", "x" * 300])
def test_changes_without_a_good_key_are_refused(app, world, key):
    response = _changes(app.test_client(), key, 0)
    assert response.status_code == 403 and response.is_json


def test_an_expired_key_is_refused(app, world):
    with app.test_request_context():
        key = board.listen_key(world.merchant_a.id)
        assert board.merchant_of_key(key) == world.merchant_a.id
        assert board.merchant_of_key(key, max_age=-1) is None


def _withhold(notification_id: int) -> dict:
    """Take a stored payment out (as if its insert had not committed yet); gives it back."""
    row = db.session.get(PaymentNotification, notification_id)
    kept = {c.key: getattr(row, c.key) for c in PaymentNotification.__table__.columns}
    db.session.delete(row)
    db.session.commit()
    return kept


def test_the_board_hears_a_late_commit_of_the_same_merchant(app, world, integrations, monkeypatch):
    monkeypatch.setattr(board, "REFRESH", 3600.0)  # it reads when this test says
    the_board = board.board()
    the_board.refresh()
    _pay(app, 1, 10_000)
    _pay(app, 2, 20_000)
    first, second = db.session.scalars(db.select(PaymentNotification.id).order_by("id")).all()
    kept = _withhold(first)
    the_board.refresh()
    asked = time.time()
    merchant = world.merchant_a.id
    # The phone has seen the second payment and asked after the board read it: nothing new.
    assert not the_board.has_news(merchant, second, asked)
    db.session.add(PaymentNotification(**kept))  # ... now the first one commits
    db.session.commit()
    the_board.refresh()
    assert the_board.has_news(merchant, second, asked)
    # A phone whose payments answer came after the board saw it lacks nothing.
    assert not the_board.has_news(merchant, second, time.time() + 2)


def test_the_board_settles_ids_after_a_while(app, world, integrations):
    the_board = board.board()
    the_board.refresh(now=1_000.0)
    assert the_board.floor == 0
    _pay(app, 1, 10_000)
    the_board.refresh(now=1_001.0)
    newest = db.session.scalar(db.select(db.func.max(PaymentNotification.id)))
    the_board._seen = type(the_board._seen)(
        (at - 1_001.0 + time.monotonic() - board.SETTLE - 1, top) for at, top in the_board._seen
    )
    the_board._checked = time.monotonic()
    assert the_board.settled() == newest


def test_the_page_starts_from_now_and_shows_today(app, world, merchant_client):
    _pay(app, 1, 60_000)
    page = merchant_client.get("/me/listen")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "Chạm để bật âm thanh" in html
    assert "60.000 ₫" in html
    assert 'data-heard="1"' in html
    assert 'rel="manifest"' in html and "listen.js" in html
    assert "<script>" not in html  # CSP: no inline scripts
    home = merchant_client.get("/me/").get_data(as_text=True)
    assert 'href="/me/listen"' in home


def test_the_page_speaks_english_when_the_ui_is_english(app, world, merchant_client):
    _pay(app, 1, 60_000)
    merchant_client.get("/lang/en")
    page = _listen(merchant_client, 0)
    assert page["payments"][0]["speech"] == "Received 60,000 dong"
    assert "Tap to turn the sound on" in merchant_client.get("/me/listen").get_data(as_text=True)


def test_the_service_worker_may_control_the_screen(app, world, merchant_client):
    response = merchant_client.get("/me/listen/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/me/listen"
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_the_manifest_and_its_icons(app):
    manifest = json.loads((STATIC / "listen.webmanifest").read_text())
    assert manifest["start_url"] == "/me/listen" and manifest["display"] == "standalone"
    client = app.test_client()
    with client.get("/static/listen.webmanifest") as response:
        assert response.mimetype == "application/manifest+json"
    for icon in manifest["icons"]:
        size = int(icon["sizes"].split("x")[0])
        path = STATIC / Path(icon["src"]).name
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (size, size)
        with client.get(icon["src"]) as response:
            assert response.status_code == 200


def test_a_long_poll_answers_when_the_money_arrives(app, world, merchant_client):
    """With LISTEN_WAIT_SECONDS (threaded workers) the question waits for news."""
    app.config["LISTEN_WAIT_SECONDS"] = 30
    start = _listen(merchant_client, 0)
    key, seen, asked = start["key"], start["seen"], start["asked_at"]
    with ThreadPoolExecutor(1) as pool:
        asking = pool.submit(
            lambda: app.test_client().get(
                f"/me/listen/changes?seen={seen}&asked={asked}&wait=30",
                headers={"X-Listen-Key": key},
                environ_overrides=THREADED,
            )
        )
        _pay(app, 1, 60_000)
        answer = asking.result(timeout=30)
    assert answer.status_code == 200 and answer.get_json() == {"news": True}


def test_a_long_poll_without_news_ends_with_nothing(app, world, merchant_client):
    app.config["LISTEN_WAIT_SECONDS"] = 1
    start = _listen(merchant_client, 0)
    began = time.monotonic()
    answer = app.test_client().get(
        f"/me/listen/changes?seen={start['seen']}&asked={start['asked_at']}&wait=25",
        headers={"X-Listen-Key": start["key"]},
        environ_overrides=THREADED,
    )
    assert answer.status_code == 204  # after the setting's 1 s, not the 25 asked
    assert 1 - board.JITTER <= time.monotonic() - began < 10


def test_held_questions_end_spread_over_the_last_fifth_of_the_wait():
    """Phones that began together do not all come back together."""
    held = [board.held_for(25.0) for _ in range(500)]
    assert all(20.0 <= h <= 25.0 for h in held)
    assert max(held) - min(held) > 4.0


def test_a_sync_worker_never_holds_the_question(app, world, merchant_client):
    """On a sync worker (``wsgi.multithread`` false) a held question would hold the whole
    worker: it is answered at once whatever the setting, and the phone polls instead."""
    app.config["LISTEN_WAIT_SECONDS"] = 30
    start = _listen(merchant_client, 0)
    began = time.monotonic()
    answer = app.test_client().get(
        f"/me/listen/changes?seen={start['seen']}&asked={start['asked_at']}&wait=30",
        headers={"X-Listen-Key": start["key"]},
        environ_overrides={"wsgi.multithread": False},
    )
    assert answer.status_code == 204
    assert time.monotonic() - began < 5
