"""How SePay and Casso sign their webhooks, checked on the raw body (standard library only).

**SePay** (developer.sepay.vn/en/sepay-webhooks/xac-thuc, "How to authenticate SePay
webhooks", and .../bao-mat, "Secure your webhook endpoint"): a webhook authenticates with one
of API Key, HMAC-SHA256, OAuth 2.0 or nothing.

* API Key: ``Authorization: Apikey <key>``; the docs' sample compares it with ``hash_equals``.
* HMAC-SHA256: ``X-SePay-Signature: sha256=<hex>`` with ``X-SePay-Timestamp: <unix seconds>``,
  the HMAC-SHA256 under the webhook's secret of ``<timestamp> + "." + <raw body>``; the
  security page says to refuse a timestamp more than 5 minutes from now. (The docs' page was
  only partly readable to us; the signed string and the ``sha256=`` prefix are as public
  integrations sign and check it, e.g. an E2E test that posts
  ``createHmac("sha256", secret).update(`${timestamp}.${rawBody}`)`` as
  ``x-sepay-signature: sha256=<hex>``. We accept the hex with or without the prefix.)

**Casso webhook v2** (developer.casso.vn, "Thiết lập Webhook thủ công" / "Xử lý sự kiện
Webhook", and Casso's PHP/Node samples): ``X-Casso-Signature: t=<unix ms>,v1=<hex>``, where
``v1`` is the HMAC-SHA512 under the checksum key of ``<t> + "." + json(body)`` and ``json`` is
the body with every object's keys sorted (``sortObjDataByKey``), serialised compactly: Node's
``JSON.stringify`` (no spaces, non-ASCII kept) or PHP's ``json_encode`` (no spaces, ``\\uXXXX``
for non-ASCII, ``\\/`` for slashes). Both samples are accepted; for ASCII bodies they agree.
Casso's own sample vector is in the tests.

Comparisons use :func:`hmac.compare_digest`; stale or future timestamps (over
:data:`MAX_SKEW_SECONDS`) are refused.

>>> body = b'{"id":1}'
>>> headers = sign_sepay(body, "s3cret", timestamp=1_700_000_000)
>>> verify_sepay(body, headers, "s3cret", "hmac", now=1_700_000_100)
>>> verify_sepay(body, headers, "s3cret", "hmac", now=1_700_000_400)
Traceback (most recent call last):
...
market.payments.signatures.SignatureError: stale timestamp
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_SKEW_SECONDS",
    "SignatureError",
    "casso_canonical_json",
    "sign_casso",
    "sign_sepay",
    "verify_casso",
    "verify_sepay",
]

#: Older (or further in the future) than this, a signed notification is refused.
MAX_SKEW_SECONDS = 300

SEPAY_SIGNATURE = "X-SePay-Signature"
SEPAY_TIMESTAMP = "X-SePay-Timestamp"
CASSO_SIGNATURE = "X-Casso-Signature"


class SignatureError(ValueError):
    """The notification is not signed by whoever holds our secret (or not recently)."""


def _equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("ascii"))


def _fresh(timestamp_seconds: float, now: float) -> None:
    if abs(now - timestamp_seconds) > MAX_SKEW_SECONDS:
        raise SignatureError("stale timestamp")


def _timestamp(text: str | None, *, scale: int) -> float:
    if not text or not text.strip().isascii() or not text.strip().isdigit():
        raise SignatureError("missing or malformed timestamp")
    return int(text.strip()) / scale


# --- SePay -----------------------------------------------------------------------------------


def _sepay_hmac(raw_body: bytes, secret: str, timestamp: str) -> str:
    message = timestamp.encode("ascii") + b"." + raw_body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign_sepay(raw_body: bytes, secret: str, *, timestamp: int) -> dict[str, str]:
    """The headers SePay sends in HMAC mode (for tests, benchmarks and the fault drills)."""
    return {
        SEPAY_TIMESTAMP: str(timestamp),
        SEPAY_SIGNATURE: "sha256=" + _sepay_hmac(raw_body, secret, str(timestamp)),
    }


def verify_sepay(
    raw_body: bytes, headers: Mapping[str, str], secret: str, auth_mode: str, *, now: float
) -> None:
    """Raise :class:`SignatureError` unless the request carries SePay's proof of ``secret``."""
    if not secret:
        raise SignatureError("no secret configured")
    if auth_mode == "apikey":
        scheme, _, key = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "apikey" or not key:
            raise SignatureError("missing API key")
        if not hmac.compare_digest(key.strip().encode("utf-8"), secret.encode("utf-8")):
            raise SignatureError("bad API key")
        return
    signature = headers.get(SEPAY_SIGNATURE)
    if not signature:
        raise SignatureError("missing signature")
    stamp = headers.get(SEPAY_TIMESTAMP)
    _fresh(_timestamp(stamp, scale=1), now)
    given = signature.strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256=") :]
    if not given.isascii() or not _equal(_sepay_hmac(raw_body, secret, stamp.strip()), given):
        raise SignatureError("bad signature")


# --- Casso -----------------------------------------------------------------------------------


def casso_canonical_json(payload: Any, *, php: bool = False) -> str:
    """The body as Casso signs it: keys sorted at every level, no spaces.

    >>> casso_canonical_json({"b": 1, "a": {"y": "đ/x", "x": 0}})
    '{"a":{"x":0,"y":"đ/x"},"b":1}'
    >>> casso_canonical_json({"a": "đ/x"}, php=True)
    '{"a":"\\\\u0111\\\\/x"}'
    """
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=php)
    return text.replace("/", "\\/") if php else text


def _casso_hmac(message: str, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha512).hexdigest()


def _casso_header(header: str | None) -> tuple[str, str]:
    parts: dict[str, str] = {}
    for item in (header or "").split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts[key] = value.strip()
    if "t" not in parts or "v1" not in parts:
        raise SignatureError("missing signature")
    return parts["t"], parts["v1"]


def sign_casso(payload: Any, secret: str, *, timestamp_ms: int) -> str:
    """The ``X-Casso-Signature`` value Casso sends for ``payload``."""
    message = f"{timestamp_ms}.{casso_canonical_json(payload)}"
    return f"t={timestamp_ms},v1={_casso_hmac(message, secret)}"


def verify_casso(payload: Any, header: str | None, secret: str, *, now: float) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs the parsed body ``payload``."""
    if not secret:
        raise SignatureError("no secret configured")
    stamp, given = _casso_header(header)
    _fresh(_timestamp(stamp, scale=1000), now)
    if not given.isascii():
        raise SignatureError("bad signature")
    for php in (False, True):
        expected = _casso_hmac(f"{stamp}.{casso_canonical_json(payload, php=php)}", secret)
        if _equal(expected, given):
            return
    raise SignatureError("bad signature")
