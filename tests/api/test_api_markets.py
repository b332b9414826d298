"""Markets and stalls through the API: CRUD, filters, pages, and bad input that changes nothing."""

from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.markets.models import Market, Stall


def _counts():
    return (
        db.session.scalar(select(func.count(Market.id))),
        db.session.scalar(select(func.count(Stall.id))),
        # Creating the test's token is audited too; only the registry's entries count here.
        db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action.not_like("api_token.%"))
        ),
    )


def test_market_is_created_read_listed_and_updated(world, api):
    body = {
        "code": " tn-c ",
        "name": "  Chợ   Thái  ",
        "district": "TP. Thái Nguyên",
        "launch_date": "2026-12-01",
    }
    created = api.post("/markets", json=body)
    assert created.status_code == 201
    market = created.get_json()
    assert market["code"] == "TN-C"
    assert market["name"] == "Chợ Thái"
    assert market["status"] == "planned"
    assert (market["stalls"], market["stalls_ready"]) == (0, 0)
    assert market["created_at"].endswith("+00:00")

    assert api.get("/markets/TN-C").get_json() == market
    changed = api.patch("/markets/TN-C", json={"status": "onboarding", "launch_date": None})
    assert changed.status_code == 200
    assert changed.get_json()["status"] == "onboarding"
    assert changed.get_json()["launch_date"] is None
    assert db.session.scalar(select(Market.status).where(Market.code == "TN-C")) == "onboarding"


def test_market_counts_its_stalls_and_ready_ones(world, api):
    market = api.get("/markets/TN-A").get_json()
    assert (market["stalls"], market["stalls_ready"]) == (1, 1)
    listed = api.get("/markets?q=quang").get_json()
    assert [(m["code"], m["stalls"]) for m in listed["items"]] == [("TN-A", 1)]


def test_market_list_filters_and_pages(world, api):
    for n in range(5):
        api.post(
            "/markets",
            json={"code": f"P-{n}", "name": f"Chợ {n}", "district": "Huyện Võ Nhai"},
        )
    page = api.get("/markets?district=Huyện Võ Nhai&per_page=2&page=2").get_json()
    assert (page["page"], page["per_page"], page["total"]) == (2, 2, 5)
    assert [m["code"] for m in page["items"]] == ["P-2", "P-3"]
    assert api.get("/markets?status=planned").get_json()["total"] == 5
    assert api.get("/markets?status=live").get_json()["total"] == 2


def test_bad_page_parameters_get_field_messages(world, api):
    response = api.get("/markets?per_page=201&page=0&status=closed")
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"per_page", "page", "status"}


def test_bad_market_gets_messages_for_each_field_and_nothing_is_written(world, api):
    before = _counts()
    response = api.post(
        "/markets",
        json={"code": "tn a!", "name": "", "district": "Hà Nội", "status": "open", "x": 1},
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["status"] == 422
    assert set(error["fields"]) == {"code", "name", "district", "status", "x"}
    assert all(isinstance(m, list) and m for m in error["fields"].values())
    assert _counts() == before


def test_duplicate_market_code_is_a_field_error(world, api):
    before = _counts()
    response = api.post(
        "/markets", json={"code": "TN-A", "name": "Chợ trùng", "district": "TP. Thái Nguyên"}
    )
    assert response.status_code == 422
    assert "TN-A" in response.get_json()["error"]["fields"]["code"][0]
    assert _counts() == before


def test_market_code_cannot_change(world, api):
    response = api.patch("/markets/TN-A", json={"code": "TN-Z"})
    assert response.status_code == 422
    assert "code" in response.get_json()["error"]["fields"]


def test_body_must_be_a_json_object(world, api):
    before = _counts()
    for kwargs in (
        {"data": "code=X", "content_type": "application/x-www-form-urlencoded"},
        {"data": "{not json", "content_type": "application/json"},
        {"json": ["a", "list"]},
    ):
        response = api.post("/markets", **kwargs)
        assert response.status_code == 422, kwargs
        assert "_schema" in response.get_json()["error"]["fields"]
    assert _counts() == before


def test_control_characters_are_refused_not_stored(world, api):
    response = api.post(
        "/markets", json={"code": "TN-X", "name": "Chợ\x00", "district": "TP. Thái Nguyên"}
    )
    assert response.status_code == 422
    assert "name" in response.get_json()["error"]["fields"]
    assert api.get("/markets?q=%00").status_code == 422


def test_stall_is_created_read_listed_and_updated(world, api):
    created = api.post("/markets/TN-A/stalls", json={"code": "b 07", "zone": " Khu B "})
    assert created.status_code == 201
    stall = created.get_json()
    assert stall == {
        **stall,
        "market": "TN-A",
        "code": "B07",
        "zone": "Khu B",
        "category": "khac",
        "status": "active",
        "qr_state": "missing",
        "merchant": None,
        "payee": None,
    }
    assert api.get("/markets/TN-A/stalls/B07").get_json() == stall
    renamed = api.patch("/markets/TN-A/stalls/B07", json={"code": "B-07", "category": "thit"})
    assert renamed.status_code == 200
    assert (renamed.get_json()["code"], renamed.get_json()["category"]) == ("B-07", "thit")
    assert api.get("/markets/TN-A/stalls/B07").status_code == 404
    assert api.get("/markets/TN-A/stalls/B-07").status_code == 200


def test_stall_list_shows_merchant_payee_and_qr_state_and_filters(world, api):
    api.post("/markets/TN-A/stalls", json={"code": "A-02", "status": "vacant"})
    page = api.get("/markets/TN-A/stalls").get_json()
    assert page["total"] == 2
    first = page["items"][0]
    assert first["code"] == "A-01"
    assert first["merchant"]["phone"] == "0912345678"
    assert first["payee"]["account_number"] == "0011001234567"
    assert first["payee"]["bank_name"] == "Vietcombank"
    assert first["qr_state"] == "reprint"  # verified, never printed
    assert [
        s["code"] for s in api.get("/markets/TN-A/stalls?status=vacant").get_json()["items"]
    ] == ["A-02"]
    assert [s["code"] for s in api.get("/markets/TN-A/stalls?qr=inactive").get_json()["items"]] == [
        "A-02"
    ]
    assert api.get("/markets/TN-A/stalls?q=0912").get_json()["total"] == 1
    assert api.get("/markets/TN-A/stalls?qr=bogus").status_code == 422


def test_duplicate_stall_code_is_a_field_error_and_nothing_is_written(world, api):
    api.post("/markets/TN-A/stalls", json={"code": "A-02"})
    before = _counts()
    response = api.post("/markets/TN-A/stalls", json={"code": "A-01"})
    assert response.status_code == 422
    assert "code" in response.get_json()["error"]["fields"]
    response = api.patch("/markets/TN-A/stalls/A-02", json={"code": "A-01"})
    assert response.status_code == 422
    assert _counts() == before


def test_helper_may_not_create_a_market_and_it_is_a_403(world, api):
    before = _counts()
    response = api.post(
        "/markets",
        json={"code": "TN-H", "name": "Chợ H", "district": "TP. Thái Nguyên"},
        as_="helper",
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["message"]
    assert _counts() == before


def test_unknown_api_path_and_method_answer_json(world, api):
    missing = api.get("/nothing-here")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["status"] == 404
    wrong = api.open("DELETE", "/markets/TN-A")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["status"] == 405
