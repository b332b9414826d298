"""Two hosts behind one (imagined) load balancer behave as one: a client alternating between
them keeps its login, meets one shared login limit, has a webhook stored once however many
hosts it is replayed to, and sees a change made on one host on the other at once."""

from __future__ import annotations

import json
import re
import time
from itertools import cycle

import pytest
from sqlalchemy import text

from tests.liveserver import Browser
from tests.scaleout.conftest import LOGIN_LIMIT, SECRET_CACHE_SECONDS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SEPAY_KEY = "scale-out-sepay-api-key-0123456789"


def test_a_login_on_one_host_holds_on_the_other_until_logout(cluster):
    a, b = cluster.hosts
    browser = Browser(forwarded_for="198.51.100.10")
    form = browser.get(a, "/login")
    # The form came from A; its CSRF token (signed with the shared key) is good on B.
    answer = browser.post(
        b,
        "/login",
        form={"csrf_token": form.csrf_token(), "username": "quanly", "password": "cho40-demo"},
    )
    assert answer.status == 302, answer.status
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    for host in (a, b, a, b):
        page = browser.get(host, "/markets/TN-DONGQUANG")
        assert page.status == 200 and "Chợ Đồng Quang" in page.text
    page = browser.get(a, "/markets/")
    assert browser.post(b, "/logout", form={"csrf_token": page.csrf_token()}).status == 302
    for host in (a, b):
        gone = browser.get(host, "/markets/")
        assert gone.status == 302 and "/login" in gone.headers["Location"]


def test_the_login_limit_counts_attempts_on_both_hosts_together(cluster):
    browser = Browser(forwarded_for="198.51.100.20")
    hosts = cycle(cluster.hosts)
    codes = [browser.login(next(hosts), "quanly2", "wrong").status for _ in range(LOGIN_LIMIT + 2)]
    assert codes == [401] * LOGIN_LIMIT + [429, 429]
    # Limited on both hosts, even with the right password...
    for host in cluster.hosts:
        assert browser.login(host, "quanly2").status == 429
    # ...and that account is slowed wherever its next attempt comes from (failures per
    # account count on both hosts together too)...
    elsewhere = Browser(forwarded_for="198.51.100.22")
    assert elsewhere.login(cluster.b.base, "quanly2").status == 429
    # ...but nobody else is: another user behind the same balancer logs in.
    other = Browser(forwarded_for="198.51.100.21")
    assert other.login(cluster.b.base, "quanly").status == 302


def _sepay(event_id: int, account: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "gateway": "Vietcombank",
            "transactionDate": "2026-03-02 08:15:00",
            "accountNumber": account,
            "code": None,
            "content": "mua rau",
            "transferType": "in",
            "transferAmount": 35_000,
            "accumulated": 0,
            "subAccount": None,
            "referenceCode": f"FT{event_id}",
            "description": "BankAPINotify mua rau",
        }
    ).encode()


def test_a_webhook_replayed_to_the_other_host_is_stored_once(cluster):
    a, b = cluster.hosts
    admin = Browser(forwarded_for="198.51.100.30")
    assert admin.login(a, "admin").status == 302
    # The province sets SePay's API key on host A; host B checks webhooks with it once what
    # its workers read before (another test may have rotated the key) has expired.
    saved = admin.submit(
        a,
        "/admin/webhooks/sepay",
        {"sepay-auth_mode": "apikey", "sepay-secret": SEPAY_KEY, "sepay-enabled": "y"},
        page="/admin/webhooks",
        page_on=b,
    )
    assert saved.status == 200, saved.status
    time.sleep(SECRET_CACHE_SECONDS + 0.5)
    _code, account, stall_id = cluster.verified_stall("TN-CHOTHAI", 7)
    sender = Browser()
    headers = {"Authorization": f"Apikey {SEPAY_KEY}", "Content-Type": "application/json"}
    answers = [
        sender.post(host, "/api/v1/webhooks/sepay", body=_sepay(770_001, account), headers=headers)
        for host in (a, b, a)
    ]
    assert [x.status for x in answers] == [200, 200, 200]
    assert [x.json()["duplicate"] for x in answers] == [False, True, True]
    wrong = {**headers, "Authorization": "Apikey not-the-key"}
    refused = sender.post(b, "/api/v1/webhooks/sepay", body=_sepay(770_002, account), headers=wrong)
    assert refused.status == 401
    engine = cluster.engine()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT event_id, stall_id, match_status FROM payment_notifications "
                "WHERE provider = 'sepay' AND event_id IN ('770001', '770002')"
            )
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("770001", stall_id, "matched")]


