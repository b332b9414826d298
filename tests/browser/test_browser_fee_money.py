"""Fee payments on a phone: a manager's arrears page fits 360 px with big tap targets and
prints one reminder per page; a merchant opens the receipt of a bill they paid."""

from __future__ import annotations

import pytest

from tests.browser.test_browser_phone_layout import assert_fits_a_phone

pytestmark = pytest.mark.browser

ARREARS = "/markets/TN-DONGQUANG/fees/arrears"


def test_the_arrears_page_fits_a_phone_and_reminders_print_one_per_page(new_page, shots):
    page = new_page("phone", user="quanly")
    page.goto(ARREARS)
    shots(page, "arrears")
    assert_fits_a_phone(page, ARREARS)
    links = page.locator("table.arrears a")
    assert links.count() > 0
    heights = links.evaluate_all("(els) => els.map((a) => a.getBoundingClientRect().height)")
    assert min(heights) >= 44
    stalls = page.locator("table.arrears tbody tr").count()
    page.get_by_role("link", name="In giấy nhắc nợ").click()
    page.wait_for_url("**/arrears/reminders")
    assert page.locator("article.reminder").count() == stalls  # one notice per stall
    page.emulate_media(media="print")
    shots(page, "reminders-print")
    breaks = page.locator("article.reminder").evaluate_all(
        "(els) => els.map((el) => getComputedStyle(el).breakAfter)"
    )
    assert breaks[:-1] == ["page"] * (len(breaks) - 1)
    assert page.locator(".topbar").is_hidden()


def test_a_merchant_opens_the_receipt_of_a_paid_bill(new_page, shots):
    page = new_page("phone", user="tieuthuong")
    page.goto("/me/bills")
    hrefs = page.locator(".bill-link").evaluate_all("(els) => els.map((a) => a.href)")
    receipt = None
    for href in hrefs:
        page.goto(href)
        link = page.get_by_role("link", name="Biên lai")
        if link.count():
            receipt = link.first.get_attribute("href")
            break
    assert receipt, "the demo merchant has a paid bill"
    shots(page, "bill-with-receipt")
    response = page.request.get(receipt)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"
