"""Webhook ingest on both databases: signed, stored once, reconciled, never counted twice."""

import json
import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, event, select, text

from market.auth.models import utcnow
from market.database import DriverStatement
from market.extensions import db
from market.formatting import VN_TZ
from market.markets.models import Stall
from market.merchants.models import PayeeAccount
from market.payments import queries, services
from market.payments.models import CollectOrder, PaymentNotification
from market.payments.signatures import sign_sepay
from tests.payments.conftest import (
    SEPAY_SECRET,
    casso_body,
    post_casso,
    post_sepay,
    sepay_body,
)


def _rows():
    db.session.expire_all()
    return db.session.scalars(select(PaymentNotification).order_by(PaymentNotification.id)).all()


def _today(stall):
    day = queries.received_payments(stall, queries.today_in_vietnam(utcnow()))
    return day.total, len(day.payments)


def test_signed_sepay_notification_is_stored_and_credited_to_the_stall(world, integrations, client):
    body = sepay_body(1001, content="Thanh toan rau", when="2026-11-27 09:15:00")
    response = post_sepay(client, body)
    assert response.status_code == 200
    # What SePay asks for, in the compact form jsonify writes (load scripts match on it).
    assert response.mimetype == "application/json"
    assert response.data == b'{"duplicate":false,"success":true}\n'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    [row] = _rows()
    assert (row.provider, row.event_id, row.amount, row.direction) == (
        "sepay",
        "1001",
        200_000,
        "in",
    )
    assert (row.stall_id, row.match_status) == (world.stall_a.id, "matched")
    assert json.loads(row.raw_body) == body
    # 09:15 in Vietnam is 02:15 UTC.
    assert row.transaction_at.replace(tzinfo=None).isoformat() == "2026-11-27T02:15:00"


