"""GET /api/v1/adoption and /api/v1/markets/<code>/adoption: the figures of the hand-built
province as JSON in the shape their schemas (and the OpenAPI document) describe."""

from __future__ import annotations

import copy

import pytest

from market.adoption import queries
from market.adoption.schemas import MarketAdoptionReportSchema, ProvinceAdoptionSchema
from market.auth.models import User
from market.auth.services import create_api_token
from market.extensions import db
from tests.adoption.conftest import NOW
from tests.conftest import HASH


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr(queries, "now_utc", lambda: NOW)


@pytest.fixture
def tokens(province):
    users = {
        "admin": User(username="admin", full_name="Admin", role="admin"),
        "manager": User(
            username="manager", full_name="Manager", role="manager", markets=[province.b]
        ),
        "helper": User(username="helper", full_name="Helper", role="helper", markets=[province.a]),
    }
    for user in users.values():
        user.password_hash = HASH
        db.session.add(user)
    db.session.commit()
    return {name: create_api_token(user, "test")[1] for name, user in users.items()}


def _get(client, tokens, path, as_="admin"):
    return client.get(path, headers={"Authorization": f"Bearer {tokens[as_]}"})


def _loads(schema, data):
    """Load with the schema, minus the output-only share (it is never sent back)."""
    data = copy.deepcopy(data)
    data["settings"].pop("qr_share")
    return schema().load(data)


def test_province_adoption_json(client, tokens, now):
    response = _get(client, tokens, "/api/v1/adoption")
    assert response.status_code == 200
    data = response.get_json()
    assert data["computed_at"] == "2026-03-04T03:00:00+00:00"
    assert (data["today"], data["window"]) == (
        "2026-03-04",
        {"start": "2026-02-03", "last": "2026-03-04"},
    )
    assert data["settings"] == {
        "target_markets": 60,
        "deadline": "2025-12-31",
        "qr_share": 1.0,
        "active_min_payments": 20,
        "baseline_merchants": 2100,
    }
    assert (data["scope"], data["days_to_deadline"]) == ("province", -63)
    assert data["totals"] == {
        "markets": 4,
        "qualifying": 2,
        "not_started": 1,  # TN-C: no stalls
        "active_stalls": 6,
        "stalls_with_qr": 5,
        "stalls_with_current_sticker": 3,
        "audited_stalls": 2,
        "failed_audits": 1,
        "paying_stalls": 3,
        "active_cashless_stalls": 1,
        "payments": 28,
        "amount": 615_000,
        "merchants_onboarded": 3,
        # No integration lists any account here: every stall with a QR is unwatched.
        "unwatched_stalls": 5,
    }
    assert [d["district"] for d in data["districts"]] == [
        "TP. Thái Nguyên",
        "TP. Sông Công",
        "Huyện Đại Từ",
    ]
    # No target saved: the settings' one, missed (31/12/2025 has passed).
    assert data["targets"] == [
        {
            "title": "Mục tiêu theo cấu hình (MARKET_ADOPTION_TARGET_MARKETS)",
            "markets": 60,
            "deadline": "2025-12-31",
            "former_province": "",
            "count": 2,
            "state": "missed",
            "reached_on": None,
        }
    ]
    assert [m["stage"] for m in data["markets"] if m["code"] == "TN-C"] == ["not_started"]
    assert "TN-C" not in [c["code"] for c in data["closest"]]
    assert data["closest"][0] == {
        "code": "TN-A",
        "name": "Chợ Alpha",
        "lacks": [
            {
                "key": "qr_coverage",
                "met": False,
                "value": 3,
                "required": 4,
                "shortfall": 1,
                "since": None,
                "measured": False,
            },
            {
                "key": "ecommerce_listed",
                "met": False,
                "value": 0,
                "required": 1,
                "shortfall": 1,
                "since": None,
                "measured": False,
            },
        ],
    }
    assert [w["iso_week"] for w in data["weekly"]] == [51, 52, *range(1, 11)]
    a = next(m for m in data["markets"] if m["code"] == "TN-A")
    assert (a["payments"], a["amount"], a["qualifies"]) == (27, 515_000, False)
    assert a["fees_cashless_since"] == "2026-01-01"
    _loads(ProvinceAdoptionSchema, data)  # every field the schema requires, well formed


def test_a_manager_gets_the_figures_of_their_markets_only(client, tokens, now):
    data = _get(client, tokens, "/api/v1/adoption", as_="manager").get_json()
    assert data["scope"] == "markets"
    assert [m["code"] for m in data["markets"]] == ["SC-B"]
    assert (data["totals"]["markets"], data["totals"]["payments"]) == (1, 1)


def test_helpers_get_403(client, tokens):
    response = _get(client, tokens, "/api/v1/adoption", as_="helper")
    assert response.status_code == 403
    assert response.get_json()["error"]["status"] == 403


def test_market_adoption_json(client, tokens, now):
    data = _get(client, tokens, "/api/v1/markets/TN-A/adoption").get_json()
    assert data["market"]["code"] == "TN-A"
    assert (data["market"]["active_stalls"], data["market"]["paying_stalls"]) == (4, 2)
    assert len(data["daily"]) == 30 and len(data["weekly"]) == 12 and len(data["monthly"]) == 12
    assert data["daily"][0] == {
        "start": "2026-02-03",
        "last": "2026-02-03",
        "payments": 1,
        "amount": 5_000,
    }
    assert data["monthly"][-2] == {
        "start": "2026-02-01",
        "last": "2026-02-28",
        "payments": 28,
        "amount": 522_000,
    }
    _loads(MarketAdoptionReportSchema, data)


def test_market_without_stalls(client, tokens, now):
    data = _get(client, tokens, "/api/v1/markets/TN-C/adoption").get_json()
    assert data["market"]["active_stalls"] == 0
    assert data["market"]["qualifies"] is False
    assert {p["payments"] for p in data["daily"]} == {0}


def test_an_unknown_or_another_managers_market_is_404(client, tokens):
    assert _get(client, tokens, "/api/v1/markets/NOPE/adoption").status_code == 404
    assert _get(client, tokens, "/api/v1/markets/TN-A/adoption", as_="manager").status_code == 404


def test_openapi_documents_both_operations(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    province = spec["paths"]["/api/v1/adoption"]["get"]
    market = spec["paths"]["/api/v1/markets/{code}/adoption"]["get"]
    assert (province["operationId"], market["operationId"]) == (
        "province_adoption",
        "market_adoption",
    )
    assert province["tags"] == ["adoption"]
    schema = province["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ProvinceAdoption"}
    props = spec["components"]["schemas"]["MarketAdoption"]["properties"]
    assert {"stalls_with_qr", "paying_stalls", "active_cashless_stalls", "criteria"} <= set(props)
    assert spec["components"]["schemas"]["AdoptionSettings"]["properties"]["qr_share"]["readOnly"]


def test_a_manager_without_markets_gets_an_empty_report(client, tokens, now):
    lonely = User(username="lonely", full_name="Lonely", role="manager")
    lonely.password_hash = HASH
    db.session.add(lonely)
    db.session.commit()
    _token, secret = create_api_token(lonely, "test")
    data = client.get("/api/v1/adoption", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert (data["scope"], data["markets"], data["districts"], data["closest"]) == (
        "markets",
        [],
        [],
        [],
    )
    assert data["totals"]["markets"] == data["totals"]["merchants_onboarded"] == 0
    assert {w["payments"] for w in data["weekly"]} == {0}
