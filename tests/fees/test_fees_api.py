"""The fees API: fee types with dated rates, billing, bills with their QR payload; bad input
answers 422 field by field and changes nothing; a merchant's token sees only their bills."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from market.extensions import db
from market.fees import services
from market.fees.models import FeeBill, FeeType
from market.vietqr import parse_payload


def test_fee_types_are_listed_with_their_rates_newest_first(fees, api):
    services.add_rate(None, fees.hygiene, amount=60_000, valid_from=date(2027, 1, 1))
    body = api.get("/markets/TN-A/fee-types", as_="helper").get_json()
    assert body["total"] == 3
    hygiene = next(item for item in body["items"] if item["code"] == "VESINH")
    assert [(r["valid_from"], r["amount"]) for r in hygiene["rates"]] == [
        ("2027-01-01", 60_000),
        ("2026-09-01", 50_000),
    ]


def test_a_bad_fee_type_is_refused_field_by_field(fees, api):
    response = api.post(
        "/markets/TN-A/fee-types",
        as_="manager",
        json={
            "code": "bảo vệ",
            "name": "",
            "kind": "toll",
            "amount": "30000",
            "valid_from": "12/2026",
        },
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) >= {"code", "name", "kind", "amount", "valid_from"}
    taken = api.post(
        "/markets/TN-A/fee-types",
        as_="manager",
        json={
            "code": "VESINH",
            "name": "Lần nữa",
            "kind": "fixed",
            "amount": 1,
            "valid_from": "2026-12",
        },
    )
    assert taken.status_code == 422 and "code" in taken.get_json()["error"]["fields"]
    daily_meter = api.post(
        "/markets/TN-A/fee-types",
        as_="manager",
        json={
            "code": "NUOC",
            "name": "Nước",
            "kind": "metered",
            "cycle": "daily",
            "amount": 1,
            "valid_from": "2026-12",
        },
    )
    assert daily_meter.status_code == 422 and "cycle" in daily_meter.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count(FeeType.id))) == 3


def test_billing_by_api_then_reading_a_bill_with_its_qr_payload(fees, api):
    first = api.post("/markets/TN-A/bills", as_="manager", json={"period": "2026-11"})
    assert first.get_json() == {"period": "2026-11", "created": 2, "existing": 0, "total": 800_000}
    again = api.post("/markets/TN-A/bills", as_="manager", json={"period": "2026-11"})
    assert again.get_json()["created"] == 0 and again.get_json()["existing"] == 2
    bad = api.post("/markets/TN-A/bills", as_="manager", json={"period": "2026-11-31"})
    assert bad.status_code == 422 and "period" in bad.get_json()["error"]["fields"]
    listing = api.get("/markets/TN-A/bills?period=2026-11", as_="manager").get_json()
    assert [item["stall"] for item in listing["items"]] == ["A-01", "A-02"]
    number = listing["items"][0]["number"]
    bill = api.get(f"/markets/TN-A/bills/{number}", as_="merchant").get_json()
    assert [line["amount"] for line in bill["lines"]] == [300_000, 50_000]
    parsed = parse_payload(bill["qr_payload"])
    assert parsed.amount == bill["due"] == 350_000 and parsed.purpose == bill["reference"]


def test_a_merchants_token_sees_only_their_own_bills(fees, api):
    services.bill_market(None, fees.world.market_a, "2026-11")
    own = api.get("/markets/TN-A/bills", as_="merchant").get_json()
    assert [item["stall"] for item in own["items"]] == ["A-01"]
    other = db.session.scalar(select(FeeBill).where(FeeBill.stall_id == fees.stall_a2.id))
    assert api.get(f"/markets/TN-A/bills/{other.number}", as_="merchant").status_code == 404
    assert api.get("/markets/TN-A/bills", as_="merchant_b").get_json()["total"] == 0
