"""Login: generic errors, rate limits, safe redirects, CSRF, hashed passwords."""

import pytest
from sqlalchemy import select

from market.app import create_app
from market.auth.models import User
from market.auth.views import safe_next
from market.extensions import db


def test_login_and_logout(world, client, auth):
    response = auth.login("manager")
    assert response.status_code == 302 and response.headers["Location"] == "/markets/"
    assert client.get("/markets/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/markets/").status_code == 302


def test_merchant_lands_on_their_own_page(world, client, auth):
    assert auth.login("merchant").headers["Location"] == "/me/"
    page = client.get("/me/").get_data(as_text=True)
    assert "NGUYEN THI HOA" in page and "Chợ Đồng Quang" in page
    assert "TRAN VAN BINH" not in page


@pytest.mark.parametrize(
    ("username", "password"), [("manager", "wrong password"), ("nobody", "correct horse battery")]
)
def test_failed_logins_get_the_same_generic_message(world, auth, username, password):
    response = auth.login(username, password)
    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.get_data(as_text=True)


def test_inactive_user_cannot_log_in(world, auth):
    world.users["manager"].active = False
    db.session.commit()
    assert auth.login("manager").status_code == 401


def test_logins_are_rate_limited_per_address(world, auth, app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    codes = [auth.login("manager", "wrong").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    # Even the right password is refused while limited.
    assert auth.login("manager").status_code == 429


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/markets/TN-A", "/markets/TN-A"),
        ("/markets/?q=a&page=2", "/markets/?q=a&page=2"),
        ("https://evil.example/", "/home"),
        ("//evil.example/", "/home"),
        ("/\\evil.example", "/home"),
        ("\\\\evil.example", "/home"),
        ("javascript:alert(1)", "/home"),
        ("markets", "/home"),
        ("/ok\r\nSet-Cookie: x", "/home"),
        ("", "/home"),
    ],
)
def test_next_redirects_stay_on_this_site(target, expected):
    assert safe_next(target, "/home") == expected


def test_login_follows_a_safe_next_and_ignores_an_unsafe_one(world, client):
    ok = client.post(
        "/login",
        data={"username": "manager", "password": "correct horse battery", "next": "/markets/TN-A"},
    )
    assert ok.headers["Location"] == "/markets/TN-A"
    client.post("/logout")
    evil = client.post(
        "/login",
        data={
            "username": "manager",
            "password": "correct horse battery",
            "next": "//evil.example/",
        },
    )
    assert evil.headers["Location"] == "/markets/"


def test_forms_refuse_posts_without_a_csrf_token(db_url):
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        client = app.test_client()
        response = client.post("/login", data={"username": "x", "password": "y"})
        assert response.status_code == 400
        db.engine.dispose()


def test_passwords_are_stored_as_scrypt_hashes(app):
    user = User(username="u", full_name="U", role="admin")
    user.set_password("a long enough password")
    assert user.password_hash.startswith("scrypt:")
    assert "a long enough password" not in user.password_hash
    assert user.check_password("a long enough password")
    assert not user.check_password("another password")


def test_pages_send_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_errors_never_show_a_stack_trace(db_url):
    # An app of its own: routes cannot be added to the suite's shared app once it has served.
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": db_url})

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    with app.app_context():
        client = app.test_client()
        response = client.get("/boom")
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        assert "secret internals" not in body and "Traceback" not in body
        assert "Dữ liệu của bạn không bị thay đổi" in body
        api = client.get("/api/nothing-here")
        assert api.status_code == 404 and api.json["error"]["status"] == 404
        db.engine.dispose()


def test_create_user_command_hashes_and_scopes(app, runner, world):
    result = runner.invoke(
        args=[
            "create-user",
            "hoa",
            "--role",
            "manager",
            "--name",
            "Hoa",
            "--market",
            "TN-A",
            "--password",
            "mật khẩu dài",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "hoa"))
    assert user.market_ids == {world.market_a.id} and user.check_password("mật khẩu dài")
    result = runner.invoke(
        args=[
            "create-user",
            "x",
            "--role",
            "manager",
            "--name",
            "X",
            "--market",
            "NOPE",
            "--password",
            "12345678",
        ]
    )
    assert result.exit_code != 0 and "NOPE" in result.output


def test_language_picked_before_login_is_kept_and_saved(world, client, auth):
    client.get("/lang/en")
    auth.login("manager")
    page = client.get("/markets/")
    assert '<html lang="en">' in page.get_data(as_text=True)
    assert db.session.get(User, world.users["manager"].id).locale == "en"


def test_a_language_switch_reaches_the_next_request_of_the_same_test(world, client):
    # The app fixture keeps one app context open for the whole test; each request must still
    # pick its own language, as it does under a real server (tests/conftest.py sees to it).
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)
    client.get("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Log in" in page and "Đăng nhập" not in page


def test_pages_link_an_icon_so_browsers_do_not_ask_for_a_missing_favicon_ico(world, client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in page
    with client.get("/static/favicon.svg") as icon:  # a file response: close it
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
