"""Issue 17, item 10: wrong API tokens are rate limited; an unverified payee has no
qr-payload (409) unless a manager explicitly previews it."""

from __future__ import annotations

from market.merchants import services as merchant_services

STALL = "/api/v1/markets/TN-A/stalls/A-01"


def test_wrong_tokens_are_rate_limited_per_address(app, world, api, client):
    app.config["API_TOKEN_FAILURE_LIMIT"] = "3 per minute"
    wrong = {"Authorization": "Bearer not-a-real-token"}
    answers = [client.get("/api/v1/markets", headers=wrong).status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]
    # Past the limit even a right token from that address waits: a guesser cannot tell.
    assert api.get("/markets", as_="manager").status_code == 429
    # Another address is not affected.
    other = client.get(
        "/api/v1/markets", headers=api.headers("manager"), environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert other.status_code == 200


def test_right_tokens_do_not_count_against_the_limit(app, world, api):
    app.config["API_TOKEN_FAILURE_LIMIT"] = "2 per minute"
    assert {api.get("/markets", as_="manager").status_code for _ in range(5)} == {200}


def _pending_payee(world):
    merchant_services.set_payee(
        world.users["manager"],
        world.stall_a,
        bank_bin="970436",
        account_number="0451000999888",
        service="account",
        holder_name="NGUYEN THI HOA",
    )


def test_qr_payload_of_an_unverified_payee_is_refused_like_the_stickers(world, api):
    _pending_payee(world)
    for user in ("admin", "manager", "helper", "merchant"):
        response = api.get(f"{STALL}/qr-payload", as_=user)
        assert response.status_code == 409, user
    # The sticker and the public QR answer the same.
    assert api.client.get("/stalls/TN-A/A-01/qr.png").status_code == 409


def test_only_managers_may_preview_an_unverified_payee(world, api):
    _pending_payee(world)
    for user, status in [("admin", 200), ("manager", 200), ("helper", 403), ("merchant", 403)]:
        response = api.get(f"{STALL}/qr-payload?preview=true", as_=user)
        assert response.status_code == status, user
    body = api.get(f"{STALL}/qr-payload?preview=true", as_="manager").get_json()
    assert body["verified"] is False and body["account_number"] == "0451000999888"


def test_preview_of_a_verified_payee_is_the_ordinary_payload(world, api):
    plain = api.get(f"{STALL}/qr-payload", as_="helper").get_json()
    assert api.get(f"{STALL}/qr-payload?preview=true", as_="helper").get_json() == plain


def test_api_page_far_past_the_end_is_refused_per_field(world, api):
    response = api.get("/markets?page=99999999999999999999")
    assert response.status_code == 422
    assert "page" in response.get_json()["error"]["fields"]
