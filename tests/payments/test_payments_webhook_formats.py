"""SePay posts a webhook as JSON, form-encoded or multipart, as its settings say: each is
signed over the raw body and stored the same way."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from market.extensions import db
from market.payments.models import PaymentNotification
from market.payments.signatures import sign_sepay
from tests.conftest import World
from tests.payments.conftest import SEPAY_SECRET, sepay_body


@pytest.fixture
def world(app):
    return World()


def _form_fields(body: dict) -> list[tuple[str, str]]:
    return [(k, "" if v is None else str(v)) for k, v in body.items()]


def _multipart(fields: list[tuple[str, str]], boundary: str = "----sepay7MA4YWxk") -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


def _post(client, raw: bytes, content_type: str):
    headers = sign_sepay(raw, SEPAY_SECRET, timestamp=int(time.time()))
    return client.post(
        "/api/v1/webhooks/sepay", data=raw, headers={**headers, "Content-Type": content_type}
    )


@pytest.mark.parametrize("form", ["urlencoded", "multipart"])
def test_a_form_body_is_stored_like_json(client, world, integrations, form):
    body = sepay_body(4242, amount=35_000, content="rau cai")
    fields = _form_fields(body)
    if form == "urlencoded":
        raw, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
    else:
        raw = _multipart(fields)
        content_type = "multipart/form-data; boundary=----sepay7MA4YWxk"
    response = _post(client, raw, content_type)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"duplicate": False, "success": True}
    stored = db.session.scalar(select(PaymentNotification))
    assert (stored.event_id, stored.amount, stored.stall_id, stored.match_status) == (
        "4242",
        35_000,
        world.stall_a.id,
        "matched",
    )
    assert "rau cai" in stored.content
    # The same notification again, as JSON this time: one transfer, stored once.
    again = _post(client, json.dumps(body).encode(), "application/json")
    assert again.get_json()["duplicate"] is True


def test_a_form_body_missing_a_field_is_refused_field_by_field(client, world, integrations):
    fields = [(k, v) for k, v in _form_fields(sepay_body(4243)) if k != "transferAmount"]
    response = _post(client, urlencode(fields).encode(), "application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert "transferAmount" in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(PaymentNotification)) is None


def test_a_tampered_form_body_is_refused(client, world, integrations):
    raw = urlencode(_form_fields(sepay_body(4244))).encode()
    headers = sign_sepay(raw, SEPAY_SECRET, timestamp=int(time.time()))
    response = client.post(
        "/api/v1/webhooks/sepay",
        data=raw.replace(b"200000", b"900000"),
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401
