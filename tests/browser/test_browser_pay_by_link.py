"""A shopper pays from the phone that shows the pay page (they cannot scan their own screen),
in a real browser at 360 px: copy buttons (clipboard allowed, refused, absent), the saved QR
card (the downloaded PNG decodes to the page's payload with the amount), bank app deeplinks
(right fields, searchable), axe-core, and the same page with JavaScript off. Then the merchant
shares an order's link from the collect screen."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect

from market.vietqr import bank_apps, parse_payload
from tests.browser.conftest import VIEWPORTS
from tests.browser.test_browser_a11y import BLOCKING, _describe
from tests.browser.test_browser_payments import _decode_img, _login, _new_order

pytestmark = pytest.mark.browser

PAY = "/pay/TN-DONGQUANG/A-006"
PHONE = VIEWPORTS["phone"]
# A phone whose browser refuses the clipboard (permission denied, an old WebView).
REFUSING_CLIPBOARD = """
Object.defineProperty(navigator, "clipboard", { value: { writeText: function () {
  return Promise.reject(new DOMException("Write permission denied.", "NotAllowedError"));
} } });
"""
NO_CLIPBOARD = 'Object.defineProperty(navigator, "clipboard", { value: undefined });'


def _phone(
    browser, live_server, *, javascript=True, init_script=None, clipboard=False, bypass_csp=False
):
    context = browser.new_context(
        base_url=live_server,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
        accept_downloads=True,
        java_script_enabled=javascript,
        bypass_csp=bypass_csp,  # only where axe-core is injected
    )
    if clipboard:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    return context, page


def _fields(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_copy_buttons_copy_and_say_what_they_copied(browser, live_server, artifacts):
    context, page = _phone(browser, live_server, clipboard=True)
    try:
        page.goto(PAY)
        account = page.locator("#copy-account").inner_text().strip()
        assert account.isdigit()
        button = page.locator("#copy-account-row button")
        expect(button).to_be_visible()
        button.click()
        expect(page.locator("#copy-account-status")).to_have_text(
            f"Đã sao chép số tài khoản: {account}"
        )
        assert page.evaluate("navigator.clipboard.readText()") == account
        # Typed, not sent: the amount row appears and copies whole dong, no separators.
        expect(page.locator("#copy-amount-row")).to_be_hidden()
        page.fill("#amount", "25.000")
        expect(page.locator("#copy-amount")).to_have_text("25000")
        page.locator("#copy-amount-row button").click()
        expect(page.locator("#copy-amount-status")).to_have_text("Đã sao chép số tiền: 25000")
        expect(page.locator("#copy-account-status")).to_have_text("")  # one message at a time
        assert page.evaluate("navigator.clipboard.readText()") == "25000"
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
        _fits_the_phone(page)
        page.screenshot(path=artifacts / "pay-by-link-1-copied.png", full_page=True)
        assert page.problems == []
    finally:
        context.close()


@pytest.mark.parametrize("script", [REFUSING_CLIPBOARD, NO_CLIPBOARD], ids=["refused", "absent"])
def test_a_refused_clipboard_leaves_the_text_selected(browser, live_server, artifacts, script):
    context, page = _phone(browser, live_server, init_script=script)
    try:
        page.goto(PAY + "?amount=25000&ref=A006+K7Q3")
        page.locator("#copy-content-row button").click()
        expect(page.locator("#copy-content-status")).to_contain_text("Không tự sao chép được")
        assert page.evaluate("window.getSelection().toString()") == "A006 K7Q3"
        page.screenshot(path=artifacts / f"pay-by-link-2-refused-{len(script)}.png")
        assert page.problems == []
    finally:
        context.close()


def test_saved_card_decodes_to_the_pages_payload_with_the_amount(browser, live_server, artifacts):
    context, page = _phone(browser, live_server)
    try:
        page.goto(PAY)
        page.fill("#amount", "25000")  # pay.js moves the QR and the card to the amount
        expect(page.locator("#pay-qr")).to_have_attribute("src", re.compile("amount=25000"))
        shown = _decode_img(page, "#pay-qr")
        with page.expect_download() as info:
            page.get_by_role("link", name="Lưu ảnh mã QR").click()
        download = info.value
        assert download.suggested_filename == "QR-sap-A-006-25000d.png"
        path = artifacts / download.suggested_filename
        download.save_as(path)
        [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(path.read_bytes())))
        assert found.text == shown
        assert parse_payload(found.text).amount == 25_000
    finally:
        context.close()


def test_bank_app_links_carry_the_fields_and_the_list_is_searchable(
    browser, live_server, artifacts
):
    context, page = _phone(browser, live_server)
    try:
        page.goto(PAY + "?amount=30.000&ref=A006+K7Q3")
        qr = parse_payload(_decode_img(page, "#pay-qr"))
        page.get_by_text("Mở ứng dụng ngân hàng").click()
        links = page.locator("#app-list a")
        expect(links).to_have_count(len(bank_apps()))
        ids = links.evaluate_all("els => els.map(a => a.dataset.app)")
        assert ids == [app.app_id for app in bank_apps()]  # most installed first
        mb = _fields(links.first.get_attribute("href"))
        assert mb["app"] == "mb"
        assert mb["ba"] == f"{qr.account}@{qr.bank.code.lower()}"
        assert (mb["am"], mb["tn"]) == ("30000", "A006 K7Q3")
        # Searching without tone marks, by app or by bank name.
        page.fill("#app-filter", "vietin")
        expect(page.locator("#app-list li:visible")).to_have_count(1)
        expect(page.locator("#app-list li:visible")).to_contain_text("VietinBank iPay")
        expect(page.locator("#app-list li:visible")).to_contain_text("Tự điền")
        page.fill("#app-filter", "nong nghiep")
        expect(page.locator("#app-list li:visible")).to_contain_text("Agribank")
        expect(page.locator("#app-list li:visible")).to_contain_text("Chỉ mở ứng dụng")
        page.fill("#app-filter", "khong co ngan hang nay")
        expect(page.locator("#app-list li:visible")).to_have_count(0)
        expect(page.locator("#app-count")).to_have_text("Không có ứng dụng nào khớp.")
        page.fill("#app-filter", "")
        # A new amount typed: every link follows, keeping "@" and the content.
        page.fill("#amount", "45000")
        expect(page.locator("#pay-qr")).to_have_attribute("src", re.compile("amount=45000"))
        for href in links.evaluate_all("els => els.map(a => a.getAttribute('href'))"):
            fields = _fields(href)
            assert (fields["am"], fields["tn"]) == ("45000", "A006 K7Q3"), href
            assert f"ba={qr.account}@" in href
        _fits_the_phone(page)
        page.screenshot(path=artifacts / "pay-by-link-3-apps.png", full_page=True)
        assert page.problems == []
    finally:
        context.close()


def test_pay_page_works_with_javascript_off(browser, live_server, artifacts):
    context, page = _phone(browser, live_server, javascript=False)
    try:
        page.goto(PAY)
        expect(page.locator("#copy-account")).to_be_visible()
        expect(page.locator("button[data-copy]").first).to_be_hidden()  # no dead buttons
        assert page.locator("#copy-account").evaluate("e => getComputedStyle(e).userSelect") in (
            "all",
            "text",
        )
        page.fill("#amount", "25.000")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r"amount=25\.000"))
        expect(page.locator("#copy-amount")).to_have_text("25000")
        page.get_by_text("Mở ứng dụng ngân hàng").click()  # <details>: no script needed
        expect(page.locator("#app-filter")).to_be_hidden()  # search needs JavaScript
        first = page.locator("#app-list a").first
        expect(first).to_be_visible()
        assert _fields(first.get_attribute("href"))["am"] == "25000"
        with page.expect_download() as info:
            page.get_by_role("link", name="Lưu ảnh mã QR").click()
        data = Path(info.value.path()).read_bytes()
        [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
        assert parse_payload(found.text).amount == 25_000
        _fits_the_phone(page)
        page.screenshot(path=artifacts / "pay-by-link-4-no-js.png", full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_pay_page_has_no_serious_accessibility_violations(new_page, artifacts, viewport):
    page = new_page(viewport, bypass_csp=True)
    page.goto(PAY + "?amount=25000&ref=A006+K7Q3")
    page.get_by_text("Mở ứng dụng ngân hàng").click()
    violations = Axe().run(page).response["violations"]
    (artifacts / f"pay-by-link-axe-{viewport}.json").write_text(
        json.dumps(violations, ensure_ascii=False, indent=1)
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, _describe(violations)


def test_pay_page_keeps_its_csp(new_page):
    page = new_page("phone")
    page.goto(PAY + "?amount=25000")
    page.get_by_text("Mở ứng dụng ngân hàng").click()
    page.fill("#app-filter", "mb")
    assert page.evaluate("window.__cspViolations") == []
    assert page.problems == []


def test_merchant_shares_the_orders_link_and_the_shopper_pays_from_it(
    browser, live_server, artifacts
):
    context, page = _phone(browser, live_server, clipboard=True, bypass_csp=True)
    try:
        _login(page, live_server, "tieuthuong")
        reference, payload = _new_order(page, "120000")
        page.get_by_text("Khách trả bằng đường link").click()
        page.locator("#share-link-row button").click()
        expect(page.locator("#share-link-status")).to_contain_text("Đã sao chép đường link")
        link = page.evaluate("navigator.clipboard.readText()")
        assert link == page.locator("#share-link").inner_text().strip()
        assert parse_qs(urlsplit(link).query) == {"amount": ["120000"], "ref": [reference]}
        _fits_the_phone(page)
        page.screenshot(path=artifacts / "pay-by-link-5-merchant-share.png", full_page=True)
        violations = Axe().run(page).response["violations"]
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        assert not blocking, _describe(violations)
    finally:
        context.close()
    shopper, page = _phone(browser, live_server)
    try:
        page.goto(link)
        expect(page.locator("#copy-content")).to_have_text(reference)
        qr = parse_payload(_decode_img(page, "#pay-qr"))
        assert (qr.account, qr.amount, qr.purpose) == (payload.account, 120_000, reference)
    finally:
        shopper.close()
