"""Logging in from a real browser: a wrong password gets the one generic Vietnamese message
(it never says which of the two was wrong), and the language switch in the top bar changes
the page's language and back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VIEWPORTS, log_in

pytestmark = pytest.mark.browser

GENERIC_ERROR = "Tên đăng nhập hoặc mật khẩu không đúng."


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_wrong_password_shows_the_generic_error(new_page, shots, viewport):
    page = new_page(viewport)
    page.goto("/login")
    shots(page, "login")
    for username in ("quanly", "khong-co-ai"):
        log_in(page, username, "sai-mat-khau")
        expect(page).to_have_url(re.compile(r"/login$"))
        expect(page.get_by_role("alert")).to_have_text(GENERIC_ERROR)
        expect(page.get_by_label("Tên đăng nhập")).to_have_value(username)
        expect(page.get_by_label("Mật khẩu")).to_have_value("")
        shots(page, f"wrong-password-{username}")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_language_switch_to_english_and_back(new_page, shots, viewport):
    page = new_page(viewport)
    page.goto("/login")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "vi")

    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(html).to_have_attribute("lang", "en")
    shots(page, "english")

    page.get_by_role("link", name="Tiếng Việt").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(html).to_have_attribute("lang", "vi")
    expect(page.get_by_role("link", name="English")).to_be_visible()
    shots(page, "vietnamese")


def test_language_picked_before_login_is_kept_after_login(new_page):
    page = new_page("desktop")
    page.goto("/login")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    log_in(page, "quanly2")  # no other browser test uses quanly2, whose saved language is unset
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=2_000)
