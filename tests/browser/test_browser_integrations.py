"""The province admin, on a phone, adds an integration on the admin screen and sees its
health: the last notification and a refusal counted by reason (Debian's Chromium against
gunicorn on the demo data)."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from market.payments.signatures import sign_sepay

pytestmark = pytest.mark.browser

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _post(base: str, name: str, secret: str, event_id: int) -> int:
    body = json.dumps(
        {
            "id": event_id,
            "gateway": "Vietcombank",
            "transactionDate": datetime.now(VN).strftime("%Y-%m-%d %H:%M:%S"),
            "accountNumber": "0999000111222",
            "code": None,
            "content": "tien rau",
            "transferType": "in",
            "transferAmount": 30_000,
            "accumulated": 1_000_000,
            "subAccount": None,
            "referenceCode": f"FT{event_id}",
            "description": "tien rau",
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        **sign_sepay(body, secret, timestamp=int(time.time())),
    }
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/api/v1/webhooks/sepay/{name}", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:  # noqa: S310 - loopback only
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_admin_adds_an_integration_on_a_phone_and_sees_its_health(new_page, live_server, artifacts):
    page = new_page("phone", user="admin")
    name = f"cho-{secrets.token_hex(3)}"  # the demo server is shared: a name of its own
    page.goto("/admin/webhooks")
    page.get_by_role("link", name="Thêm tích hợp").click()
    page.select_option("#provider", "sepay")
    page.fill("#name", name)
    page.get_by_label("Tạo khóa bí mật mới ngẫu nhiên").check()
    page.fill("#accounts", "0999000111222\n0999000333444")
    page.get_by_role("button", name="Lưu").click()
    secret = page.locator("code.secret").inner_text().strip()
    assert len(secret) >= 16
    page.screenshot(path=artifacts / "integration-created-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 361

    # One notification signed with it, one with a wrong secret.
    event = int(time.time() * 1000) % 1_000_000_000
    assert _post(live_server, name, secret, event) == 200
    assert _post(live_server, name, "not-the-secret-0123456789", event + 1) == 401

    page.goto("/admin/webhooks")
    card = page.locator(f"section.integration[data-label='sepay/{name}']")
    expect(card).to_be_visible()
    expect(card.locator(".last-received")).not_to_have_text("chưa nhận")
    expect(card.locator("tr[data-reason=bad_signature] td.num")).to_have_text("1")
    expect(card).to_contain_text("0999000111222, 0999000333444")
    expect(card).not_to_contain_text(secret)
    card.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "integration-health-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 361
    assert page.problems == []
