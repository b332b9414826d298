"""POST /api/v1/webhooks/<provider>: bank notifications from SePay and Casso.

Authenticated by the provider's signature, not by a user or a token: no session, no login,
no CSRF token and no rate limit (a bank's burst must all land; the signature is the gate).
The answer is 200 ``{"success": true}`` (what SePay's docs ask for) only once the
notification is committed, a duplicate included; 401 for a bad, missing or stale signature,
413 for an oversized body, 422 for a payload of the wrong shape, 503 when the database is
unavailable. Both providers retry anything but a 2xx.

A bank's burst is thousands of these, and for a request this small Flask's own work per
request (request and response objects, URL matching, the hooks) was a fifth of its cost
(bench/bench_webhooks.py). So :class:`WebhookIngest` serves them as a plain WSGI
application, mounted at :data:`URL_PREFIX` (market.app.register_webhook_app), in front of a
lean Flask app that gives it its settings, its database and, for every answer but the 200,
its error handlers: an error is answered the same way, in the same words, as anywhere else
in the API. The main app keeps the two URLs for ``url_for`` and the route list only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.wsgi import get_content_length, get_input_stream

from market.payments import services

URL_PREFIX = "/api/v1/webhooks"
#: The path under the prefix -> the provider it is for.
PROVIDER_PATHS = {f"/{provider}": provider for provider in services.PROVIDERS}

# The URLs, for the main app's url_for and route list; requests under the prefix are served
# by WebhookIngest and never reach the main app (build-only rules match nothing).
bp = Blueprint("webhooks", __name__, url_prefix=URL_PREFIX)
for _path, _provider in PROVIDER_PATHS.items():
    bp.add_url_rule(_path, endpoint=_provider, methods=["POST"], build_only=True)
# A provider's other integrations (several per provider, each with its own secret).
bp.add_url_rule("/<provider>/<name>", endpoint="named", methods=["POST"], build_only=True)

#: The two answers, written once, byte for byte what ``jsonify`` wrote: compact, keys
#: sorted, a final newline.
_ANSWERS = {
    duplicate: json.dumps(
        {"duplicate": duplicate, "success": True}, separators=(",", ":"), sort_keys=True
    ).encode()
    + b"\n"
    for duplicate in (False, True)
}


class WebhookIngest:
    """The webhooks' WSGI application: ``app`` is the lean Flask app it runs in (config,
    database, messages, error answers), ``headers`` what every answer carries (the security
    headers of market.app)."""

    def __init__(self, app: Flask, headers: Iterable[tuple[str, str]]) -> None:
        self.app = app
        self._answers = {
            duplicate: (
                body,
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    *headers,
                ],
            )
            for duplicate, body in _ANSWERS.items()
        }

    def __call__(self, environ: dict[str, Any], start_response) -> Iterable[bytes]:
        try:
            provider, name = self._provider(environ)
            raw = self._body(environ)
            with self.app.app_context():
                result = services.ingest_notification(
                    provider, raw, EnvironHeaders(environ), integration=name
                )
        except Exception as exc:
            return self._error(environ, start_response, exc)
        body, headers = self._answers[result.duplicate]
        start_response("200 OK", list(headers))  # a copy: a middleware may add to it
        return [body]

    @staticmethod
    def _provider(environ: dict[str, Any]) -> tuple[str, str]:
        """(provider, integration name) of the path: "/sepay" is SePay's main integration,
        "/sepay/cho-thai" the one named cho-thai."""
        path = environ.get("PATH_INFO", "")
        provider, name = PROVIDER_PATHS.get(path), ""
        if provider is None:
            head, _slash, name = path.rpartition("/")
            provider = PROVIDER_PATHS.get(head)
            if provider is None or not services.INTEGRATION_NAME.fullmatch(name):
                raise NotFound()
        if environ["REQUEST_METHOD"] != "POST":
            raise MethodNotAllowed(valid_methods=["POST"])
        return provider, name

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        if (get_content_length(environ) or 0) > services.MAX_WEBHOOK_BODY:
            raise RequestEntityTooLarge()
        # Read at most one byte past the limit, so a body without a length (chunked) cannot
        # grow unbounded; ingest_notification refuses it if it is over.
        return get_input_stream(environ).read(services.MAX_WEBHOOK_BODY + 1)

    def _error(self, environ: dict[str, Any], start_response, exc: Exception) -> Iterable[bytes]:
        """Answer ``exc`` (being handled) as the Flask app answers an error raised by a view
        (``Flask.full_dispatch_request`` and ``wsgi_app``): its error handlers (market.errors:
        the API's JSON errors, and a logged 500 for anything unexpected), then its
        after-request hooks; an error handler that fails itself goes to Flask's
        ``handle_exception``, as it would there."""
        app = self.app
        with app.request_context(environ):
            try:
                response = app.finalize_request(
                    app.handle_user_exception(exc), from_error_handler=True
                )
            except Exception as unhandled:
                response = app.handle_exception(unhandled)
            return response(environ, start_response)
