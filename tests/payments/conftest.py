"""Fixtures for payments: webhook secrets, a collect order, and signed webhook requests."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from market.extensions import db
from market.formatting import VN_TZ
from market.payments.models import CollectOrder, WebhookIntegration
from market.payments.signatures import sign_casso, sign_sepay

SEPAY_SECRET = "sepay-test-secret-0123456789"
CASSO_SECRET = "mgExMrjj4i7a1p8Cs6LmFbpCd8lbw4sSX4LZXPag7TKazeIogtR90tvWYTkwQbvs"


@pytest.fixture
def integrations(world):
    sepay = WebhookIntegration(provider="sepay", auth_mode="hmac", secret=SEPAY_SECRET)
    casso = WebhookIntegration(provider="casso", auth_mode="hmac", secret=CASSO_SECRET)
    db.session.add_all([sepay, casso])
    db.session.commit()
    return {"sepay": sepay, "casso": casso}


@pytest.fixture
def order_a(world):
    order = CollectOrder(stall_id=world.stall_a.id, reference="A01 K7Q3", amount=200_000)
    db.session.add(order)
    db.session.commit()
    return order


def vn_now() -> str:
    """Now as both providers write it: Vietnam time, no zone."""
    return datetime.now(VN_TZ).strftime("%Y-%m-%d %H:%M:%S")


def sepay_body(
    event_id=1001, *, amount=200_000, account="0011001234567", content="", kind="in", when=None
):
    return {
        "id": event_id,
        "gateway": "Vietcombank",
        "transactionDate": when or vn_now(),
        "accountNumber": account,
        "code": None,
        "content": content,
        "transferType": kind,
        "transferAmount": amount,
        "accumulated": 19_077_000,
        "subAccount": None,
        "referenceCode": f"MBVCB.{event_id}",
        "description": f"BankAPINotify {content}",
    }


def casso_body(event_id=2001, *, amount=200_000, account="101867123456", description="", when=None):
    return {
        "error": 0,
        "data": {
            "id": event_id,
            "reference": f"FT{event_id}",
            "description": description,
            "amount": amount,
            "runningBalance": 25_000_000,
            "transactionDateTime": when or vn_now(),
            "accountNumber": account,
            "bankName": "TMCP Cong Thuong Viet Nam",
            "bankAbbreviation": "VietinBank",
            "virtualAccountNumber": "",
            "virtualAccountName": "",
            "counterAccountName": "NGUYEN VAN A",
            "counterAccountNumber": "8888888888",
            "counterAccountBankId": "970436",
            "counterAccountBankName": "Vietcombank",
        },
    }


def post_sepay(client, body, *, secret=SEPAY_SECRET, timestamp=None, headers=None):
    raw = json.dumps(body).encode()
    signed = sign_sepay(raw, secret, timestamp=int(timestamp or time.time()))
    if headers is not None:
        signed = headers
    return client.post(
        "/api/v1/webhooks/sepay",
        data=raw,
        headers={**signed, "Content-Type": "application/json"},
    )


def post_casso(client, body, *, secret=CASSO_SECRET, timestamp_ms=None, raw=None):
    stamp = int(timestamp_ms or time.time() * 1000)
    raw = raw if raw is not None else json.dumps(body, indent=2).encode()
    return client.post(
        "/api/v1/webhooks/casso",
        data=raw,
        headers={
            "X-Casso-Signature": sign_casso(body, secret, timestamp_ms=stamp),
            "Content-Type": "application/json",
        },
    )
