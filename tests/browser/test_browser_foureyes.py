"""The pending payee changes page in a real browser: the select-all button (static JS, under
the app's CSP) ticks only the rows the user may verify, and the bulk verify reports them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# quanly is Chợ Thái's only manager and entered its accounts: the province verifies them.
PENDING = "/markets/pending-payees?market=TN-CHOTHAI"


def test_quanly_may_not_verify_their_own_changes_and_the_province_verifies_them(new_page, shots):
    page = new_page("phone", user="quanly")
    page.goto(PENDING)
    rows = page.locator(".pending-payees > li")
    expect(rows.first).to_be_visible()
    expect(rows.first).to_contain_text("Bạn đã tạo tài khoản này")
    expect(rows.first).to_contain_text("cán bộ tỉnh xác minh")
    expect(page.locator("input[name=payee]")).to_have_count(0)
    shots(page, "own-changes")
    assert page.problems == []

    page = new_page("phone", user="admin")
    page.goto(PENDING)
    boxes = page.locator("input[name=payee]")
    count = boxes.count()
    assert count >= 2
    page.get_by_role("button", name="Chọn tất cả tài khoản tôi xác minh được").click()
    for index in range(count):
        expect(boxes.nth(index)).to_be_checked()
    page.get_by_role("button", name="Chọn tất cả tài khoản tôi xác minh được").click()
    expect(boxes.first).not_to_be_checked()
    boxes.first.check()
    page.get_by_role("button", name="Xác minh các tài khoản đã chọn").click()
    expect(page.get_by_text("Đã xác minh 1 tài khoản")).to_be_visible()
    expect(page.locator("input[name=payee]")).to_have_count(count - 1)
    shots(page, "verified")
    assert page.problems == []