def test_a_days_total_counts_only_that_vietnam_day(world, integrations, client):
    now = datetime.now(VN_TZ)
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert post_sepay(client, sepay_body(1, amount=5_000, when=yesterday)).status_code == 200
    assert post_sepay(client, sepay_body(2, amount=7_000)).status_code == 200
    assert _today(world.stall_a) == (7_000, 1)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-SePay-Timestamp": "{now}"},
        {"X-SePay-Signature": "sha256=" + "0" * 64, "X-SePay-Timestamp": "{now}"},
        {"Authorization": "Apikey " + SEPAY_SECRET},  # the integration is in HMAC mode
    ],
    ids=["missing", "no-signature", "bad-signature", "api-key-in-hmac-mode"],
)
def test_unsigned_or_badly_signed_sepay_is_refused(integrations, client, headers):
    headers = {k: v.format(now=int(time.time())) for k, v in headers.items()}
    response = post_sepay(client, sepay_body(), headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["status"] == 401
    assert _rows() == []


def test_wrong_secret_is_refused(integrations, client):
    assert post_sepay(client, sepay_body(), secret="not-the-secret-at-all").status_code == 401
    assert _rows() == []


@pytest.mark.parametrize("skew", [-301, +301])
def test_stale_or_future_timestamps_are_refused(integrations, client, skew):
    response = post_sepay(client, sepay_body(), timestamp=time.time() + skew)
    assert response.status_code == 401
    response = post_casso(client, casso_body(), timestamp_ms=(time.time() + skew) * 1000)
    assert response.status_code == 401
    assert _rows() == []


def test_repeated_webhook_id_is_counted_once(world, integrations, order_a, client):
    body = sepay_body(1002, content="A01 K7Q3")
    first, again = post_sepay(client, body), post_sepay(client, body)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json() == {"success": True, "duplicate": True}
    # A replay signed later (SePay's own retry) is the same event too.
    assert post_sepay(client, body, timestamp=time.time() + 5).status_code == 200
    assert len(_rows()) == 1
    order = db.session.get(CollectOrder, order_a.id)
    assert (order.status, order.received_amount) == ("paid", 200_000)
    assert _today(world.stall_a) == (200_000, 1)


def test_same_id_from_two_providers_are_two_notifications(world, integrations, client):
    assert post_sepay(client, sepay_body(5)).status_code == 200
    assert post_casso(client, casso_body(5)).status_code == 200
    assert {(r.provider, r.event_id) for r in _rows()} == {("sepay", "5"), ("casso", "5")}


def test_outgoing_transfers_are_stored_but_never_counted(world, integrations, client):
    assert post_sepay(client, sepay_body(1003, kind="out")).status_code == 200
    assert post_casso(client, casso_body(2003, amount=-50_000)).status_code == 200
    assert post_sepay(client, sepay_body(1004, amount=0)).status_code == 200
    rows = _rows()
    assert [(r.direction, r.amount, r.match_status, r.stall_id) for r in rows] == [
        ("out", 200_000, "ignored", None),
        ("out", 50_000, "ignored", None),
        ("in", 0, "ignored", None),
    ]
    assert _today(world.stall_a) == (0, 0)
    assert _today(world.stall_b) == (0, 0)


def test_unmatched_payment_is_recorded_for_review(world, integrations, client, auth):
    assert post_sepay(client, sepay_body(1005, account="999999999")).status_code == 200
    [row] = _rows()
    assert (row.match_status, row.stall_id) == ("unmatched", None)
    auth.login("admin")
    page = client.get("/admin/payments/unmatched")
    assert page.status_code == 200
    assert "999999999" in page.get_data(as_text=True)


def test_casso_v2_notification_is_verified_on_sorted_keys(world, integrations, client):
    # The raw body is pretty-printed in Casso's key order; the signature covers sorted keys.
    response = post_casso(client, casso_body(2001, description="TT thit bo"))
    assert response.status_code == 200
    [row] = _rows()
    assert (row.provider, row.event_id, row.stall_id) == ("casso", "2001", world.stall_b.id)
    assert _today(world.stall_b) == (200_000, 1)
    # Casso names the sender; the merchant's screens show it.
    assert row.payer_name == "NGUYEN VAN A"


def test_sepay_sends_no_payer_name_and_none_is_stored(world, integrations, client):
    assert post_sepay(client, sepay_body(1001)).status_code == 200
    [row] = _rows()
    assert row.payer_name == ""


def test_casso_tampered_body_is_refused(integrations, client):
    body = casso_body(2002)
    tampered = json.loads(json.dumps(body))
    tampered["data"]["amount"] = 9_000_000
    response = post_casso(client, body, raw=json.dumps(tampered).encode())
    assert response.status_code == 401
    assert _rows() == []


def test_sepay_api_key_mode(world, integrations, client):
    integrations["sepay"].auth_mode = "apikey"
    db.session.commit()
    headers = {"Authorization": f"Apikey {SEPAY_SECRET}"}
    assert post_sepay(client, sepay_body(1006), headers=headers).status_code == 200
    headers = {"Authorization": "Apikey wrong-key-wrong-key"}
    assert post_sepay(client, sepay_body(1007), headers=headers).status_code == 401
    assert [r.event_id for r in _rows()] == ["1006"]


def test_disabled_or_missing_integration_refuses(world, integrations, client):
    integrations["sepay"].enabled = False
    db.session.delete(integrations["casso"])
    db.session.commit()
    assert post_sepay(client, sepay_body()).status_code == 401
    assert post_casso(client, casso_body()).status_code == 401
    assert _rows() == []


def test_oversized_body_is_refused(integrations, client):
    body = sepay_body(1008, content="x" * 70_000)
    assert post_sepay(client, body).status_code == 413
    assert _rows() == []


@pytest.mark.parametrize(
    "change",
    [{"id": None}, {"transferType": "sideways"}, {"transferAmount": 12.5}, {"transferAmount": -1}],
)
def test_signed_payload_of_the_wrong_shape_is_422(integrations, client, change):
    response = post_sepay(client, {**sepay_body(1009), **change})
    assert response.status_code == 422
    assert _rows() == []


def test_signed_body_that_is_not_json_is_refused(integrations, client):
    raw = b"not json"
    headers = sign_sepay(raw, SEPAY_SECRET, timestamp=int(time.time()))
    response = client.post("/api/v1/webhooks/sepay", data=raw, headers=headers)
    assert response.status_code == 422


@pytest.mark.parametrize("failing", ["write", "rollup", "commit"])
def test_database_failure_answers_503_and_stores_nothing(
    world, integrations, client, failing, monkeypatch
):
    """The driver fails the notification's write, the rollup written with it, or (on SQLite)
    their COMMIT: 503, nothing stored or counted, and the sender's retry lands once. On
    PostgreSQL all three are one autocommit statement, so its commit is the write."""
    if failing == "commit" and db.engine.dialect.name == "postgresql":
        pytest.skip("the write is a single autocommit statement: no separate COMMIT to fail")
    driver_error = db.engine.dialect.loaded_dbapi.OperationalError
    table = "stall_day_payments" if failing == "rollup" else "payment_notifications"
    injected = []
    real_execute = DriverStatement.execute

    def execute(statement, cursor, values):
        if failing != "commit" and f"INSERT INTO {table}" in statement.sql:
            injected.append(statement.sql)
            raise driver_error("server closed the connection")
        return real_execute(statement, cursor, values)

    def commit(driver):
        # Only after the statements ran on that connection: their effects are in it.
        injected.append("COMMIT")
        raise driver_error("disk I/O error")

    monkeypatch.setattr(DriverStatement, "execute", execute)
    if failing == "commit":
        monkeypatch.setattr(services, "_commit", commit)
    response = post_sepay(client, sepay_body(1010))
    monkeypatch.undo()
    assert injected, "the failure was never injected"
    assert response.status_code == 503
    assert response.get_json()["error"]["status"] == 503
    assert _rows() == []
    assert _today(world.stall_a) == (0, 0)
    # The sender's retry then lands, once.
    assert post_sepay(client, sepay_body(1010)).status_code == 200
    assert len(_rows()) == 1
    assert _today(world.stall_a) == (200_000, 1)


def test_a_payment_at_midnight_counts_on_the_day_it_starts(world, integrations, client):
    # Stored as the app stores every time (on SQLite, its text form), so the day's bounds
    # compare with it exactly: midnight belongs to the day it starts, not the one before.
    body = sepay_body(1030, amount=45_000, when="2026-11-27 00:00:00")
    assert post_sepay(client, body).status_code == 200
    assert queries.received_payments(world.stall_a, date(2026, 11, 27)).total == 45_000
    assert queries.received_payments(world.stall_a, date(2026, 11, 26)).total == 0


def test_a_connection_the_server_dropped_fails_one_webhook_and_the_next_lands(
    app, world, integrations, client, db_kind, db_url
):
    """The database ends the webhook worker's connection between two notifications (a
    restart, a fail-over), sooner than the idle ping would notice: that notification is
    answered 503 (the bank retries it), and the connection is discarded, not handed to the
    next one."""
    if db_kind != "postgresql":
        pytest.skip("a server connection can go away; a SQLite file cannot")
    assert post_sepay(client, sepay_body(1020)).status_code == 200
    with app.extensions["market.webhook_app"].app_context(), db.engine.connect() as connection:
        # The one the webhook just used (a sync worker's pool keeps one).
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    time.sleep(0.1)  # gone, and well within the idle time after which a connection is pinged
    assert post_sepay(client, sepay_body(1021)).status_code == 503
    assert post_sepay(client, sepay_body(1021)).status_code == 200
    assert post_sepay(client, sepay_body(1022)).status_code == 200
    assert sorted(r.event_id for r in _rows()) == ["1020", "1021", "1022"]


# --- collect orders -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    ["A01 K7Q3", "a01k7q3", "CT DEN:0123 A01-K7Q3 Chuyen tien", "MBVCB.123.a01 k7 q3.CT tu"],
)
def test_order_reference_is_found_in_mangled_content(world, integrations, order_a, client, content):
    assert post_sepay(client, sepay_body(1100, content=content)).status_code == 200
    [row] = _rows()
    assert row.order_id == order_a.id
    assert db.session.get(CollectOrder, order_a.id).status == "paid"


