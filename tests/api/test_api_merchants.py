"""Merchants, payee accounts and QR payloads through the API."""

from sqlalchemy import Engine, event, func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.markets.models import Stall
from market.merchants.models import Merchant, PayeeAccount
from market.vietqr import parse_payload

STALL = "/markets/TN-A/stalls/A-01"


def _payees():
    return db.session.execute(
        select(PayeeAccount.id, PayeeAccount.account_number, PayeeAccount.is_current).order_by(
            PayeeAccount.id
        )
    ).all()


def _new_payee(world, **overrides):
    body = {
        "bank": "VCB",
        "account_number": "0011 0099 88",
        "holder_name": "Nguyễn Thị Hoa",
        "expected_current_id": world.payee_a.id,
    }
    return {**body, **overrides}


def test_merchant_of_a_stall_is_read_set_and_released(world, api):
    merchant = api.get(f"{STALL}/merchant").get_json()
    assert merchant["phone"] == "0912345678"
    assert merchant["stalls"] == [{"market": "TN-A", "code": "A-01"}]
    assert api.get(f"/merchants/{merchant['id']}").get_json() == merchant

    put = api.put(
        f"{STALL}/merchant",
        json={"full_name": "lê  văn an", "phone": "+84 977 000 111", "consent": True},
        as_="helper",
    )
    assert put.status_code == 200
    new = put.get_json()
    assert (new["full_name"], new["phone"], new["consent"]) == ("lê văn an", "0977000111", True)
    assert new["consent_at"] is not None
    assert api.get(f"{STALL}/merchant").get_json()["id"] == new["id"]
    assert api.get(f"/merchants/{merchant['id']}").get_json()["stalls"] == []

    assert api.delete(f"{STALL}/merchant").status_code == 204
    assert api.get(f"{STALL}/merchant").status_code == 404
    assert db.session.scalar(select(func.count(Merchant.id))) == 3  # merchants are kept


def test_bad_merchant_gets_field_messages_and_nothing_is_written(world, api):
    before = db.session.scalar(select(func.count(Merchant.id)))
    response = api.put(
        f"{STALL}/merchant",
        json={"full_name": "Hoa 2", "phone": "12345", "tax_code": "abc", "consent": "maybe"},
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"full_name", "phone", "tax_code", "consent"}
    assert "12345" in fields["phone"][0]
    assert db.session.scalar(select(func.count(Merchant.id))) == before
    assert api.get(f"{STALL}/merchant").get_json()["phone"] == "0912345678"


def test_merchant_list_filters_by_name_phone_and_market(world, api):
    assert api.get("/merchants").get_json()["total"] == 2
    assert [m["phone"] for m in api.get("/merchants?q=bình").get_json()["items"]] == ["0987654321"]
    assert [m["phone"] for m in api.get("/merchants?q=0912").get_json()["items"]] == ["0912345678"]
    assert [m["phone"] for m in api.get("/merchants?market=TN-B").get_json()["items"]] == [
        "0987654321"
    ]
    assert api.get("/merchants?market=TN-B", as_="manager").get_json()["total"] == 0


def _statements_for(api, path, as_="admin"):
    api.get(path, as_=as_)  # the token is made and first used (both written) before counting
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        response = api.get(path, as_=as_)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return response.get_json(), len(seen)


def test_merchant_list_costs_the_same_statements_for_2_or_12_merchants(world, api):
    few, statements = _statements_for(api, "/merchants")
    assert few["total"] == 2
    for n in range(10):
        merchant = Merchant(full_name=f"Người bán {n}", phone=f"09000000{n:02d}", consent=True)
        market = world.market_a if n % 2 else world.market_b
        db.session.add(Stall(market=market, code=f"Z-{n:02d}", merchant=merchant, status="active"))
    db.session.commit()
    many, statements_now = _statements_for(api, "/merchants")
    assert many["total"] == 12
    assert statements_now == statements
    # Each merchant still lists exactly its own stalls, with their market.
    listed = {m["phone"]: m["stalls"] for m in many["items"]}
    assert listed["0900000003"] == [{"market": "TN-A", "code": "Z-03"}]
    assert listed["0900000004"] == [{"market": "TN-B", "code": "Z-04"}]


def test_payee_change_needs_the_current_id_and_keeps_history(world, api):
    created = api.post(f"{STALL}/payees", json=_new_payee(world), as_="manager")
    assert created.status_code == 201
    payee = created.get_json()
    assert payee == {
        **payee,
        "bank_bin": "970436",
        "bank_name": "Vietcombank",
        "account_number": "0011009988",
        "service": "account",
        "holder_name": "NGUYEN THI HOA",
        "is_current": True,
        "verified": False,
        "verified_at": None,
    }
    assert api.get(f"{STALL}/payees/current").get_json() == payee
    history = api.get(f"{STALL}/payees").get_json()
    assert [p["id"] for p in history["items"]] == [payee["id"], world.payee_a.id]
    assert history["items"][1]["is_current"] is False
    assert history["items"][1]["replaced_at"] is not None
    assert api.get(f"{STALL}").get_json()["qr_state"] == "unverified"


