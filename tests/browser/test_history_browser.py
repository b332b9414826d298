"""A merchant on a 360 px phone opens a past day from their home, reads its close, and
downloads the month's statement PDF (read back with pypdfium2)."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from datetime import datetime, timedelta

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import expect

from market.payments.signatures import sign_sepay
from tests.browser.test_browser_payments import VN, _login, _sepay_secret

pytestmark = pytest.mark.browser


def _notify_at(base: str, secret: str, event_id: int, *, account: str, amount: int, at: datetime):
    """A signed SePay notification of a transfer made at ``at`` (Vietnam time)."""
    body = json.dumps(
        {
            "id": event_id,
            "gateway": "Vietcombank",
            "transactionDate": at.strftime("%Y-%m-%d %H:%M:%S"),
            "accountNumber": account,
            "code": None,
            "content": "tien rau hom qua",
            "transferType": "in",
            "transferAmount": amount,
            "accumulated": 1_000_000,
            "subAccount": None,
            "referenceCode": f"FT{event_id}",
            "description": "tien rau hom qua",
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        **sign_sepay(body, secret, timestamp=int(time.time())),
    }
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/api/v1/webhooks/sepay", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=15) as answer:  # noqa: S310 - loopback only
        assert answer.status == 200


def test_a_merchant_opens_a_past_day_and_downloads_the_months_pdf_on_a_phone(
    browser, live_server, artifacts
):
    secret = _sepay_secret(browser, live_server, artifacts)
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        base_url=live_server,
        is_mobile=True,
        has_touch=True,
        accept_downloads=True,
    )
    # Records a print instead of opening the dialog (headless Chromium has no printer).
    context.add_init_script(
        "window.__printed = 0; window.print = () => { window.__printed += 1; };"
    )
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    try:
        _login(page, live_server, "tieuthuong")
        page.goto("/me/")
        account = re.search(r"· (\d{6,19})\b", page.locator("main").inner_text()).group(1)
        yesterday = datetime.now(VN).replace(hour=23, minute=58, second=0) - timedelta(days=1)
        _notify_at(live_server, secret, 930_001, account=account, amount=123_000, at=yesterday)

        page.get_by_role("link", name="Các ngày trước, chốt ngày và bảng kê tháng").click()
        expect(page.locator("h1")).to_contain_text("Tiền đã nhận ngày")
        # One day back with the link, as a thumb would.
        previous = page.locator("#previous-day")
        box = previous.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
        previous.click()
        shown = yesterday.strftime("%d/%m/%Y")
        expect(page.locator("h1")).to_contain_text(shown)
        row = page.locator("#day-payments tr", has_text="FT930001")
        expect(row).to_contain_text("123.000 ₫")
        expect(row).to_contain_text("23:58")
        expect(page.locator("#close-title")).to_contain_text(f"Chốt ngày {shown}")
        print_button = page.get_by_role("button", name="In chốt ngày")
        expect(print_button).to_be_visible()
        print_button.click()
        assert page.evaluate("window.__printed") == 1
        # On paper: the day, its close and its payments; no pickers, links or top bar.
        page.emulate_media(media="print")
        for gone in (".topbar", ".day-nav", ".statements", "#print-day"):
            expect(page.locator(gone)).to_be_hidden()
        expect(page.locator("#day-payments")).to_be_visible()
        expect(page.locator("#by-hour")).to_be_visible()
        page.screenshot(path=artifacts / "history-past-day-print.png", full_page=True)
        page.emulate_media(media="screen")
        # The date picker gives the same day.
        page.goto("/me/history")
        page.fill("#day", yesterday.date().isoformat())
        page.get_by_role("button", name="Xem", exact=True).click()
        expect(page.locator("h1")).to_contain_text(shown)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 360, f"the page is {wide} px wide on a 360 px phone"
        page.screenshot(path=artifacts / "history-past-day-360.png", full_page=True)

        month = yesterday.strftime("%m/%Y")
        link = page.locator(".statements p.actions", has_text=f"Tháng {month}").get_by_role(
            "link", name="Tải PDF"
        )
        with page.expect_download() as download_info:
            link.click()
        download = download_info.value
        assert download.suggested_filename.endswith(f"-{yesterday:%Y-%m}.pdf")
        document = pdfium.PdfDocument(download.path())
        try:
            text = "\n".join(p.get_textpage().get_text_range() for p in document)
        finally:
            document.close()
        assert f"Tháng {month}" in text
        assert "Chợ Đồng Quang" in text
        assert f"{yesterday:%d/%m/%Y} 23:58" in text and "123.000" in text and "FT930001" in text
        assert "Tổng cả tháng" in text
        assert problems == []
    finally:
        context.close()