def test_short_payment_is_short_until_topped_up(world, integrations, order_a, client):
    assert post_sepay(client, sepay_body(1101, amount=200, content="A01 K7Q3")).status_code == 200
    order = db.session.get(CollectOrder, order_a.id)
    assert (order.status, order.received_amount, order.paid_at) == ("short", 200, None)
    body = sepay_body(1102, amount=199_800, content="A01K7Q3")
    assert post_sepay(client, body).status_code == 200
    db.session.expire_all()
    order = db.session.get(CollectOrder, order_a.id)
    assert (order.status, order.received_amount) == ("paid", 200_000)
    assert order.paid_at is not None
    assert _today(world.stall_a) == (200_000, 2)


def test_crediting_an_order_changes_only_what_it_received(world, integrations, order_a, client):
    # The order asked for 200.000 đ; a 200 đ payment credits 200 and leaves the asked amount,
    # the stall and the reference exactly as they were (and a replay credits nothing more).
    body = sepay_body(1104, amount=200, content="A01 K7Q3")
    assert post_sepay(client, body).status_code == 200
    assert post_sepay(client, body).get_json()["duplicate"] is True
    db.session.expire_all()
    order = db.session.get(CollectOrder, order_a.id)
    assert (order.amount, order.stall_id, order.reference) == (
        200_000,
        world.stall_a.id,
        "A01 K7Q3",
    )
    assert (order.status, order.received_amount) == ("short", 200)


