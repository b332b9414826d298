"""A fresh Flask-Babel locale per request, as under a real server.

Flask-Babel caches the locale and translations on ``g``, which lives as long as the app
context. A server gives every request its own app context, but the suite's ``app`` fixture
keeps one open for the whole test, so without this a test's first request would fix the
language for all the requests after it.
"""

from __future__ import annotations

import flask_babel
import pytest
from flask import request_started


def _drop_cached_locale(_sender, **_extra) -> None:
    flask_babel.refresh()


@pytest.fixture(autouse=True)
def fresh_locale_per_request(request):
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    request_started.connect(_drop_cached_locale, app)
    try:
        yield
    finally:
        request_started.disconnect(_drop_cached_locale, app)
