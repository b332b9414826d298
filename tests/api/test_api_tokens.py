"""Personal API tokens: made and revoked by their user, stored hashed, acting as that user."""

import hashlib
import re

from sqlalchemy import select, text

from market.auth.models import ApiToken
from market.extensions import db

TOKEN = re.compile(r"cho40_[A-Za-z0-9_-]{43}")


def _create_in_ui(client, auth, username="manager", name="Bảng tính"):
    assert auth.login(username).status_code == 302
    response = client.post("/account/tokens", data={"name": name})
    assert response.status_code == 200
    return response, TOKEN.search(response.get_data(as_text=True)).group()


def test_token_is_shown_once_and_only_its_hash_is_stored(world, client, auth):
    response, secret = _create_in_ui(client, auth)
    assert response.headers["Cache-Control"] == "no-store"
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix)
    assert token.name == "Bảng tính"
    # The secret is nowhere in the database, and the list page shows only the prefix.
    row = db.session.execute(text("SELECT * FROM api_tokens")).one()
    assert all(secret not in str(value) for value in row)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in page
    assert token.prefix in page


def test_token_acts_as_its_user_and_records_its_last_use(world, client, auth):
    _response, secret = _create_in_ui(client, auth, "manager_b")
    auth.logout()
    response = client.get("/api/v1/markets", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert [m["code"] for m in response.get_json()["items"]] == ["TN-B"]
    assert "Set-Cookie" not in response.headers
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None


def test_revoked_token_stops_working(world, client, auth):
    _response, secret = _create_in_ui(client, auth)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/markets", headers=headers).status_code == 200
    token_id = db.session.scalar(select(ApiToken.id))
    revoked = client.post(f"/account/tokens/{token_id}/revoke")
    assert revoked.status_code == 302
    response = client.get("/api/v1/markets", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["status"] == 401
    assert "Đã thu hồi" in client.get("/account/tokens").get_data(as_text=True)


def test_nobody_revokes_someone_elses_token(world, client, auth, token_for):
    secret = token_for("manager")
    token_id = db.session.scalar(select(ApiToken.id))
    auth.login("admin")
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/markets", headers=headers).status_code == 200


def test_inactive_users_tokens_stop_working(world, client, token_for):
    secret = token_for("manager")
    world.users["manager"].active = False
    db.session.commit()
    response = client.get("/api/v1/markets", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_a_change_of_markets_applies_to_the_token_at_once(world, client, token_for):
    secret = token_for("manager")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/markets/TN-A", headers=headers).status_code == 200
    world.users["manager"].markets = [world.market_b]
    db.session.commit()
    assert client.get("/api/v1/markets/TN-A", headers=headers).status_code == 404
    assert client.get("/api/v1/markets/TN-B", headers=headers).status_code == 200


def test_session_cookie_does_not_authenticate_the_api(world, client, auth):
    assert auth.login("admin").status_code == 302
    for method, url in [("GET", "/api/v1/markets"), ("POST", "/api/v1/markets")]:
        response = client.open(
            url, method=method, json={"code": "X", "name": "X", "district": "TP. Thái Nguyên"}
        )
        assert response.status_code == 401
    # With a token, the token's user counts, not the logged-in one.
    _response, secret = _create_in_ui(client, auth, "helper_b")
    auth.login("admin")
    response = client.get("/api/v1/markets", headers={"Authorization": f"Bearer {secret}"})
    assert [m["code"] for m in response.get_json()["items"]] == ["TN-B"]


def test_malformed_or_unknown_tokens_are_401(world, client, token_for):
    secret = token_for("admin")
    for header in [
        f"Basic {secret}",
        "Bearer",
        "Bearer ",
        "Bearer cho40_" + "A" * 43,
        f"Bearer {secret}x",
        secret,
        "Bearer \x00",
    ]:
        response = client.get("/api/v1/markets", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    ok = client.get("/api/v1/markets", headers={"Authorization": f"bearer  {secret} "})
    assert ok.status_code == 200


def test_token_needs_a_name(world, client, auth):
    auth.login("merchant")
    response = client.post("/account/tokens", data={"name": "   "})
    assert response.status_code == 422
    assert db.session.scalar(select(ApiToken.id)) is None


def test_token_pages_need_csrf_but_the_api_does_not(app, world, client, auth, token_for):
    secret = token_for("admin")
    auth.login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 400
    page = client.get("/account/tokens").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/account/tokens", data={"name": "x", "csrf_token": csrf}).status_code == 200
    response = client.post(
        "/api/v1/markets",
        json={"code": "TN-NEW", "name": "Chợ mới", "district": "TP. Thái Nguyên"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201


def test_nav_links_to_the_token_page(world, client, auth):
    auth.login("helper")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert 'href="/account/tokens"' in page