def test_a_new_webhook_secret_reaches_every_host_within_the_cache_ttl(cluster):
    """Workers keep an integration's secret for MARKET_INTEGRATION_CACHE_SECONDS (one database
    round trip less per webhook): a rotation on B reaches A's workers within that, never later."""
    a, b = cluster.hosts
    _code, account, _id = cluster.verified_stall("TN-CHOTHAI", 9)
    sender = Browser()

    def post(host: str, event_id: int, key: str) -> int:
        headers = {"Authorization": f"Apikey {key}", "Content-Type": "application/json"}
        body = _sepay(event_id, account)
        return sender.post(host, "/api/v1/webhooks/sepay", body=body, headers=headers).status

    admin = Browser(forwarded_for="198.51.100.31")
    assert admin.login(b, "admin").status == 302
    first = {"sepay-auth_mode": "apikey", "sepay-secret": SEPAY_KEY, "sepay-enabled": "y"}
    assert admin.submit(b, "/admin/webhooks/sepay", first, page="/admin/webhooks").status == 200
    time.sleep(SECRET_CACHE_SECONDS + 0.5)  # whatever any worker read before this test is gone
    assert [post(host, 771_000 + i, SEPAY_KEY) for i, host in enumerate((a, a, a, a))] == [200] * 4

    rotated = SEPAY_KEY + "-rotated"
    changed = {**first, "sepay-secret": rotated}
    assert admin.submit(b, "/admin/webhooks/sepay", changed, page="/admin/webhooks").status == 200
    started = time.monotonic()
    event_id = 771_100
    while post(a, event_id, rotated) != 200:  # A's workers may still hold the old key...
        waited = time.monotonic() - started
        assert waited < SECRET_CACHE_SECONDS + 2, "the new key never reached A"
        event_id += 1
        time.sleep(0.2)
    time.sleep(SECRET_CACHE_SECONDS + 0.5)
    # ...but not for longer: now the old key is refused by every worker of both hosts.
    assert [post(host, 771_200 + i, SEPAY_KEY) for i, host in enumerate((a, b) * 3)] == [401] * 6


def test_a_payee_change_on_one_host_shows_on_the_other_at_once(cluster):
    a, b = cluster.hosts
    stall_code, old_account, _id = cluster.verified_stall("TN-DONGQUANG", 7)
    pay = f"/pay/TN-DONGQUANG/{stall_code}"
    qr = f"/stalls/TN-DONGQUANG/{stall_code}/qr.png"
    shopper = Browser()
    # Both hosts have rendered (and cached) the old code.
    old_tags = {host: shopper.get(host, qr).headers["ETag"] for host in (a, b, a, b)}
    assert len(set(old_tags.values())) == 1
    assert old_account in shopper.get(b, pay).text

    manager = Browser(forwarded_for="198.51.100.40")
    assert manager.login(a, "quanly").status == 302
    new_account = "0451000" + stall_code.replace("-", "")[-6:].rjust(6, "0")
    changed = manager.submit(
        a,
        f"/markets/TN-DONGQUANG/stalls/{stall_code}/payee",
        {
            "bank_bin": "970436",
            "service": "account",
            "account_number": new_account,
            "holder_name": "NGUYEN VAN MOI",
            "action": "save",
        },
    )
    assert changed.status == 302, changed.status
    # Not yet verified: neither host offers a code for it, nor the old one.
    for host in (a, b):
        assert shopper.get(host, pay).status == 409
        assert shopper.get(host, qr).status == 409

    admin = Browser(forwarded_for="198.51.100.41")
    assert admin.login(b, "admin").status == 302
    stall_page = admin.get(b, f"/markets/TN-DONGQUANG/stalls/{stall_code}")
    assert new_account in stall_page.text
    verify = re.search(r'action="([^"]*/payee/\d+/verify)"', stall_page.text)
    assert verify, "no verify form on the stall page"
    verified = admin.post(b, verify.group(1), form={"csrf_token": stall_page.csrf_token()})
    assert verified.status == 302
    for host in (a, b):
        page = shopper.get(host, pay)
        assert page.status == 200 and new_account in page.text and old_account not in page.text
        image = shopper.get(host, qr)
        assert image.status == 200 and image.headers["ETag"] not in old_tags.values()


def test_both_hosts_report_healthy(cluster):
    for host in cluster.hosts:
        answer = Browser().get(host, "/healthz")
        assert answer.status == 200 and answer.json() == {"status": "ok"}
