"""Journeys of a shopper and a merchant in a real browser (Debian's Chromium).

- A shopper opens a stall's pay page on a phone, types an amount and gets a dynamic QR that
  decodes (zxing-cpp) to the stall's account with that amount.
- A merchant opens collect mode, asks for an amount, and the screen turns green when a signed
  SePay notification for that order reaches the server; a short payment turns it red and is
  never announced as paid. The webhook secret is made the way an admin makes it, on the
  admin screen.
"""

from __future__ import annotations

import io
import json
import re
import time
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect

from market.payments.signatures import sign_sepay
from market.vietqr import parse_payload
from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.test_browser_a11y import BLOCKING, _describe

pytestmark = pytest.mark.browser

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _decode_img(page, selector: str) -> str:
    """Decode the code as the browser draws it (an element screenshot), independently."""
    image = page.locator(selector)
    expect(image).to_be_visible()
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=image.element_handle())
    shot = Image.open(io.BytesIO(image.screenshot()))
    texts = [r.text for r in zxingcpp.read_barcodes(shot)]
    assert len(texts) == 1, texts
    return texts[0]


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def test_shopper_gets_a_dynamic_qr_for_the_amount_on_a_phone(browser, live_server, artifacts):
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    page = context.new_page()
    try:
        page.goto("/pay/TN-DONGQUANG/A-006")
        expect(page.locator("h1, .pay-stall").first).to_be_visible()
        static = parse_payload(_decode_img(page, "main img"))
        assert static.initiation == "11" and static.amount is None
        page.screenshot(path=artifacts / "shopper-1-static.png", full_page=True)
        page.fill("input[name=amount]", "25.000")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        expect(page.locator("main")).to_contain_text("25.000")
        dynamic = parse_payload(_decode_img(page, "main img"))
        page.screenshot(path=artifacts / "shopper-2-dynamic.png", full_page=True)
        assert dynamic.initiation == "12" and dynamic.amount == 25_000
        assert (dynamic.bank_bin, dynamic.account) == (static.bank_bin, static.account)
        # Nothing sideways on a 360 px phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 361
    finally:
        context.close()


def _sepay_secret(browser, base: str, artifacts) -> str:
    context = browser.new_context(base_url=base)
    page = context.new_page()
    try:
        _login(page, base, "admin")
        page.goto("/admin/webhooks")
        main = page.locator("section.integration[data-label='sepay']")
        if main.count():  # SePay's main integration: edit it
            main.locator("a[href$='/edit']").click()
        else:
            page.goto("/admin/webhooks/new")
            page.select_option("#provider", "sepay")
        form = page.locator("form.integration-form")
        form.locator("input[value=hmac]").check()
        form.locator("input[name=generate]").check()
        form.locator("input[name=enabled]").check()
        form.locator("button[type=submit]").click()
        secret = page.locator("code.secret").inner_text().strip()
        page.screenshot(path=artifacts / "admin-webhook-secret.png", full_page=True)
        assert len(secret) >= 16
        return secret
    finally:
        context.close()


