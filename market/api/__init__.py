"""The JSON API under ``/api/v1``, shared by every domain.

Each domain keeps its API views in ``<domain>/api.py`` as a blueprint ``bp`` whose views carry
``@operation`` (``market.api.operations``); listing the module in ``DOMAIN_APIS`` serves it
behind token authentication and documents it in ``/api/v1/openapi.json`` and ``/api/v1/docs``.
"""

from __future__ import annotations

import importlib

from flask import Blueprint, Flask

from market.api.tokens import (
    Unauthenticated,
    authenticate_request,
    forget_request_user,
    unauthenticated,
)

API_PREFIX = "/api/v1"

DOMAIN_APIS = (
    "market.markets.api",
    "market.merchants.api",
    "market.adoption.api",
    "market.fees.api",
    "market.fees.money.api",
)


def register_api(app: Flask) -> None:
    from market.api.openapi import bp as docs_bp
    from market.extensions import csrf

    # A fresh parent per app: the domains' blueprints are module-level and nest under it.
    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    api.before_request(authenticate_request)
    api.teardown_request(forget_request_user)
    api.register_error_handler(Unauthenticated, unauthenticated)
    for module_name in DOMAIN_APIS:
        domain_bp = importlib.import_module(module_name).bp
        api.register_blueprint(domain_bp)
    app.register_blueprint(api)
    # Token-only: a browser never sends the token by itself, so there is nothing to forge.
    for name, blueprint in app.blueprints.items():
        if name.startswith("api."):
            csrf.exempt(blueprint)
    app.register_blueprint(docs_bp, url_prefix=API_PREFIX)
