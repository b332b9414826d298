"""GET /healthz: 200 while this instance can reach its database, else 503.

A load balancer takes an instance out of rotation on 503 and back on 200. Redis is not
checked: without it the rate limits fall back to per-process counting and every page still
works, so taking every host out because Redis blinked would turn a small fault into an outage.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from market.extensions import limiter
from market.health import queries

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    if queries.database_reachable():
        response = jsonify(status="ok")
    else:
        response = jsonify(status="unavailable", database="unreachable")
        response.status_code = 503
    response.headers["Cache-Control"] = "no-store"
    return response
