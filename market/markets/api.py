"""API views of markets and stalls (``/api/v1/markets``…). Writes go through the services."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from market.api.operations import WRITE_ERRORS, operation
from market.api.pagination import page_of, page_schema
from market.api.tokens import api_user
from market.auth import permissions
from market.auth.models import User
from market.errors import NotFound
from market.markets import queries, services
from market.markets.models import Market, Stall
from market.markets.schemas import (
    MarketCreateSchema,
    MarketQuerySchema,
    MarketSchema,
    MarketUpdateSchema,
    StallCreateSchema,
    StallQuerySchema,
    StallSchema,
    StallUpdateSchema,
)
from market.vietqr import bank_by_bin

bp = Blueprint("markets", __name__)


def market_or_404(user: User, code: str) -> Market:
    market = queries.market_by_code(code)
    if market is None or not permissions.can_view_market(user, market):
        raise NotFound(_("Không tìm thấy chợ “%(code)s”.", code=code))
    return market


def stall_or_404(user: User, code: str, stall_code: str) -> Stall:
    """A stall the user may see: staff of its market, or the merchant who holds it."""
    market = queries.market_by_code(code)
    stall = queries.stall_by_code(market, stall_code) if market is not None else None
    if stall is None or not permissions.can_view_stall(user, stall):
        raise NotFound(_("Không tìm thấy sạp “%(code)s”.", code=stall_code))
    return stall


def market_out(market: Market, stalls: int | None = None, ready: int | None = None) -> dict:
    if stalls is None or ready is None:
        summary = queries.market_summary(market)
        stalls, ready = summary["total"], summary["ready"] + summary["reprint"]
    return {
        "code": market.code,
        "name": market.name,
        "admin_unit": admin_unit_out(market.admin_unit),
        "district": market.district,
        "commune": market.commune,
        "former_province": market.former_province,
        "address": market.address,
        "status": market.status,
        "launch_date": market.launch_date,
        "created_at": market.created_at,
        "stalls": stalls,
        "stalls_ready": ready,
    }


def admin_unit_out(unit) -> dict | None:
    if unit is None:
        return None
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "full_name": unit.full_name,
        "province": unit.province,
    }


def payee_out(payee) -> dict | None:
    if payee is None:
        return None
    bank = bank_by_bin(payee.bank_bin)
    return {
        "id": payee.id,
        "bank_bin": payee.bank_bin,
        "bank_name": bank.short_name if bank else None,
        "account_number": payee.account_number,
        "service": payee.service,
        "holder_name": payee.holder_name,
        "is_current": payee.is_current,
        "verified": payee.verified,
        "created_at": payee.created_at,
        "replaced_at": payee.replaced_at,
        "verified_at": payee.verified_at,
    }


def stall_out(row) -> dict:
    stall, merchant, payee, qr_state = row
    return {
        "market": stall.market.code,
        "code": stall.code,
        "zone": stall.zone,
        "category": stall.category,
        "status": stall.status,
        "qr_state": qr_state,
        "merchant": (
            {"id": merchant.id, "full_name": merchant.full_name, "phone": merchant.phone}
            if merchant is not None
            else None
        ),
        "payee": payee_out(payee),
        "sticker_printed_at": stall.sticker_printed_at,
        "created_at": stall.created_at,
    }


# --- markets -------------------------------------------------------------------------------


@bp.get("/markets")
@operation(
    summary="List the markets the caller may see",
    tag="markets",
    query=MarketQuerySchema,
    response=page_schema(MarketSchema),
)
def list_markets(query: dict):
    page = queries.market_list(api_user(), **query)
    return page_of(page, [market_out(m, stalls, ready) for m, stalls, ready in page.items])


@bp.post("/markets")
@operation(
    summary="Add a market (province staff only)",
    tag="markets",
    body=MarketCreateSchema,
    response=MarketSchema,
    status=201,
    errors=WRITE_ERRORS,
)
def create_market(body: dict):
    return market_out(services.create_market(api_user(), **body))


@bp.get("/markets/<code>")
@operation(summary="One market with its stall counts", tag="markets", response=MarketSchema)
def get_market(code: str):
    return market_out(market_or_404(api_user(), code))


@bp.patch("/markets/<code>")
@operation(
    summary="Change a market's details (the code stays)",
    tag="markets",
    body=MarketUpdateSchema,
    response=MarketSchema,
    errors=WRITE_ERRORS,
)
def update_market(code: str, body: dict):
    user = api_user()
    market = services.update_market(user, market_or_404(user, code), **body)
    return market_out(market)


# --- stalls --------------------------------------------------------------------------------


@bp.get("/markets/<code>/stalls")
@operation(
    summary="List a market's stalls with merchant, current payee and QR state",
    tag="stalls",
    query=StallQuerySchema,
    response=page_schema(StallSchema),
)
def list_stalls(code: str, query: dict):
    page = queries.stall_rows(market_or_404(api_user(), code), **query)
    return page_of(page, [stall_out(row) for row in page.items])


@bp.post("/markets/<code>/stalls")
@operation(
    summary="Add a stall to a market",
    tag="stalls",
    body=StallCreateSchema,
    response=StallSchema,
    status=201,
    errors=WRITE_ERRORS,
)
def create_stall(code: str, body: dict):
    user = api_user()
    stall = services.save_stall(user, market_or_404(user, code), **body)
    return stall_out(queries.stall_row(stall))


@bp.get("/markets/<code>/stalls/<stall_code>")
@operation(
    summary="One stall",
    tag="stalls",
    description="Staff of the market, or the merchant who holds the stall.",
    response=StallSchema,
)
def get_stall(code: str, stall_code: str):
    return stall_out(queries.stall_row(stall_or_404(api_user(), code, stall_code)))


@bp.patch("/markets/<code>/stalls/<stall_code>")
@operation(
    summary="Change a stall (its code too: the stall's URL changes with it)",
    tag="stalls",
    body=StallUpdateSchema,
    response=StallSchema,
    errors=WRITE_ERRORS,
)
def update_stall(code: str, stall_code: str, body: dict):
    user = api_user()
    market = market_or_404(user, code)
    stall = stall_or_404(user, code, stall_code)
    body.setdefault("code", stall.code)
    stall = services.save_stall(user, market, stall, **body)
    return stall_out(queries.stall_row(stall))
