"""Casso's signature over each JSON form its official samples produce.

Casso signs ``<t>.<json>`` where ``json`` is the body with its keys sorted, as its Node sample
(``JSON.stringify``: nothing escaped) or its PHP sample (``json_encode``: non-ASCII as
``\\uXXXX`` and "/" as ``\\/``, or either kept with ``JSON_UNESCAPED_UNICODE`` /
``JSON_UNESCAPED_SLASHES``) writes it. The texts below are written out by hand, not by the
code under test, so a change in how the app serialises shows up here.
"""

import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import select

from market.extensions import db
from market.payments.models import PaymentNotification
from market.payments.signatures import SignatureError, verify_casso
from tests.payments.conftest import CASSO_SECRET

STAMP = 1_700_000_000_000
NOW = STAMP / 1000 + 5

BODY = {"error": 0, "data": {"id": 7, "description": "Bán rau/củ", "amount": 60000}}
# The same body in each form (keys sorted: amount, description, id).
FORMS = {
    "node": '{"data":{"amount":60000,"description":"Bán rau/củ","id":7},"error":0}',
    "php": '{"data":{"amount":60000,"description":"B\\u00e1n rau\\/c\\u1ee7","id":7},"error":0}',
    "php-unicode": '{"data":{"amount":60000,"description":"Bán rau\\/củ","id":7},"error":0}',
    "php-slashes": '{"data":{"amount":60000,"description":"B\\u00e1n rau/c\\u1ee7","id":7},"error":0}',
}


def _header(text: str, secret: str = CASSO_SECRET, stamp: int = STAMP) -> str:
    digest = hmac.new(secret.encode(), f"{stamp}.{text}".encode(), hashlib.sha512).hexdigest()
    return f"t={stamp},v1={digest}"


@pytest.mark.parametrize("form", FORMS)
def test_each_sample_form_of_a_vietnamese_body_with_a_slash_verifies(form):
    verify_casso(BODY, _header(FORMS[form]), CASSO_SECRET, now=NOW)


def test_the_body_key_order_as_sent_does_not_matter():
    reordered = {"data": {"amount": 60000, "id": 7, "description": "Bán rau/củ"}, "error": 0}
    for text in FORMS.values():
        verify_casso(reordered, _header(text), CASSO_SECRET, now=NOW)


@pytest.mark.parametrize(
    "text",
    [
        # Spaces after separators (Python's default), unsorted keys, a changed amount.
        '{"data": {"amount": 60000, "description": "Bán rau/củ", "id": 7}, "error": 0}',
        '{"error":0,"data":{"id":7,"description":"Bán rau/củ","amount":60000}}',
        '{"data":{"amount":60001,"description":"Bán rau/củ","id":7},"error":0}',
    ],
    ids=["spaces", "unsorted", "amount"],
)
def test_a_text_no_sample_produces_is_refused(text):
    with pytest.raises(SignatureError) as refused:
        verify_casso(BODY, _header(text), CASSO_SECRET, now=NOW)
    assert refused.value.reason == "bad_signature"


# Casso's v1 webhook sent "data" as a list of transactions. Node's sortObjDataByKey does not
# look inside arrays, so each transaction's keys stay as they came; PHP's sorts them too.
LIST_BODY = {"error": 0, "data": [{"id": 7, "amount": 60000}]}


@pytest.mark.parametrize(
    "text",
    [
        '{"data":[{"id":7,"amount":60000}],"error":0}',  # Node
        '{"data":[{"amount":60000,"id":7}],"error":0}',  # PHP
    ],
    ids=["node", "php"],
)
def test_objects_inside_arrays_as_each_sample_sorts_them(text):
    verify_casso(LIST_BODY, _header(text), CASSO_SECRET, now=NOW)


def test_php_writes_an_empty_object_as_an_empty_array():
    body = {"error": 0, "data": {"id": 7, "extra": {}}}
    verify_casso(body, _header('{"data":{"extra":[],"id":7},"error":0}'), CASSO_SECRET, now=NOW)
    verify_casso(body, _header('{"data":{"extra":{},"id":7},"error":0}'), CASSO_SECRET, now=NOW)


@pytest.mark.parametrize(
    ("now", "reason"),
    [(STAMP / 1000 + 301, "stale_timestamp"), (STAMP / 1000 - 301, "stale_timestamp")],
    ids=["late", "early"],
)
def test_the_signing_time_must_be_within_five_minutes(now, reason):
    with pytest.raises(SignatureError) as refused:
        verify_casso(BODY, _header(FORMS["php"]), CASSO_SECRET, now=now)
    assert refused.value.reason == reason


@pytest.mark.usefixtures("integrations")
@pytest.mark.parametrize("form", ["php", "php-unicode"])
def test_a_php_signed_notification_is_stored(app, world, form):
    body = {
        "error": 0,
        "data": {
            "id": 9101,
            "reference": "FT9101",
            "description": "Chuyển tiền mua rau/củ",
            "amount": 60_000,
            "transactionDateTime": "2026-03-04 10:00:00",
            "accountNumber": world.payee_a.account_number,
            "bankAbbreviation": "VietinBank",
            "counterAccountName": "NGUYỄN VĂN A",
        },
    }
    escape_unicode = form == "php"
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=escape_unicode)
    text = text.replace("/", "\\/")
    stamp = int(time.time() * 1000)
    response = app.test_client().post(
        "/api/v1/webhooks/casso",
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={
            "X-Casso-Signature": _header(text, stamp=stamp),
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = db.session.scalar(
        select(PaymentNotification).where(PaymentNotification.event_id == "9101")
    )
    assert stored is not None and stored.amount == 60_000
