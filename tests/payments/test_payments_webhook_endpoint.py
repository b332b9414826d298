"""The webhooks' own WSGI endpoint (market.payments.webhooks.WebhookIngest): what it answers
besides a stored notification, byte for byte and header by header, on both databases."""

import json
import logging
import time

import pytest
from flask import url_for
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wsgi import get_content_length

from market.extensions import db
from market.payments import services
from market.payments.models import PaymentNotification
from market.payments.signatures import sign_sepay
from tests.payments.conftest import SEPAY_SECRET, post_sepay, sepay_body

SECURITY_HEADERS = {
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
}


def _stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(PaymentNotification.id)))


def test_the_answer_is_sepays_json_with_the_security_headers(world, integrations, client):
    first = post_sepay(client, sepay_body(3001))
    again = post_sepay(client, sepay_body(3001))
    assert first.status_code == again.status_code == 200
    assert first.data == b'{"duplicate":false,"success":true}\n'
    assert again.data == b'{"duplicate":true,"success":true}\n'
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["Content-Length"] == str(len(first.data))
    assert set(first.headers.keys()) >= SECURITY_HEADERS
    assert first.headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in first.headers
    assert _stored() == 1


def test_the_sites_csrf_check_does_not_stand_in_a_banks_way(
    app, world, integrations, client, monkeypatch
):
    """With the main app's CSRF check on (as in production), a form post without a token is
    refused, while a signed notification, which has no token or cookie, lands."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 400
    assert post_sepay(client, sepay_body(3008)).status_code == 200
    assert _stored() == 1


def test_an_error_is_the_apis_json_error_with_the_same_headers(integrations, client):
    refused = post_sepay(client, sepay_body(3002), secret="not-the-secret")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["status"] == 401
    assert set(refused.headers.keys()) >= SECURITY_HEADERS

    wrong_shape = post_sepay(client, {**sepay_body(3003), "transferType": "sideways"})
    assert wrong_shape.status_code == 422
    assert set(wrong_shape.get_json()["error"]["fields"]) == {"transferType"}
    assert _stored() == 0


def test_an_unknown_provider_is_404_and_another_method_405(integrations, client):
    raw = json.dumps(sepay_body(3004)).encode()
    signed = sign_sepay(raw, SEPAY_SECRET, timestamp=int(time.time()))
    unknown = client.post("/api/v1/webhooks/momo", data=raw, headers=signed)
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["status"] == 404

    for method in ("get", "put", "delete"):
        answer = getattr(client, method)("/api/v1/webhooks/sepay", data=raw, headers=signed)
        assert answer.status_code == 405, method
        assert answer.headers["Allow"] == "POST"
        assert answer.get_json()["error"]["status"] == 405
    assert _stored() == 0


def _post_chunked(app, raw: bytes):
    """POST ``raw`` to the SePay webhook as a server passes a chunked body on: no
    Content-Length, the input marked terminated. Returns (status, bytes the app read)."""
    signed = sign_sepay(raw, SEPAY_SECRET, timestamp=int(time.time()))
    environ = EnvironBuilder(
        path="/api/v1/webhooks/sepay",
        method="POST",
        data=raw,
        headers={**signed, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    assert get_content_length(environ) is None
    _body, status, _headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), environ["wsgi.input"].tell()


def test_a_body_without_a_length_is_read_and_a_long_one_refused_unread(app, world, integrations):
    """A chunked body (no length) is read like any other; one longer than the limit is
    refused after one byte past the limit, not read to its end."""
    raw = json.dumps(sepay_body(3005)).encode()
    assert _post_chunked(app, raw) == (200, len(raw))
    assert _stored() == 1

    long_body = sepay_body(3006) | {"content": "x" * (2 * services.MAX_WEBHOOK_BODY)}
    status, read = _post_chunked(app, json.dumps(long_body).encode())
    assert (status, read) == (413, services.MAX_WEBHOOK_BODY + 1)
    assert _stored() == 1


def test_an_unexpected_error_is_logged_and_answered_500(integrations, client, monkeypatch, caplog):
    """A bug, not a refusal: logged with its traceback by the app's own catch-all handler
    (market.errors) and answered 500, so the sender retries; nothing is stored."""

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in ingest")

    monkeypatch.setattr(services, "ingest_notification", broken)
    with caplog.at_level(logging.ERROR):
        answer = post_sepay(client, sepay_body(3007))
    assert answer.status_code == 500
    assert answer.get_json()["error"]["status"] == 500
    assert "a bug" not in answer.get_data(as_text=True)
    assert set(answer.headers.keys()) >= SECURITY_HEADERS
    logged = [record for record in caplog.records if record.exc_info]
    assert [str(record.exc_info[1]) for record in logged] == ["a bug in ingest"]
    assert _stored() == 0


def test_the_main_app_builds_the_urls_but_never_serves_them(app):
    """The main app keeps the webhooks' URLs for url_for and the route list, as rules that
    match nothing: the requests are the endpoint's."""
    with app.test_request_context():
        assert url_for("webhooks.sepay") == "/api/v1/webhooks/sepay"
        assert url_for("webhooks.casso") == "/api/v1/webhooks/casso"
        adapter = app.url_map.bind("localhost")
        with pytest.raises(NotFound):
            adapter.match("/api/v1/webhooks/sepay", method="POST")
