"""API shapes of fee payments, receipts and arrears."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from market.api.schemas import UtcDateTime
from market.fees.models import PAYMENT_METHODS
from market.fees.money.services import RECEIPT_NUMBER_MAX
from market.payments.values import NAPAS_LIMIT


class FeePaymentSchema(Schema):
    id = fields.Integer(required=True)
    bill = fields.String(required=True, metadata={"description": "The bill's number."})
    amount = fields.Integer(required=True, metadata={"description": "Whole dong."})
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    paid_at = UtcDateTime(required=True)
    receipt = fields.String(
        required=True, allow_none=True, metadata={"description": "Our receipt's number."}
    )
    cash_receipt_number = fields.String(
        required=True, allow_none=True, metadata={"description": "A paper receipt's number."}
    )


class BillPaymentsSchema(Schema):
    bill = fields.String(required=True)
    reference = fields.String(required=True)
    status = fields.String(required=True)
    total = fields.Integer(required=True)
    credited = fields.Integer(required=True)
    paid = fields.Integer(required=True)
    due = fields.Integer(required=True, metadata={"description": "What the bill still asks."})
    excess = fields.Integer(
        required=True, metadata={"description": "Paid above the total: credit for the next bill."}
    )
    payments = fields.List(fields.Nested(FeePaymentSchema), required=True)


class CashPaymentSchema(Schema):
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(1, NAPAS_LIMIT))
    receipt_number = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=RECEIPT_NUMBER_MAX)
    )
    paid_at = UtcDateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "When it was received (UTC if no offset); defaults to now."},
    )


class ReceiptSchema(Schema):
    number = fields.String(required=True)
    market = fields.String(required=True)
    stall = fields.String(required=True)
    holder = fields.String(required=True)
    bill = fields.String(required=True)
    period = fields.String(required=True)
    amount = fields.Integer(required=True)
    method = fields.String(required=True)
    paid_at = fields.String(required=True, metadata={"description": "As printed (Vietnam time)."})
    recorded_by = fields.String(required=True)
    balance_after = fields.Integer(required=True)
    pdf = fields.String(required=True, metadata={"description": "URL of the printable receipt."})


class OverdueBillSchema(Schema):
    bill = fields.String(required=True)
    reference = fields.String(required=True)
    period = fields.String(required=True)
    due_date = fields.Date(required=True)
    outstanding = fields.Integer(required=True)
    days_overdue = fields.Integer(required=True)
    age = fields.String(required=True, metadata={"description": "1-30, 31-60, 61-90 or 90+."})


class StallArrearsSchema(Schema):
    stall = fields.String(required=True)
    merchant_name = fields.String(required=True)
    total = fields.Integer(required=True)
    bills = fields.List(fields.Nested(OverdueBillSchema), required=True)


class ArrearsSchema(Schema):
    market = fields.String(required=True)
    today = fields.Date(required=True)
    total = fields.Integer(required=True)
    by_age = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    stalls = fields.List(fields.Nested(StallArrearsSchema), required=True)
