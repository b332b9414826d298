"""API views of fees (``/api/v1/markets/<code>/fee-types``, ``…/bills``). Writes go through
the services; a merchant's token sees only the bills of the stalls they hold."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from sqlalchemy import select

from market.api.operations import WRITE_ERRORS, operation
from market.api.pagination import page_of, page_schema
from market.api.tokens import api_user
from market.auth import permissions
from market.auth.models import User
from market.errors import Forbidden, NotFound
from market.fees import queries, services
from market.fees.models import FeeBill, FeeType
from market.fees.schemas import (
    BillDetailSchema,
    BillingResultSchema,
    BillingSchema,
    BillQuerySchema,
    BillSchema,
    FeeTypeCreateSchema,
    FeeTypeQuerySchema,
    FeeTypeSchema,
    RateCreateSchema,
)
from market.fees.values import parse_period
from market.markets import queries as market_queries
from market.markets.models import Market, Stall
from market.pagination import paginate

bp = Blueprint("fees", __name__)


def _market(user: User, code: str, *, manage: bool = False) -> Market:
    market = market_queries.market_by_code(code)
    if market is None or not permissions.can_view_market(user, market):
        raise NotFound(_("Không tìm thấy chợ “%(code)s”.", code=code))
    if manage and not permissions.can_manage_fees(user, market):
        raise Forbidden()
    return market


def fee_type_out(fee_type: FeeType) -> dict:
    return {
        "id": fee_type.id,
        "code": fee_type.code,
        "name": fee_type.name,
        "kind": fee_type.kind,
        "cycle": fee_type.cycle,
        "unit": fee_type.unit,
        "active": fee_type.active,
        "rates": [
            {"category": r.category, "valid_from": r.valid_from, "amount": r.amount}
            for r in queries.rates_of(fee_type)
        ],
    }


def bill_out(bill: FeeBill, owes: queries.Owed) -> dict:
    return {
        "id": bill.id,
        "market": bill.market.code,
        "stall": bill.stall.code,
        "merchant_name": bill.merchant_name,
        "period": bill.period,
        "cycle": bill.cycle,
        "number": bill.number,
        "reference": bill.reference,
        "total": owes.total,
        "credited": owes.credited,
        "paid": owes.paid,
        "due": owes.due,
        "due_date": bill.due_date,
        "status": bill.status,
        "issued_at": bill.issued_at,
    }


@bp.get("/markets/<code>/fee-types")
@operation(
    summary="List a market's fees with their dated rates",
    tag="fees",
    query=FeeTypeQuerySchema,
    response=page_schema(FeeTypeSchema),
)
def list_fee_types(code: str, query: dict):
    market = _market(api_user(), code)
    page = paginate(
        select(FeeType)
        .where(FeeType.market_id == market.id)
        .order_by(FeeType.position, FeeType.id),
        query["page"],
        query["per_page"],
    )
    return page_of(page, [fee_type_out(row[0]) for row in page.items])


@bp.post("/markets/<code>/fee-types")
@operation(
    summary="Add a fee to a market, with its first rate",
    tag="fees",
    body=FeeTypeCreateSchema,
    response=FeeTypeSchema,
    status=201,
    errors=WRITE_ERRORS,
)
def create_fee_type(code: str, body: dict):
    user = api_user()
    market = _market(user, code, manage=True)
    body["valid_from"] = parse_period(body["valid_from"]).start
    return fee_type_out(services.create_fee_type(user, market, **body))


@bp.post("/markets/<code>/fee-types/<int:type_id>/rates")
@operation(
    summary="Add a rate to a fee from a period on (earlier rates are kept)",
    tag="fees",
    body=RateCreateSchema,
    response=FeeTypeSchema,
    status=201,
    errors=WRITE_ERRORS,
)
def add_rate(code: str, type_id: int, body: dict):
    user = api_user()
    market = _market(user, code, manage=True)
    fee_type = queries.fee_type_of(market, type_id)
    if fee_type is None:
        raise NotFound()
    services.add_rate(
        user,
        fee_type,
        amount=body["amount"],
        valid_from=parse_period(body["valid_from"]).start,
        category=body["category"],
    )
    return fee_type_out(fee_type)


@bp.post("/markets/<code>/bills")
@operation(
    summary="Bill every active stall of a market for a period (idempotent)",
    tag="fees",
    description="Running it again for the same period creates no bill and changes none.",
    body=BillingSchema,
    response=BillingResultSchema,
    errors=WRITE_ERRORS,
)
def bill_market(code: str, body: dict):
    user = api_user()
    result = services.bill_market(user, _market(user, code, manage=True), body["period"])
    return {
        "period": result.period,
        "created": result.created,
        "existing": result.existing,
        "total": result.total,
    }


def _bills_market(user: User, code: str) -> tuple[Market, int | None]:
    """The market whose bills ``user`` may list, and the merchant to limit them to (a
    merchant: their own stalls' bills only)."""
    market = market_queries.market_by_code(code)
    if market is not None and user.role == "merchant" and user.merchant_id is not None:
        return market, user.merchant_id
    if market is None or not permissions.can_view_fees(user, market):
        raise NotFound(_("Không tìm thấy chợ “%(code)s”.", code=code))
    return market, None


@bp.get("/markets/<code>/bills")
@operation(
    summary="List a market's bills (a merchant: their own)",
    tag="fees",
    query=BillQuerySchema,
    response=page_schema(BillSchema),
)
def list_bills(code: str, query: dict):
    market, merchant_id = _bills_market(api_user(), code)
    statement = select(FeeBill).join(Stall, Stall.id == FeeBill.stall_id)
    statement = statement.where(FeeBill.market_id == market.id)
    if merchant_id is not None:
        statement = statement.where(
            FeeBill.merchant_id == merchant_id, Stall.merchant_id == merchant_id
        )
    if query["period"]:
        statement = statement.where(FeeBill.period == query["period"])
    if query["status"]:
        statement = statement.where(FeeBill.status == query["status"])
    page = paginate(
        statement.order_by(FeeBill.period_start.desc(), Stall.code),
        query["page"],
        query["per_page"],
    )
    bills = [row[0] for row in page.items]
    owed = queries.owed(bills)
    return page_of(page, [bill_out(bill, owed[bill.id]) for bill in bills])


@bp.get("/markets/<code>/bills/<number>")
@operation(
    summary="One bill with its lines, credit notes, payments and QR payload",
    tag="fees",
    response=BillDetailSchema,
)
def get_bill(code: str, number: str):
    market, merchant_id = _bills_market(api_user(), code)
    bill = queries.bill_by_number(market, number)
    if bill is None or (
        merchant_id is not None
        and (bill.merchant_id != merchant_id or bill.stall.merchant_id != merchant_id)
    ):
        raise NotFound(_("Không tìm thấy hóa đơn “%(n)s”.", n=number))
    owes = queries.owed([bill])[bill.id]
    out = bill_out(bill, owes)
    out["lines"] = [
        {
            "kind": line.kind,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "amount": line.amount,
        }
        for line in queries.bill_lines(bill)
    ]
    out["credit_notes"] = [
        {"number": n.number, "amount": n.amount, "reason": n.reason, "created_at": n.created_at}
        for n in queries.credit_notes_of(bill)
    ]
    out["payments"] = [
        {"amount": p.amount, "method": p.method, "paid_at": p.paid_at}
        for p in queries.payments_of(bill)
    ]
    out["qr_payload"] = queries.bill_qr_payload(bill, owes.due, queries.paying_account(market.id))
    return out
