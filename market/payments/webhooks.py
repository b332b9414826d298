"""POST /api/v1/webhooks/<provider>: bank notifications from SePay and Casso.

Authenticated by the provider's signature, not by a user or a token, so the blueprint is
CSRF-exempt (``create_app`` exempts it). The answer is 200 ``{"success": true}`` (what SePay's
docs ask for) only once the notification is committed, a duplicate included; 401 for a bad,
missing or stale signature, 413 for an oversized body, 422 for a payload of the wrong shape,
503 when the database is unavailable. Both providers retry anything but a 2xx.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from market.payments import services

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks")


def _ingest(provider: str):
    if (request.content_length or 0) > services.MAX_WEBHOOK_BODY:
        abort(413)
    # Read at most one byte past the limit, so a body without a length cannot grow unbounded.
    raw = request.stream.read(services.MAX_WEBHOOK_BODY + 1)
    result = services.ingest_notification(provider, raw, request.headers)
    return jsonify(success=True, duplicate=result.duplicate), 200


@bp.post("/sepay")
def sepay():
    return _ingest("sepay")


@bp.post("/casso")
def casso():
    return _ingest("casso")
