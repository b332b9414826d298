"""Each role's top bar shows what that role may use, and nothing else; every link works."""

import re

import pytest

NAV = re.compile(r'<nav aria-label="[^"]*">(.*?)</nav>', re.S)
HREF = re.compile(r'<a [^>]*href="([^"#?]+)[^"]*"')

EXPECTED = {
    "admin": {
        "/markets/",
        "/users/",
        "/admin/webhooks",
        "/markets/pending-payees",
        "/adoption/",
        "/guide/",
        "/account/tokens",
        "/account/password",
    },
    "manager": {
        "/markets/",
        "/users/",
        "/markets/pending-payees",
        "/adoption/",
        "/guide/",
        "/account/tokens",
        "/account/password",
    },
    "helper": {"/markets/", "/guide/", "/account/tokens", "/account/password"},
    # One stall: collect and today's payments open it directly.
    "merchant": {
        "/me/",
        "/collect/TN-A/A-01",
        "/collect/TN-A/A-01/today",
        "/guide/merchant",
        "/account/password",
    },
}


def _nav_links(page: str) -> set[str]:
    [nav] = NAV.findall(page)
    return set(HREF.findall(nav)) - {"/lang/en", "/lang/vi", "/preferences"}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_its_own_links_and_each_link_opens(world, client, auth, role):
    auth.login(role)
    home = client.get("/", follow_redirects=True)
    links = _nav_links(home.get_data(as_text=True))
    assert links == EXPECTED[role]
    for link in links:
        assert client.get(link).status_code == 200, link


def test_merchants_see_collect_and_their_payments_but_not_api_tokens(world, client, auth):
    auth.login("merchant")
    page = client.get("/me/").get_data(as_text=True)
    [nav] = NAV.findall(page)
    assert "Thu tiền" in nav and "Tiền đã nhận" in nav and "Mã API" not in nav
    # Each stall's card holds the collect and today's-payments buttons the links point to.
    assert "/collect/TN-A/A-01" in page and "/collect/TN-A/A-01/today" in page


def test_a_logged_in_language_switch_is_a_form_not_a_link(world, client, auth):
    auth.login("manager")
    page = client.get("/markets/").get_data(as_text=True)
    assert 'href="/lang/' not in page
    assert 'action="/lang/en"' in page