def test_reference_of_another_stalls_order_does_not_move_it(world, integrations, order_a, client):
    # Money into stall B's account naming stall A's order: B's money, A's order untouched.
    body = sepay_body(1103, account="101867123456", content="A01 K7Q3")
    assert post_sepay(client, body).status_code == 200
    [row] = _rows()
    assert (row.stall_id, row.order_id) == (world.stall_b.id, None)
    assert db.session.get(CollectOrder, order_a.id).status == "pending"


def _twin_of_stall_a(world, *, bank_bin):
    """A second stall of merchant A whose payee is the same account number as stall A's."""
    twin = Stall(
        market_id=world.market_a.id, code="A-02", status="active", merchant=world.merchant_a
    )
    db.session.add(twin)
    db.session.flush()
    db.session.add(
        PayeeAccount(
            stall_id=twin.id,
            bank_bin=bank_bin,
            account_number="0011001234567",
            holder_name="NGUYEN THI HOA",
            verified_at=db.func.now(),
        )
    )
    db.session.commit()
    return twin


def test_account_shared_by_two_stalls_needs_the_order_or_a_review(world, integrations, client):
    twin = _twin_of_stall_a(world, bank_bin="970436")  # the same bank too: nothing tells them apart
    order = CollectOrder(stall_id=twin.id, reference="A02 MNPQ", amount=10_000)
    db.session.add(order)
    db.session.commit()
    assert post_sepay(client, sepay_body(1104, amount=10_000)).status_code == 200
    assert (
        post_sepay(client, sepay_body(1105, amount=10_000, content="a02 mnpq")).status_code == 200
    )
    first, second = _rows()
    assert (first.match_status, first.stall_id) == ("unmatched", None)
    assert (second.match_status, second.stall_id, second.order_id) == ("matched", twin.id, order.id)


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [("Vietcombank", "stall_a"), ("VCB", "stall_a"), ("MB Bank", "twin"), ("Ngan hang X", None)],
)
def test_same_number_at_two_banks_is_told_apart_by_the_bank(
    world, integrations, client, gateway, expected
):
    twin = _twin_of_stall_a(world, bank_bin="970422")  # MB; stall A's payee is at Vietcombank
    body = sepay_body(1106, amount=10_000) | {"gateway": gateway}
    assert post_sepay(client, body).status_code == 200
    [row] = _rows()
    stall_id = {"stall_a": world.stall_a.id, "twin": twin.id, None: None}[expected]
    assert (row.stall_id, row.match_status) == (
        stall_id,
        "matched" if expected else "unmatched",
    )
    assert _today(world.stall_a)[0] == (10_000 if expected == "stall_a" else 0)


def test_payment_into_a_sub_account_finds_its_stall(world, integrations, client):
    # SePay reports the virtual account a payment went to as subAccount.
    body = sepay_body(1107, amount=15_000, account="9999000011") | {"subAccount": "101867123456"}
    assert post_sepay(client, body).status_code == 200
    [row] = _rows()
    assert (row.stall_id, row.match_status) == (world.stall_b.id, "matched")
    assert _today(world.stall_b) == (15_000, 1)


def test_newest_order_named_in_the_content_is_the_one_credited(world, integrations, client):
    old = CollectOrder(
        stall_id=world.stall_a.id,
        reference="A01 OLD1",
        amount=5_000,
        created_at=utcnow() - timedelta(minutes=5),
    )
    new = CollectOrder(stall_id=world.stall_a.id, reference="A01 NEW2", amount=5_000)
    db.session.add_all([old, new])
    db.session.commit()
    body = sepay_body(1108, amount=5_000, content="A01 OLD1 A01 NEW2")
    assert post_sepay(client, body).status_code == 200
    [row] = _rows()
    assert row.order_id == new.id
    db.session.expire_all()
    assert (
        db.session.get(CollectOrder, new.id).status,
        db.session.get(CollectOrder, old.id).status,
    ) == (
        "paid",
        "pending",
    )


