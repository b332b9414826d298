"""A per-user limit on heavy requests: the ones that hold a worker for long (exports, files
generated on request), so one person clicking "download" again and again cannot keep the
workers from shoppers, banks and merchants.

Every view decorated with :data:`heavy_request` draws on one budget per signed-in user
(``MARKET_HEAVY_RATE_LIMIT``, default ``10 per minute``; per client address before login),
counted in the same store as the login limit (Redis when several hosts run). Past it the user
gets 429 with the usual "too fast" message and a ``Retry-After``; nothing else is refused.
"""

from __future__ import annotations

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from market.extensions import limiter

__all__ = ["heavy_request"]


def _heavy_limit() -> str:
    return current_app.config["HEAVY_RATE_LIMIT"]


def _user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{get_remote_address()}"


heavy_request = limiter.shared_limit(_heavy_limit, scope="heavy", key_func=_user_key)
