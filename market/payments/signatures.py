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
the body with its objects' keys sorted (``sortObjDataByKey``), serialised compactly. Each form
the official samples produce is accepted (:func:`casso_messages`): Node's ``JSON.stringify``
(non-ASCII and "/" as they are; its ``sortObjDataByKey`` does not look inside arrays), PHP's
``json_encode`` (``\\uXXXX`` for non-ASCII, ``\\/`` for "/", and with the
``JSON_UNESCAPED_UNICODE`` / ``JSON_UNESCAPED_SLASHES`` flags either one as it is; its
``sortObjDataByKey`` sorts inside arrays too, and an empty object decodes to an empty PHP
array, ``[]``). For an ASCII body without "/" and without arrays they are all one text, one
HMAC. Casso's own sample vector is in the tests.

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
    "casso_messages",
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


#: Why a notification was refused, for the integration's health counters (``reason``).
REASONS = ("no_secret", "missing_signature", "bad_signature", "stale_timestamp", "bad_timestamp")


class SignatureError(ValueError):
    """The notification is not signed by whoever holds our secret (or not recently);
    ``reason`` is one of :data:`REASONS`."""

    def __init__(self, message: str, reason: str = "bad_signature") -> None:
        super().__init__(message)
        self.reason = reason


def _equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("ascii"))


def _fresh(timestamp_seconds: float, now: float) -> None:
    if abs(now - timestamp_seconds) > MAX_SKEW_SECONDS:
        raise SignatureError("stale timestamp", "stale_timestamp")


def _timestamp(text: str | None, *, scale: int) -> float:
    if not text or not text.strip().isascii() or not text.strip().isdigit():
        raise SignatureError("missing or malformed timestamp", "bad_timestamp")
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
        raise SignatureError("no secret configured", "no_secret")
    if auth_mode == "apikey":
        scheme, _, key = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "apikey" or not key:
            raise SignatureError("missing API key", "missing_signature")
        if not hmac.compare_digest(key.strip().encode("utf-8"), secret.encode("utf-8")):
            raise SignatureError("bad API key")
        return
    signature = headers.get(SEPAY_SIGNATURE)
    if not signature:
        raise SignatureError("missing signature", "missing_signature")
    stamp = headers.get(SEPAY_TIMESTAMP)
    _fresh(_timestamp(stamp, scale=1), now)
    given = signature.strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256=") :]
    if not given.isascii() or not _equal(_sepay_hmac(raw_body, secret, stamp.strip()), given):
        raise SignatureError("bad signature")


# --- Casso -----------------------------------------------------------------------------------


def casso_canonical_json(
    payload: Any, *, php: bool = False, ascii: bool | None = None, slashes: bool | None = None
) -> str:
    """The body as Casso signs it: keys sorted at every level, no spaces. ``php``: as PHP's
    ``json_encode`` writes it (``ascii`` and ``slashes`` escaped unless said otherwise; an
    empty object as ``[]``), else as Node's ``JSON.stringify`` (nothing escaped).

    >>> casso_canonical_json({"b": 1, "a": {"y": "đ/x", "x": 0}})
    '{"a":{"x":0,"y":"đ/x"},"b":1}'
    >>> casso_canonical_json({"a": "đ/x"}, php=True)
    '{"a":"\\\\u0111\\\\/x"}'
    >>> casso_canonical_json({"a": "đ/x"}, php=True, ascii=False)
    '{"a":"đ\\\\/x"}'
    """
    ascii = php if ascii is None else ascii
    slashes = php if slashes is None else slashes
    return _dumps(_sorted(payload, inside_arrays=True, php=php), ascii=ascii, slashes=slashes)


def _dumps(value: Any, *, ascii: bool, slashes: bool) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=ascii)
    return text.replace("/", "\\/") if slashes else text


def _sorted(value: Any, *, inside_arrays: bool, php: bool) -> Any:
    """``value`` with its objects' keys sorted, as a sample's ``sortObjDataByKey`` does:
    PHP's sorts inside arrays too (and PHP writes an empty object back as ``[]``), Node's
    leaves the objects inside an array as they came."""
    if isinstance(value, dict):
        if php and not value:
            return []
        return {
            key: _sorted(value[key], inside_arrays=inside_arrays, php=php) for key in sorted(value)
        }
    if isinstance(value, list) and inside_arrays:
        return [_sorted(item, inside_arrays=True, php=php) for item in value]
    return value


def casso_messages(payload: Any) -> list[str]:
    """Every distinct text one of Casso's official samples would sign for ``payload`` (the
    parsed body, its keys in the order they came): Node's, and PHP's with each combination of
    ``JSON_UNESCAPED_UNICODE`` and ``JSON_UNESCAPED_SLASHES``. Mostly a single text.

    >>> casso_messages({"a": 1})
    ['{"a":1}']
    >>> len(casso_messages({"a": "đ/x"}))
    4
    """
    node = _sorted(payload, inside_arrays=False, php=False)
    php = _sorted(payload, inside_arrays=True, php=True)
    texts = [_dumps(node, ascii=False, slashes=False)]
    for ascii in (True, False):
        for slashes in (True, False):
            texts.append(_dumps(php, ascii=ascii, slashes=slashes))
    texts.append(
        _dumps(_sorted(payload, inside_arrays=True, php=False), ascii=False, slashes=False)
    )
    return list(dict.fromkeys(texts))


def _casso_hmac(message: str, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha512).hexdigest()


def _casso_header(header: str | None) -> tuple[str, str]:
    parts: dict[str, str] = {}
    for item in (header or "").split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts[key] = value.strip()
    if "t" not in parts or "v1" not in parts:
        raise SignatureError("missing signature", "missing_signature")
    return parts["t"], parts["v1"]


def sign_casso(payload: Any, secret: str, *, timestamp_ms: int) -> str:
    """The ``X-Casso-Signature`` value Casso sends for ``payload``."""
    message = f"{timestamp_ms}.{casso_canonical_json(payload)}"
    return f"t={timestamp_ms},v1={_casso_hmac(message, secret)}"


def verify_casso(payload: Any, header: str | None, secret: str, *, now: float) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs the parsed body ``payload``."""
    if not secret:
        raise SignatureError("no secret configured", "no_secret")
    stamp, given = _casso_header(header)
    _fresh(_timestamp(stamp, scale=1000), now)
    if not given.isascii():
        raise SignatureError("bad signature")
    for message in casso_messages(payload):
        if _equal(_casso_hmac(f"{stamp}.{message}", secret), given):
            return
    raise SignatureError("bad signature")
