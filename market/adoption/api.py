"""API views of the adoption figures: the province's (or a manager's markets') and one market's."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from market.adoption import cache, queries, services
from market.adoption.criteria import Settings
from market.adoption.schemas import MarketAdoptionReportSchema, ProvinceAdoptionSchema
from market.api.operations import operation
from market.api.tokens import api_user

bp = Blueprint("adoption", __name__)


@bp.get("/adoption")
@operation(
    summary="Chợ 4.0 adoption: markets qualifying against each dated target, by commune/ward "
    "and former district, trends",
    tag="adoption",
    description=(
        "The province (admin) sees every market; a manager sees the figures of their own "
        "markets only (`scope: markets`). Helpers and merchants get 403."
    ),
    response=ProvinceAdoptionSchema,
)
def province_adoption():
    user, settings, now = api_user(), Settings.from_config(current_app.config), queries.now_utc()
    targets = queries.adoption_targets(settings)
    if user.role == "admin":
        report = cache.province_report(user, settings, now=now, targets=targets)
        services.note_reached_targets(targets, report.targets, report.today)
    body = cache.province_page(
        user,
        settings,
        now=now,
        locale="json",
        render=lambda report: current_app.json.dumps(ProvinceAdoptionSchema().dump(report)),
        targets=targets,
    )
    # The body jsonify would make of the report, kept with its counts (market.adoption.cache).
    return Response(body + "\n", mimetype=current_app.json.mimetype)


@bp.get("/markets/<code>/adoption")
@operation(
    summary="One market's adoption figures, criteria and payments per day, week and month",
    tag="adoption",
    description="The province and the market's managers.",
    response=MarketAdoptionReportSchema,
)
def market_adoption(code: str):
    market = queries.dashboard_market(api_user(), code)
    return cache.market_report(
        market, Settings.from_config(current_app.config), now=queries.now_utc()
    )