def _notify(base: str, secret: str, event_id: int, *, account: str, amount: int, content: str):
    body = json.dumps(
        {
            "id": event_id,
            "gateway": "Vietcombank",
            "transactionDate": datetime.now(VN).strftime("%Y-%m-%d %H:%M:%S"),
            "accountNumber": account,
            "code": None,
            "content": content,
            "transferType": "in",
            "transferAmount": amount,
            "accumulated": 1_000_000,
            "subAccount": None,
            "referenceCode": f"FT{event_id}",
            "description": content,
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


def _new_order(page, amount: str) -> tuple[str, object]:
    page.goto("/me/")
    page.get_by_role("link", name="Thu tiền (nhập số tiền)").first.click()
    page.fill("#amount", amount)
    page.locator("#collect-form button[type=submit]").click()
    expect(page.locator("#order")).to_be_visible()
    reference = page.locator("#order-ref").inner_text().strip()
    payload = parse_payload(_decode_img(page, "#order-qr"))
    # The order panel has its own "today's payments" link; the page's own one steps aside.
    expect(page.get_by_role("link", name="Tiền đã nhận hôm nay")).to_have_count(1)
    return reference, payload


def _expect_paid_and_ready_for_the_next_sale(page) -> None:
    """Paid: no QR left for a second shopper to pay, a big "Đã nhận", one tap to a new sale."""
    expect(page.locator("#order-qr")).to_be_hidden()
    expect(page.locator("#order-done")).to_be_visible()
    expect(page.locator("#order-done")).to_contain_text("Đã nhận")
    new_sale = page.locator("#order-new")
    expect(new_sale).to_be_focused()
    box = new_sale.bounding_box()
    assert box["height"] >= 60 and box["width"] >= 0.8 * page.viewport_size["width"] - 60, box
    expect(page.locator("#sound-on")).to_be_hidden()


def test_shopper_sees_the_typed_amount_in_their_language(browser, live_server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    page = context.new_page()
    try:
        for lang, caption, alt in [
            ("vi", "Quét để chuyển 25.000 đồng", "Mã QR chuyển 25.000 đồng cho sạp A-006"),
            ("en", "Scan to pay 25,000 dong", "QR code to pay 25,000 dong to stall A-006"),
        ]:
            page.goto(f"/lang/{lang}")
            page.goto("/pay/TN-DONGQUANG/A-006")
            page.fill("#amount", "25000")  # typed, not sent: pay.js updates the page
            expect(page.locator("#pay-caption")).to_have_text(caption)
            expect(page.locator("#pay-qr")).to_have_attribute("alt", alt)
            expect(page.locator("#pay-qr")).to_have_attribute("src", re.compile("amount=25000"))
    finally:
        context.close()


def test_merchant_sees_a_confirmed_payment_turn_the_screen_green(browser, live_server, artifacts):
    secret = _sepay_secret(browser, live_server, artifacts)
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    page = context.new_page()
    try:
        _login(page, live_server, "tieuthuong")
        reference, payload = _new_order(page, "200000")
        assert payload.amount == 200_000 and payload.purpose == reference
        page.screenshot(path=artifacts / "merchant-1-waiting.png", full_page=True)
        expect(page.locator("#order")).to_have_class(re.compile("state-pending"))
        # The keypad's taps already turned the sound on: no button left asking for it.
        expect(page.locator("#sound-on")).to_be_hidden()
        expect(page.locator("#order-done")).to_be_hidden()
        # The bank (through SePay) tells us the money arrived; bank apps mangle the content.
        _notify(
            live_server,
            secret,
            910001,
            account=payload.account,
            amount=200_000,
            content=f"MBVCB.123 {reference.lower()} chuyen tien",
        )
        expect(page.locator("#order")).to_have_class(re.compile("state-paid"), timeout=20_000)
        expect(page.locator("#order-message")).to_contain_text("Đã nhận đủ 200.000 đồng")
        _expect_paid_and_ready_for_the_next_sale(page)
        page.screenshot(path=artifacts / "merchant-2-paid-green.png", full_page=True)

        # A short payment (200 đ instead of 200.000 đ) is red and never "paid"; the QR now
        # asks for what is missing, under the same reference.
        reference, payload = _new_order(page, "200000")
        _notify(live_server, secret, 910002, account=payload.account, amount=200, content=reference)
        expect(page.locator("#order")).to_have_class(re.compile("state-short"), timeout=20_000)
        expect(page.locator("#order-message")).to_contain_text("CHƯA ĐỦ")
        expect(page.locator("#order-message")).not_to_contain_text("Đã nhận đủ")
        expect(page.locator("#order-done")).to_be_hidden()
        expect(page.locator("#order-amount")).to_have_text("199.800")
        expect(page.locator("#order-shown-label")).to_contain_text("Còn thiếu")
        page.wait_for_function(
            "el => el.getAttribute('src').includes('amount=199800')",
            arg=page.locator("#order-qr").element_handle(),
        )
        rest = parse_payload(_decode_img(page, "#order-qr"))
        assert (rest.amount, rest.purpose, rest.account) == (199_800, reference, payload.account)
        page.screenshot(path=artifacts / "merchant-3-short-red.png", full_page=True)
        # The shopper pays the rest with that QR: green, and the QR goes away.
        _notify(
            live_server, secret, 910003, account=rest.account, amount=199_800, content=reference
        )
        expect(page.locator("#order")).to_have_class(re.compile("state-paid"), timeout=20_000)
        _expect_paid_and_ready_for_the_next_sale(page)
        page.screenshot(path=artifacts / "merchant-4-rest-paid.png", full_page=True)
    finally:
        context.close()


# Records what collect.js says instead of saying it (headless Chromium has no voices).
FAKE_SPEECH = """
window.__said = [];
Object.defineProperty(window, "speechSynthesis", { value: {
  speak: (u) => { if (u.text.trim()) { window.__said.push([u.text, u.lang]); } },
  cancel: () => {}, getVoices: () => [],
} });
"""


def test_merchant_hears_the_payment_in_the_language_of_the_screen(browser, live_server, artifacts):
    secret = _sepay_secret(browser, live_server, artifacts)
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    context.add_init_script(FAKE_SPEECH)
    page = context.new_page()
    try:
        _login(page, live_server, "tieuthuong")
        for lang, event_id, said in [
            ("en", 910011, ["Received 5,000 dong", "en-US"]),
            ("vi", 910012, ["Đã nhận 5.000 đồng", "vi-VN"]),
        ]:
            page.goto(f"/lang/{lang}")
            page.goto("/me/")
            page.locator("main a[href^='/collect/']:not([href$='/today'])").first.click()
            page.locator("#keypad [data-key='5']").click()
            page.locator("#keypad [data-key='000']").click()
            page.locator("#collect-form button[type=submit]").click()
            expect(page.locator("#order")).to_be_visible()
            reference = page.locator("#order-ref").inner_text().strip()
            payload = parse_payload(_decode_img(page, "#order-qr"))
            _notify(
                live_server,
                secret,
                event_id,
                account=payload.account,
                amount=5_000,
                content=reference,
            )
            expect(page.locator("#order")).to_have_class(re.compile("state-paid"), timeout=20_000)
            assert page.evaluate("window.__said") == [said]
    finally:
        page.goto("/lang/vi")  # the choice is saved on the demo merchant: leave it Vietnamese
        context.close()


def test_money_arriving_after_half_an_hour_still_turns_the_screen_green(
    browser, live_server, artifacts
):
    secret = _sepay_secret(browser, live_server, artifacts)
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    page = context.new_page()
    page.clock.install()  # the page's timers and Date follow page.clock from here on
    try:
        _login(page, live_server, "tieuthuong")
        reference, payload = _new_order(page, "30000")
        # The shopper went to find an ATM: 31 minutes without news.
        page.clock.fast_forward("31:00")
        page.clock.run_for(5_000)
        _notify(
            live_server, secret, 910021, account=payload.account, amount=30_000, content=reference
        )
        # The screen still asks, every 15 s by now. Each question is a real request whose
        # answer schedules the next one, so the clock moves in steps while the answers land
        # (a single jump could pass before the answer that schedules the next question).
        order = page.locator("#order")
        for _step in range(12):
            page.clock.run_for(15_000)
            if "state-paid" in (order.get_attribute("class") or ""):
                break
            page.wait_for_timeout(500)
        expect(order).to_have_class(re.compile("state-paid"), timeout=10_000)
        expect(page.locator("#order-message")).to_contain_text("Đã nhận đủ 30.000 đồng")
    finally:
        context.close()


def test_the_collect_screen_asks_at_once_when_it_comes_back_on(browser, live_server, artifacts):
    # A phone slows the timers of a screen that is off; when the merchant looks again, the
    # screen must ask for news at once, not at the next (slow) poll.
    secret = _sepay_secret(browser, live_server, artifacts)
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    page = context.new_page()
    page.clock.install()
    asking = set()  # the page's questions on their way (fetches not yet answered)
    page.on("request", lambda r: asking.add(r) if r.resource_type in ("fetch", "xhr") else None)
    page.on("requestfinished", lambda r: asking.discard(r))
    page.on("requestfailed", lambda r: asking.discard(r))
    try:
        _login(page, live_server, "tieuthuong")
        reference, payload = _new_order(page, "20000")
        page.clock.fast_forward("31:00")  # polling every 15 s by now
        page.clock.run_for(5_000)
        # Stop the page's time: no timer fires from here on, as on a phone with the screen off.
        now = page.evaluate("Date.now()")
        page.clock.pause_at(datetime.fromtimestamp((now + 2_000) / 1000, tz=ZoneInfo("UTC")))
        # A question already on its way comes back first (however slow the server is today).
        for _wait in range(200):
            if not asking:
                break
            page.wait_for_timeout(50)
        assert not asking, "a question never came back"
        _notify(
            live_server, secret, 910041, account=payload.account, amount=20_000, content=reference
        )
        order = page.locator("#order")
        page.wait_for_timeout(3_000)
        assert "state-paid" not in (order.get_attribute("class") or ""), "it asked by itself"
        # The screen comes back on (the page is visible again).
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        expect(order).to_have_class(re.compile("state-paid"), timeout=10_000)
        expect(page.locator("#order-message")).to_contain_text("Đã nhận đủ 20.000 đồng")
    finally:
        context.close()


def test_back_after_an_order_brings_the_keypad_back(browser, live_server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    page = context.new_page()
    try:
        _login(page, live_server, "tieuthuong")
        _new_order(page, "12000")
        expect(page).to_have_url(re.compile(r"/collect/orders/\d+$"))
        page.go_back()  # the phone's Back button
        expect(page).to_have_url(re.compile(r"/collect/[^/]+/[^/]+$"))
        expect(page.locator("#collect-form")).to_be_visible()
        expect(page.locator("#order")).to_be_hidden()
        expect(page.locator("#amount")).to_have_value("")
        page.go_forward()
        expect(page.locator("#order")).to_be_visible()
        expect(page.locator("#order-shown-label")).to_contain_text("Số tiền khách cần chuyển")
    finally:
        context.close()


def test_collect_screen_short_and_paid_states_pass_axe(browser, live_server, artifacts):
    """The states a merchant sees after money arrives (red short, green paid) are screens of
    their own, drawn by collect.js: axe-core checks each, at phone size."""
    secret = _sepay_secret(browser, live_server, artifacts)
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, base_url=live_server, bypass_csp=True
    )
    page = context.new_page()
    axe = Axe()
    try:
        _login(page, live_server, "tieuthuong")
        reference, payload = _new_order(page, "200000")
        _notify(live_server, secret, 910031, account=payload.account, amount=200, content=reference)
        expect(page.locator("#order")).to_have_class(re.compile("state-short"), timeout=20_000)
        for state, event_id, amount in (("short", None, 0), ("paid", 910032, 199_800)):
            if event_id is not None:
                _notify(
                    live_server,
                    secret,
                    event_id,
                    account=payload.account,
                    amount=amount,
                    content=reference,
                )
                expect(page.locator("#order")).to_have_class(
                    re.compile(f"state-{state}"), timeout=20_000
                )
            violations = axe.run(page).response["violations"]
            blocking = [v for v in violations if v["impact"] in BLOCKING]
            assert not blocking, f"axe-core on the {state} collect screen:\n{_describe(violations)}"
    finally:
        context.close()
