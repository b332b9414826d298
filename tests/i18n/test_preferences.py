"""Large text and language, remembered per user (User.large_text, User.locale) and per device
(the session) for people who are not logged in, such as shoppers on the pay page."""

from __future__ import annotations

import re

from market.app import create_app
from market.auth.models import User
from market.extensions import db

LARGE = re.compile(r'<html lang="\w+" class="large-text">')


def is_large(page: str) -> bool:
    large_html = bool(LARGE.search(page))
    assert large_html == ('<body class="large-text">' in page), "html and body disagree"
    return large_html


def user(world, name: str) -> User:
    db.session.expire_all()
    return db.session.get(User, world.users[name].id)


def test_text_is_normal_by_default(world, client):
    assert not is_large(client.get("/pay/TN-A/A-01").get_data(as_text=True))


def test_a_shopper_turns_on_large_text_for_this_device(world, client):
    page = client.get("/pay/TN-A/A-01").get_data(as_text=True)
    link = re.search(r'<a class="text-size" href="([^"]+)">Chữ to</a>', page)
    assert link, "no large text link in the top bar"
    assert link.group(1).startswith("/preferences?text_size=large&amp;next=")
    form = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(r'<input checked[^>]* value="large"', form), "large text not preselected"

    response = client.post(
        "/preferences", data={"locale": "vi", "text_size": "large", "next": "/pay/TN-A/A-01?"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/pay/TN-A/A-01")
    page = client.get("/pay/TN-A/A-01").get_data(as_text=True)
    assert is_large(page)
    assert "Đã lưu cho thiết bị này: chữ to, Tiếng Việt." in page

    other_device = client.application.test_client()
    assert not is_large(other_device.get("/pay/TN-A/A-01").get_data(as_text=True))


def test_the_pay_page_sets_no_cookie(world, client):
    """The large-text switch is a link for visitors: a one-tap form would need a CSRF token,
    and so a session cookie on every shopper's pay page."""
    response = client.get("/pay/TN-A/A-01")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_merchant_switches_large_text_in_one_tap_and_it_is_saved(world, client, auth):
    auth.login("merchant")
    page = client.get("/me/").get_data(as_text=True)
    assert 'aria-pressed="false"' in page and 'name="large_text" value="1"' in page
    response = client.post("/preferences/large-text", data={"large_text": "1", "next": "/me/?"})
    assert response.headers["Location"].startswith("/me/")
    assert user(world, "merchant").large_text is True
    page = client.get("/me/").get_data(as_text=True)
    assert is_large(page)
    assert 'aria-pressed="true"' in page and "Đã bật chữ to." in page

    # Another device, same person: the saved choice follows them.
    other = client.application.test_client()
    other.post("/login", data={"username": "merchant", "password": "correct horse battery"})
    assert is_large(other.get("/me/").get_data(as_text=True))

    client.post("/preferences/large-text", data={"large_text": "0"})
    assert user(world, "merchant").large_text is False
    assert not is_large(client.get("/me/").get_data(as_text=True))


def test_large_text_picked_before_login_is_kept_and_saved(world, client, auth):
    client.post("/preferences", data={"locale": "vi", "text_size": "large"})
    auth.login("merchant")
    assert is_large(client.get("/me/").get_data(as_text=True))
    assert user(world, "merchant").large_text is True


def test_logging_out_keeps_the_language_and_text_size_of_the_device(world, client, auth):
    auth.login("manager")
    client.get("/lang/en")
    client.post("/preferences/large-text", data={"large_text": "1"})
    page = client.post("/logout", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="en" class="large-text">' in page
    assert "You have logged out." in page


def test_preferences_page_saves_both_and_answers_in_the_new_language(world, client, auth):
    auth.login("helper")
    page = client.post(
        "/preferences", data={"locale": "en", "text_size": "large"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Saved for your account: large text, English." in page
    helper = user(world, "helper")
    assert (helper.locale, helper.large_text) == ("en", True)


def test_bad_values_change_nothing(world, client, auth):
    auth.login("merchant")
    assert client.post("/preferences/large-text", data={"large_text": "2"}).status_code == 400
    response = client.post("/preferences", data={"locale": "fr", "text_size": "huge"})
    assert response.status_code == 422
    merchant = user(world, "merchant")
    assert (merchant.locale, merchant.large_text) == (None, False)


def test_next_stays_on_this_site(world, client):
    response = client.post(
        "/preferences",
        data={"locale": "vi", "text_size": "normal", "next": "//evil.example/"},
    )
    assert response.headers["Location"] == "/preferences"
    page = client.get("/preferences?next=javascript:alert(1)").get_data(as_text=True)
    assert 'href="javascript:' not in page and "Quay lại trang trước" not in page


def test_switches_refuse_posts_without_a_csrf_token(db_url):
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        client = app.test_client()
        assert client.post("/preferences/large-text", data={"large_text": "1"}).status_code == 400
        response = client.post("/preferences", data={"locale": "en", "text_size": "large"})
        assert response.status_code == 400
        assert not is_large(client.get("/login").get_data(as_text=True))
        db.engine.dispose()
