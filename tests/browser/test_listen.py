"""The listening screen on a phone (360 px, real Chromium against the live server): two
sticker payments and one collect payment, sent as signed SePay webhooks, are announced in
order and each exactly once, across a network drop and a reload (a restart of the page).

Headless Chromium has no voices: ``speechSynthesis`` is replaced by a recorder (FAKE_SPEECH),
and the page itself lists what it said (``#said-log``).
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from market.vietqr import parse_payload
from tests.browser.test_browser_a11y import BLOCKING, _describe
from tests.browser.test_browser_payments import (
    FAKE_SPEECH,
    _decode_img,
    _notify,
    _sepay_secret,
)

pytestmark = pytest.mark.browser


def _said(page) -> list[str]:
    return [text for text, _lang in page.evaluate("window.__said")]


def _logged(page) -> list[str]:
    return page.locator("#said-log li").all_text_contents()


def _order(page) -> tuple[str, str]:
    """A collect order of 30.000 đ made on the merchant's collect screen: (reference, account)."""
    page.goto("/me/")
    page.get_by_role("link", name="Thu tiền (nhập số tiền)").first.click()
    page.fill("#amount", "30000")
    page.locator("#collect-form button[type=submit]").click()
    expect(page.locator("#order")).to_be_visible()
    payload = parse_payload(_decode_img(page, "#order-qr"))
    return page.locator("#order-ref").inner_text().strip(), payload.account


def test_listening_phone_announces_each_payment_once_across_a_network_drop(
    browser, live_server, artifacts, new_page, shots
):
    secret = _sepay_secret(browser, live_server, artifacts)
    till = new_page("phone", user="tieuthuong")  # the merchant's collect screen, elsewhere
    reference, account = _order(till)

    page = new_page("phone", user="tieuthuong")
    page.context.add_init_script(FAKE_SPEECH)
    page.goto("/me/")
    page.locator("#listen-link").click()
    expect(page).to_have_url(re.compile(r"/me/listen$"))
    sound = page.locator("#sound-on")
    box = sound.bounding_box()
    assert box["height"] >= 88 and box["width"] >= 300, box  # big and obvious
    sound.tap()
    expect(sound).to_be_hidden()
    status = page.locator("#listen-status")
    expect(status).to_have_class(re.compile("live"))
    # Kept awake where this browser grants a screen wake lock at all.
    granted = page.evaluate(
        "navigator.wakeLock ? navigator.wakeLock.request('screen')"
        ".then(l => l.release().then(() => true), () => false) : false"
    )
    if granted:
        expect(page.locator("#awake")).to_be_visible()
    shots(page, "listening")

    # This file's SePay ids (9400xx): the live server is shared, and other files have theirs.
    _notify(live_server, secret, 940001, account=account, amount=12_000, content="mua rau")
    expect(page.locator("#said-log li")).to_have_count(1)

    page.context.set_offline(True)
    expect(status).to_have_class(re.compile("offline"))
    _notify(live_server, secret, 940002, account=account, amount=45_000, content="ca chep")
    _notify(live_server, secret, 940003, account=account, amount=30_000, content=reference)
    shots(page, "offline")
    page.context.set_offline(False)

    expected = ["Đã nhận 12.000 đồng", "Đã nhận 45.000 đồng", "Đã nhận 30.000 đồng"]
    expect(page.locator("#said-log li")).to_have_count(3)
    expect(status).to_have_class(re.compile("live"))
    assert _logged(page) == expected
    assert _said(page) == expected
    newest = page.locator("#heard li").first
    expect(newest).to_contain_text("30.000")
    expect(newest).to_contain_text(reference)  # the collect order, by its reference
    assert page.evaluate("document.documentElement.scrollWidth") <= 361
    shots(page, "heard")

    # A reload (a restart of the screen, the phone's browser killed): it resumes from what
    # it announced, and says none of it again.
    page.reload()
    page.locator("#sound-on").tap()
    expect(status).to_have_class(re.compile("live"))
    # One more payment proves it is listening again, and is the only thing said.
    _notify(live_server, secret, 940004, account=account, amount=8_000, content="hanh")
    expect(page.locator("#said-log li")).to_have_count(1)
    assert _logged(page) == ["Đã nhận 8.000 đồng"]
    assert _said(page) == ["Đã nhận 8.000 đồng"]
    assert page.evaluate("window.__cspViolations") == []


def test_listening_screen_installs_its_service_worker_and_opens_offline(new_page):
    page = new_page("phone", user="tieuthuong")
    page.goto("/me/listen")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope.endswith("/me/listen")
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["start_url"] == "/me/listen"
    # Controlled once reloaded; then the shell opens without a network.
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.reload()  # the page itself is kept on a navigation under control
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#sound-on")).to_be_visible()
    expect(page.locator("#listen-status")).to_have_class(re.compile("offline"))
    page.context.set_offline(False)
    expect(page.locator("#listen-status")).to_have_class(re.compile("live"))


def test_listening_screen_passes_axe_on_a_phone(new_page):
    # axe-core is injected as a script: only this context bypasses the CSP (the tests above
    # run under it and check it).
    page = new_page("phone", user="tieuthuong", bypass_csp=True)
    page.goto("/me/listen")
    expect(page.locator("#sound-on")).to_be_visible()
    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, _describe(violations)
    # Tap targets: the sound button, and every link or button on the page, at least 44 px.
    for target in page.locator("main a, main button, main summary").all():
        if target.is_visible():
            box = target.bounding_box()
            assert box["height"] >= 44, (target.inner_text(), box)
