"""Guide pages: the staff guide for staff, the merchant one-pager for anyone."""

import pytest

from tests.conftest import ACCESS_ROLES

MATRIX = [
    ("guide.staff", "GET", "/guide/", {"admin", "manager", "helper", "manager_b", "helper_b"}),
    ("guide.merchant", "GET", "/guide/merchant", set(ACCESS_ROLES)),
]


@pytest.mark.parametrize("role", ACCESS_ROLES)
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "allowed"), MATRIX, ids=[u for _e, _m, u, _a in MATRIX]
)
def test_access(world, client, auth, role, endpoint, method, url, allowed):
    if role != "anonymous":
        auth.login(role)
    response = client.open(url, method=method)
    if role in allowed:
        assert response.status_code == 200
    elif role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 403


def test_merchant_guide_is_simple_vietnamese_and_printable(client):
    page = client.get("/guide/merchant").get_data(as_text=True)
    assert "TÊN NGƯỜI NHẬN" in page and "Đừng tin ảnh chụp màn hình" in page
    assert "thiếu".upper() in page  # a short payment is explained


def test_merchant_page_links_collect_mode_today_and_the_guide(world, client, auth):
    auth.login("merchant")
    page = client.get("/me/").get_data(as_text=True)
    assert "/collect/TN-A/A-01" in page and "/collect/TN-A/A-01/today" in page
    assert "/guide/merchant" in page