def test_order_older_than_the_lookback_is_not_credited(world, integrations, client):
    stale = CollectOrder(
        stall_id=world.stall_a.id,
        reference="A01 GONE",
        amount=5_000,
        created_at=utcnow() - queries.ORDER_LOOKBACK - timedelta(minutes=1),
    )
    db.session.add(stale)
    db.session.commit()
    assert post_sepay(client, sepay_body(1109, amount=5_000, content="A01 GONE")).status_code == 200
    [row] = _rows()
    assert (row.stall_id, row.order_id, row.match_status) == (world.stall_a.id, None, "matched")
    db.session.expire_all()
    assert db.session.get(CollectOrder, stale.id).status == "pending"


def test_a_former_payee_account_no_longer_receives(world, integrations, client):
    # Stall B's payee changes to a new account: money into the old one is not B's any more.
    world.payee_b.is_current = False
    db.session.flush()
    db.session.add(
        PayeeAccount(
            stall=world.stall_b,
            bank_bin="970415",
            account_number="101867999999",
            holder_name="TRAN VAN BINH",
            verified_at=db.func.now(),
        )
    )
    db.session.commit()
    assert post_sepay(client, sepay_body(1110, account="101867123456")).status_code == 200
    assert post_sepay(client, sepay_body(1111, account="101867999999")).status_code == 200
    old, current = _rows()
    assert (old.stall_id, old.match_status) == (None, "unmatched")
    assert (current.stall_id, current.match_status) == (world.stall_b.id, "matched")


def _plans_of_statements_run_by(read) -> list[tuple[str, str]]:
    """Each statement ``read()`` runs on the notifications, with the plan the database picks
    for it and its parameters.

    On PostgreSQL sequential scans are discouraged for the test's few rows, so an index is
    used whenever one fits the statement: what is tested is that one fits."""
    run = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM payment_notifications" in statement:
            run.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        read()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    connection = db.session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plans = []
    for statement, parameters in run:
        explain = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
        rows = connection.exec_driver_sql(explain + statement, parameters).all()
        plans.append((statement, "\n".join(str(row[-1]) for row in rows)))
    db.session.rollback()
    return plans


def test_each_notification_read_has_an_index_and_the_partial_ones_fit(
    world, integrations, order_a, client
):
    # A matched payment, one for the order, and one for review.
    assert post_sepay(client, sepay_body(1201)).status_code == 200
    assert post_sepay(client, sepay_body(1202, content="A01 K7Q3")).status_code == 200
    assert post_sepay(client, sepay_body(1203, account="999999")).status_code == 200
    day = queries.today_in_vietnam(utcnow())
    reads = {
        "ix_payment_notifications_unmatched": queries.unmatched_notifications,
        "ix_payment_notifications_order_id": lambda: queries.order_notifications(order_a),
        "ix_payment_notifications_stall_at": lambda: queries.received_payments(world.stall_a, day),
    }
    for index, read in reads.items():
        plans = _plans_of_statements_run_by(read)
        assert plans, index
        for statement, plan in plans:
            assert index in plan, plan
            if index == "ix_payment_notifications_unmatched":
                # Its condition written out, not a parameter: a prepared PostgreSQL plan made
                # for any value could not use the index.
                assert "match_status = 'unmatched'" in statement, statement
    # What the reads return is unchanged by the indexes being partial.
    assert [n.event_id for n in queries.unmatched_notifications()] == ["1203"]
    assert [n.event_id for n in queries.order_notifications(order_a)] == ["1202"]
    assert queries.received_payments(world.stall_a, day).total == 400_000


def test_the_ingest_statement_stays_within_psycopgs_parse_cache():
    # psycopg converts a statement's %(name)s placeholders in Python, and caches the result
    # only for statements up to a size; above it, every webhook paid for parsing its 4 kB of
    # SQL again (a quarter of the worker's time per notification, bench/bench_webhooks.py).
    from psycopg import _queries
    from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg

    compiled = services._store_statement("postgresql").compile(dialect=pg_psycopg.dialect())
    assert len(str(compiled)) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(compiled.params) <= _queries.MAX_CACHED_STATEMENT_PARAMS
