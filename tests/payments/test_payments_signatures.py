"""SePay and Casso signatures, checked against Casso's own published sample."""

import doctest
import json

import pytest

from market.payments import signatures, values
from market.payments.signatures import (
    SignatureError,
    casso_canonical_json,
    sign_casso,
    sign_sepay,
    verify_casso,
    verify_sepay,
)

# Casso's PHP sample for webhook v2: the body, the checksum key and the header it sends.
CASSO_SAMPLE = {
    "error": 0,
    "data": {
        "id": 0,
        "reference": "MA_GIAO_DICH_THU_NGHIEM",
        "description": "giao dich thu nghiem",
        "amount": 599000,
        "runningBalance": 25000000,
        "transactionDateTime": "2024-10-03 15:06:37",
        "accountNumber": "88888888",
        "bankName": "VPBank",
        "bankAbbreviation": "VPB",
        "virtualAccountNumber": "",
        "virtualAccountName": "",
        "counterAccountName": "NGUYEN VAN A",
        "counterAccountNumber": "8888888888",
        "counterAccountBankId": "970415",
        "counterAccountBankName": "VietinBank",
    },
}
CASSO_KEY = "mgExMrjj4i7a1p8Cs6LmFbpCd8lbw4sSX4LZXPag7TKazeIogtR90tvWYTkwQbvs"
CASSO_HEADER = (
    "t=1727948258788,v1=ed0a4bd2e826d5cb69988cdb141e6c1a080e21f3b57eb72cd78192220042b9e7"
    "dde0868fc667faea8e224900fa7904e7c88dfa098032fb2d6b6996856e8b7ff3"
)
CASSO_NOW = 1727948258.788 + 10


def test_casso_published_sample_verifies():
    verify_casso(CASSO_SAMPLE, CASSO_HEADER, CASSO_KEY, now=CASSO_NOW)
    assert sign_casso(CASSO_SAMPLE, CASSO_KEY, timestamp_ms=1727948258788) == CASSO_HEADER


def test_casso_signature_does_not_depend_on_key_order_or_whitespace_of_the_body():
    shuffled = json.loads(json.dumps(CASSO_SAMPLE))
    shuffled["data"] = dict(reversed(list(shuffled["data"].items())))
    verify_casso(shuffled, CASSO_HEADER, CASSO_KEY, now=CASSO_NOW)


@pytest.mark.parametrize(
    ("header", "secret", "now", "reason"),
    [
        (CASSO_HEADER, "another-key", CASSO_NOW, "bad signature"),
        (CASSO_HEADER.replace("v1=ed", "v1=ee"), CASSO_KEY, CASSO_NOW, "bad signature"),
        (None, CASSO_KEY, CASSO_NOW, "missing signature"),
        ("t=1727948258788", CASSO_KEY, CASSO_NOW, "missing signature"),
        (CASSO_HEADER, CASSO_KEY, CASSO_NOW + 301, "stale timestamp"),
        (CASSO_HEADER, CASSO_KEY, CASSO_NOW - 400, "stale timestamp"),
    ],
)
def test_casso_refusals(header, secret, now, reason):
    with pytest.raises(SignatureError, match=reason):
        verify_casso(CASSO_SAMPLE, header, secret, now=now)


def test_casso_tampered_amount_is_refused():
    tampered = json.loads(json.dumps(CASSO_SAMPLE))
    tampered["data"]["amount"] = 5_990_000
    with pytest.raises(SignatureError):
        verify_casso(tampered, CASSO_HEADER, CASSO_KEY, now=CASSO_NOW)


def test_casso_php_serialisation_of_vietnamese_text_is_accepted():
    body = {"error": 0, "data": {"id": 7, "description": "Chuyển tiền rau/củ", "amount": 1}}
    php = casso_canonical_json(body, php=True)
    assert "\\u1ec3" in php and "\\/" in php
    signed = signatures._casso_hmac(f"1700000000000.{php}", CASSO_KEY)
    verify_casso(body, f"t=1700000000000,v1={signed}", CASSO_KEY, now=1_700_000_000)


def test_sepay_hmac_signs_timestamp_dot_raw_body():
    raw = b'{"id": 1, "transferAmount": 10000}'
    headers = sign_sepay(raw, "k" * 20, timestamp=1_700_000_000)
    assert headers["X-SePay-Signature"].startswith("sha256=")
    verify_sepay(raw, headers, "k" * 20, "hmac", now=1_700_000_000)
    bare = {**headers, "X-SePay-Signature": headers["X-SePay-Signature"].removeprefix("sha256=")}
    verify_sepay(raw, bare, "k" * 20, "hmac", now=1_700_000_000)
    with pytest.raises(SignatureError, match="bad signature"):
        verify_sepay(raw + b" ", headers, "k" * 20, "hmac", now=1_700_000_000)
    with pytest.raises(SignatureError, match="stale"):
        verify_sepay(raw, headers, "k" * 20, "hmac", now=1_700_000_301)
    with pytest.raises(SignatureError, match="timestamp"):
        verify_sepay(raw, {**headers, "X-SePay-Timestamp": "soon"}, "k" * 20, "hmac", now=0)


def test_sepay_api_key_mode():
    verify_sepay(b"{}", {"Authorization": "Apikey " + "k" * 20}, "k" * 20, "apikey", now=0)
    for header in ({}, {"Authorization": "Bearer " + "k" * 20}, {"Authorization": "Apikey kk"}):
        with pytest.raises(SignatureError):
            verify_sepay(b"{}", header, "k" * 20, "apikey", now=0)


def test_no_secret_never_verifies():
    with pytest.raises(SignatureError):
        verify_sepay(b"{}", {"Authorization": "Apikey "}, "", "apikey", now=0)


@pytest.mark.parametrize("module", [signatures, values])
def test_doctests(app, module):
    with app.test_request_context():
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
