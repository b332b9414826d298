"""Who is calling the API: the user of the personal token in ``Authorization: Bearer …``.

Only the token counts. A session cookie sent along is ignored, so a page on another site
cannot make a logged-in browser call the API (no CSRF hole), and the API needs no CSRF token.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from limits import parse

from market.auth import services
from market.auth.models import User
from market.errors import DomainError, error_body
from market.extensions import db, limiter, login_manager


class Unauthenticated(DomainError):
    status = 401
    default_message = _l("Cần mã truy cập API hợp lệ: Authorization: Bearer <mã>.")


class TooManyFailures(DomainError):
    status = 429
    default_message = _l("Quá nhiều lần thử mã truy cập sai. Vui lòng thử lại sau ít phút.")


def _failure_limit():
    """(limit, key) of failed token attempts from this address (API_TOKEN_FAILURE_LIMIT),
    counted in the rate limiter's store (shared through Redis between hosts)."""
    limit = parse(current_app.config["API_TOKEN_FAILURE_LIMIT"])
    return limit, f"api-token-failures/{get_remote_address()}"


def authenticate_request() -> None:
    """Before every API request: find the token's user or answer 401; after too many wrong
    tokens from one address, 429 without looking the token up (guessing costs the guesser)."""
    # Flask-Login reads the user from g first; setting it here means nothing below (the
    # locale, a template) ever falls back to the session cookie during an API request.
    g._login_user = login_manager.anonymous_user()
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated()
    limit, key = _failure_limit()
    if limiter.enabled and not limiter.limiter.test(limit, key):
        raise TooManyFailures()
    user = services.user_for_api_token(secret.strip())
    if user is None:
        if limiter.enabled:
            limiter.limiter.hit(limit, key)
        raise Unauthenticated(
            _l("Mã truy cập không đúng, đã bị thu hồi, hoặc tài khoản đã bị khóa.")
        )
    g.api_user = user
    g._login_user = user


def forget_request_user(_exc: BaseException | None = None) -> None:
    """After an API request: ``g`` lives as long as its app context, which outlives the
    request when one was pushed beforehand (tests, scripts); the next request must not
    inherit this one's user."""
    g.pop("api_user", None)
    g.pop("_login_user", None)


def api_user() -> User:
    """The user the current API request acts as."""
    return g.api_user


def unauthenticated(exc: Unauthenticated):
    db.session.rollback()
    return error_body(401, exc.message), 401, {"WWW-Authenticate": 'Bearer realm="api"'}
