"""API views of fee payments: a bill's payments and receipts, cash, receipts, arrears."""

from __future__ import annotations

from flask import Blueprint, url_for
from flask_babel import gettext as _

from market.api.operations import WRITE_ERRORS, operation
from market.api.tokens import api_user
from market.auth import permissions
from market.auth.models import utcnow
from market.errors import Forbidden, NotFound
from market.fees import queries as fee_queries
from market.fees.models import FeeBill
from market.fees.money import queries, services
from market.fees.money.schemas import (
    ArrearsSchema,
    BillPaymentsSchema,
    CashPaymentSchema,
    FeePaymentSchema,
    ReceiptSchema,
)
from market.markets.models import Market
from market.markets.queries import market_by_code

bp = Blueprint("fee_money", __name__)


def _market(code: str, *, manage: bool = False) -> Market:
    user = api_user()
    market = market_by_code(code)
    if market is None or not permissions.can_view_fees(user, market):
        raise NotFound(_("Không tìm thấy chợ “%(code)s”.", code=code))
    if manage and not permissions.can_manage_fees(user, market):
        raise Forbidden()
    return market


def _bill(market: Market, number: str) -> FeeBill:
    bill = fee_queries.bill_by_number(market, number)
    if bill is None:
        raise NotFound(_("Không tìm thấy hóa đơn."))
    return bill


def _payments_out(bill: FeeBill) -> dict:
    owed = fee_queries.owed([bill])[bill.id]
    return {
        "bill": bill.number,
        "reference": bill.reference,
        "status": bill.status,
        "total": owed.total,
        "credited": owed.credited,
        "paid": owed.paid,
        "due": owed.due,
        "excess": owed.excess,
        "payments": [_payment_out(bill, p, r) for p, r in queries.bill_payments(bill)],
    }


def _payment_out(bill: FeeBill, payment, receipt) -> dict:
    return {
        "id": payment.id,
        "bill": bill.number,
        "amount": payment.amount,
        "method": payment.method,
        "paid_at": payment.paid_at,
        "receipt": receipt.number if receipt else None,
        "cash_receipt_number": payment.receipt_number,
    }


@bp.get("/markets/<code>/fees/bills/<number>/payments")
@operation(
    summary="A bill's payments, each with its receipt, and what the bill still asks",
    tag="fees",
    description="The market's managers and helpers, and the province.",
    response=BillPaymentsSchema,
)
def bill_payments(code: str, number: str):
    return _payments_out(_bill(_market(code), number))


@bp.post("/markets/<code>/fees/bills/<number>/payments")
@operation(
    summary="Record cash paid on a bill (a numbered receipt is issued; audit-logged)",
    tag="fees",
    description="The market's managers and the province.",
    body=CashPaymentSchema,
    response=FeePaymentSchema,
    status=201,
    errors=WRITE_ERRORS,
)
def record_cash(code: str, number: str, body: dict):
    market = _market(code, manage=True)
    bill = _bill(market, number)
    payment = services.record_cash(
        api_user(),
        bill,
        amount=body["amount"],
        receipt=body["receipt_number"],
        paid_at=body["paid_at"],
        now=utcnow(),
    )
    return _payment_out(bill, payment, queries.receipt_of(payment))


def _receipt_out(market: Market, payment_id: int, slip) -> dict:
    return {
        "number": slip.number,
        "market": market.code,
        "stall": slip.stall_code,
        "holder": slip.holder_name,
        "bill": slip.bill_number,
        "period": slip.period_label,
        "amount": slip.amount,
        "method": slip.method_label,
        "paid_at": slip.paid_at,
        "recorded_by": slip.recorded_by,
        "balance_after": slip.balance_after,
        "pdf": url_for(
            "fee_money.market_receipt", code=market.code, payment_id=payment_id, _external=True
        ),
    }


@bp.get("/markets/<code>/fees/receipts/<number>")
@operation(
    summary="A receipt by its number",
    tag="fees",
    description="The market's managers and helpers, and the province.",
    response=ReceiptSchema,
)
def receipt(code: str, number: str):
    market = _market(code)
    found = queries.receipt_by_number(market, number)
    slip = queries.receipt_slip(found.payment_id, market.id) if found else None
    if slip is None:
        raise NotFound(_("Không tìm thấy biên lai."))
    return _receipt_out(market, found.payment_id, slip)


@bp.get("/markets/<code>/fees/arrears")
@operation(
    summary="The market's bills unpaid after their due date, by stall and by age",
    tag="fees",
    description="The market's managers and helpers, and the province.",
    response=ArrearsSchema,
)
def arrears(code: str):
    market = _market(code)
    report = queries.arrears(market, now=utcnow())
    return {
        "market": market.code,
        "today": report.today,
        "total": report.total,
        "by_age": report.by_bucket,
        "stalls": [
            {
                "stall": s.stall_code,
                "merchant_name": s.merchant_name,
                "total": s.total,
                "bills": [
                    {
                        "bill": b.number,
                        "reference": b.reference,
                        "period": b.period,
                        "due_date": b.due_date,
                        "outstanding": b.outstanding,
                        "days_overdue": b.days,
                        "age": b.bucket,
                    }
                    for b in s.bills
                ],
            }
            for s in report.stalls
        ],
    }


@bp.get("/me/bills/<int:bill_id>/payments")
@operation(
    summary="A merchant's own bill: its payments and receipts",
    tag="fees",
    description="The merchant who holds the bill's stall; anyone else gets 404.",
    response=BillPaymentsSchema,
)
def my_bill_payments(bill_id: int):
    user = api_user()
    bill = (
        fee_queries.merchant_bill(user.merchant_id, bill_id)
        if user.role == "merchant" and user.merchant_id
        else None
    )
    if bill is None:
        raise NotFound(_("Không tìm thấy hóa đơn."))
    return _payments_out(bill)