def test_payee_change_against_a_stale_current_id_is_a_409_and_changes_nothing(world, api):
    api.post(f"{STALL}/payees", json=_new_payee(world), as_="manager")
    before = _payees()
    stale = api.post(
        f"{STALL}/payees", json=_new_payee(world, account_number="555666777"), as_="admin"
    )
    assert stale.status_code == 409
    assert stale.get_json()["error"]["status"] == 409
    assert _payees() == before


def test_payee_change_requires_expected_current_id(world, api):
    body = _new_payee(world)
    del body["expected_current_id"]
    response = api.post(f"{STALL}/payees", json=body)
    assert response.status_code == 422
    assert "expected_current_id" in response.get_json()["error"]["fields"]


def test_same_payee_again_changes_nothing_and_answers_200(world, api):
    before = _payees()
    response = api.post(
        f"{STALL}/payees",
        json=_new_payee(world, account_number="0011001234567", holder_name="NGUYEN THI HOA"),
    )
    assert response.status_code == 200
    assert response.get_json()["id"] == world.payee_a.id
    assert _payees() == before


def test_bad_payee_gets_field_messages_and_nothing_is_written(world, api):
    api.headers("admin")  # the token first: making it is audited
    before = (_payees(), db.session.scalar(select(func.count(AuditLog.id))))
    response = api.post(
        f"{STALL}/payees",
        json=_new_payee(world, bank="NOBANK", holder_name="Hoa 123", expected_current_id="x"),
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {
        "bank",
        "holder_name",
        "expected_current_id",
    }
    card = api.post(f"{STALL}/payees", json=_new_payee(world, service="card"))
    assert card.status_code == 422
    assert set(card.get_json()["error"]["fields"]) == {"account_number"}
    after = (_payees(), db.session.scalar(select(func.count(AuditLog.id))))
    assert after == before


def test_helper_may_not_replace_a_verified_payee(world, api):
    before = _payees()
    response = api.post(f"{STALL}/payees", json=_new_payee(world), as_="helper")
    assert response.status_code == 403
    assert _payees() == before


def test_a_new_payee_is_verified_by_another_manager(world, api):
    payee = api.post(f"{STALL}/payees", json=_new_payee(world), as_="manager").get_json()
    own = api.post(f"{STALL}/payees/{payee['id']}/verify", as_="manager")
    assert own.status_code == 403
    verified = api.post(f"{STALL}/payees/{payee['id']}/verify", as_="admin")
    assert verified.status_code == 200
    assert verified.get_json()["verified"] is True
    old = api.post(f"{STALL}/payees/{world.payee_a.id}/verify", as_="admin")
    assert old.status_code == 409
    other_stall = api.post(f"/markets/TN-B/stalls/B-01/payees/{payee['id']}/verify")
    assert other_stall.status_code == 404


def test_qr_payload_is_the_vietqr_of_the_current_payee(world, api):
    static = api.get(f"{STALL}/qr-payload").get_json()
    parsed = parse_payload(static["payload"])
    assert (parsed.bank_bin, parsed.account, parsed.amount) == ("970436", "0011001234567", None)
    assert static["dynamic"] is False
    assert static["verified"] is True
    assert static["payee_id"] == world.payee_a.id

    dynamic = api.get(f"{STALL}/qr-payload?amount=25000&purpose=Tiền rau", as_="merchant")
    assert dynamic.status_code == 200
    body = dynamic.get_json()
    parsed = parse_payload(body["payload"])
    assert (parsed.amount, parsed.purpose, body["dynamic"]) == (25000, "Tien rau", True)


def test_qr_payload_rejects_bad_amount_and_purpose(world, api):
    for query, field in [
        ("amount=0", "amount"),
        ("amount=abc", "amount"),
        ("amount=99999999999999", "amount"),
        ("purpose=" + "x" * 26, "purpose"),
        ("purpose=✓ check", "purpose"),
    ]:
        response = api.get(f"{STALL}/qr-payload?{query}")
        assert response.status_code == 422, query
        assert field in response.get_json()["error"]["fields"], query


def test_stall_without_payee_has_no_qr_payload(world, api):
    api.post("/markets/TN-A/stalls", json={"code": "A-02"})
    response = api.get("/markets/TN-A/stalls/A-02/qr-payload")
    assert response.status_code == 404
    assert api.get("/markets/TN-A/stalls/A-02/payees/current").status_code == 404
    first = api.post(
        "/markets/TN-A/stalls/A-02/payees", json=_new_payee(world, expected_current_id=None)
    )
    assert first.status_code == 201
    # Not verified yet: no payload to print or pay into, unless a manager previews it.
    assert api.get("/markets/TN-A/stalls/A-02/qr-payload").status_code == 409
    assert api.get("/markets/TN-A/stalls/A-02/qr-payload?preview=true").status_code == 200


def test_merchant_sees_own_stall_but_not_the_market(world, api):
    assert api.get(STALL, as_="merchant").status_code == 200
    assert api.get("/markets/TN-A", as_="merchant").status_code == 404
    assert api.get("/markets/TN-B/stalls/B-01", as_="merchant").status_code == 404
    assert api.put(f"{STALL}/merchant", json={}, as_="merchant").status_code in (403, 422)
