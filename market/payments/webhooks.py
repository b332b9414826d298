"""POST /api/v1/webhooks/<provider>: bank notifications from SePay and Casso.

Authenticated by the provider's signature, not by a user or a token, so the blueprint is
CSRF-exempt (``create_app`` exempts it). The answer is 200 ``{"success": true}`` (what SePay's
docs ask for) only once the notification is committed, a duplicate included; 401 for a bad,
missing or stale signature, 413 for an oversized body, 422 for a payload of the wrong shape,
503 when the database is unavailable. Both providers retry anything but a 2xx.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, request

from market.extensions import limiter
from market.payments import services

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks")

#: The two answers, written once (a bank's burst is thousands of these), byte for byte what
#: ``jsonify`` wrote: compact, keys sorted, a final newline.
_ANSWERS = {
    duplicate: json.dumps(
        {"duplicate": duplicate, "success": True}, separators=(",", ":"), sort_keys=True
    ).encode()
    + b"\n"
    for duplicate in (False, True)
}


def _ingest(provider: str):
    if (request.content_length or 0) > services.MAX_WEBHOOK_BODY:
        abort(413)
    # Read at most one byte past the limit, so a body without a length cannot grow unbounded.
    raw = request.stream.read(services.MAX_WEBHOOK_BODY + 1)
    result = services.ingest_notification(provider, raw, request.headers)
    return current_app.response_class(
        _ANSWERS[result.duplicate], status=200, mimetype="application/json"
    )


# Not rate-limited: a bank's burst must all land (the signature is the gate), and skipping the
# limiter's bookkeeping is a measurable share of a request this small.
@bp.post("/sepay")
@limiter.exempt
def sepay():
    return _ingest("sepay")


@bp.post("/casso")
@limiter.exempt
def casso():
    return _ingest("casso")
