"""The province dashboard on the demo data stays a page one can read (it was over 13,000 px
tall on a desktop), its market table filters and pages, and each dated target says where it
stands in words that hold before and after its deadline."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_browser_phone_layout import assert_fits_a_phone

#: A readable page: a few screens, not a scroll through every market.
MAX_HEIGHT = {"desktop": 5_500, "phone": 7_500}  # measured: 4,808 and 6,299


def _height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_dashboard_height_on_desktop_and_phone(new_page, shots, viewport):
    page = new_page(viewport, user="admin")
    page.goto("/adoption/")
    height = _height(page)
    shots(page, f"dashboard-{height}px")
    print(f"dashboard height on {viewport}: {height} px")
    assert height <= MAX_HEIGHT[viewport], height
    assert page.problems == []
    if viewport == "phone":
        assert_fits_a_phone(page, "/adoption/")


def _rows(page) -> list[str]:
    return page.locator("table.markets tbody th a").all_inner_texts()


def test_market_table_filters_and_pages(new_page, shots):
    page = new_page("desktop", user="admin")
    page.goto("/adoption/")
    first = _rows(page)
    assert len(first) == 20  # one page of the ~55 demo markets
    count = page.locator("#markets-count").inner_text()
    total = int(re.search(r"(\d+) chợ phù hợp", count).group(1))
    assert total > 20 and "trang 1 /" in count

    page.get_by_role("link", name=re.compile("Sau")).click()
    second = _rows(page)
    assert second and not set(second) & set(first)

    # Markets not started yet: the planned ones of the former Bắc Kạn among them.
    page.goto("/adoption/")
    page.select_option("select[name=stage]", "not_started")
    page.get_by_role("button", name="Lọc").click()
    not_started = _rows(page)
    assert "Chợ Bằng Lũng" in not_started  # planned, of the former Bắc Kạn
    assert page.locator("table.markets tbody .badge").first.inner_text() == "Chưa bắt đầu"
    shots(page, "not-started")

    # One ward: Phan Đình Phùng holds Chợ Thái and Chợ Minh Cầu.
    page.goto("/adoption/")
    option = page.locator("select[name=unit] option", has_text="Phường Phan Đình Phùng")
    page.select_option("select[name=unit]", option.get_attribute("value"))
    page.get_by_role("button", name="Lọc").click()
    assert {"Chợ Thái", "Chợ Minh Cầu"} <= set(_rows(page))
    assert "Chợ Bằng Lũng" not in _rows(page)

    # A criterion missed, combined with the stage.
    page.select_option("select[name=missing]", "ecommerce_listed")
    page.get_by_role("button", name="Lọc").click()
    assert "missing=ecommerce_listed" in page.url and "unit=" in page.url
    page.get_by_role("link", name="Bỏ lọc").click()
    assert len(_rows(page)) == 20
    assert page.problems == []


def test_targets_say_where_they_stand(new_page, shots):
    page = new_page("desktop", user="admin")
    page.goto("/adoption/")
    targets = page.locator("ul.targets > li").all_inner_texts()
    text = "\n".join(targets)
    # The 2022 plan's deadline has passed: it says so, with today's count.
    assert "60 chợ — Kế hoạch 156/KH-UBND năm 2022" in text
    assert re.search(r"(Chưa đạt đến 31/12/2025; hiện có \d+ / 60 chợ\.|Đạt ngày)", text)

    # The province adds a target on its screen; the dashboard shows it, then it is removed.
    page.get_by_role("link", name="Quản lý mục tiêu").click()
    page.fill("input[name=markets]", "1")
    page.fill("input[name=deadline]", "2099-12-31")
    page.fill("input[name=title]", "Mục tiêu thử trên trình duyệt")
    page.get_by_role("button", name="Lưu").click()
    assert "Đã thêm mục tiêu" in page.content()
    page.goto("/adoption/")
    added = page.locator("ul.targets > li", has_text="Mục tiêu thử trên trình duyệt")
    assert re.search(r"Đạt ngày \d\d/\d\d/\d{4} \(hạn 31/12/2099\)", added.inner_text())
    shots(page, "targets")
    page.goto("/adoption/targets")
    page.locator("li", has_text="Mục tiêu thử trên trình duyệt").get_by_role(
        "button", name="Xóa"
    ).click()
    assert "Đã xóa mục tiêu" in page.content()
    assert page.problems == []
