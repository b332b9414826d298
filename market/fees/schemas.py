"""API shapes of fee types, rates and bills."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from market.api.pagination import PageQuerySchema
from market.api.schemas import Text, UtcDateTime
from market.fees.models import BILL_STATUSES, CYCLES, FEE_KINDS, LINE_KINDS, PAYMENT_METHODS
from market.fees.values import InvalidPeriod, parse_period
from market.markets.models import GOODS_CATEGORIES

MAX_DONG = 10**12


def _check_period(value: str) -> None:
    try:
        parse_period(value)
    except InvalidPeriod as exc:
        raise ValidationError(
            str(
                _l(
                    "Kỳ “%(v)s” phải có dạng NNNN-TT (một tháng) hoặc NNNN-TT-NN (một ngày).",
                    v=value,
                )
            )
        ) from exc


def _check_optional_period(value: str) -> None:
    if value:
        _check_period(value)


class RateSchema(Schema):
    category = fields.String(
        required=True,
        metadata={"description": "Goods category of a rent_category rate; '' for all."},
    )
    valid_from = fields.Date(required=True)
    amount = fields.Integer(required=True, metadata={"description": "Whole dong."})


class FeeTypeSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(tuple(FEE_KINDS)))
    cycle = fields.String(required=True, validate=validate.OneOf(tuple(CYCLES)))
    unit = fields.String(required=True)
    active = fields.Boolean(required=True)
    rates = fields.List(
        fields.Nested(RateSchema), required=True, metadata={"description": "Newest first."}
    )


class FeeTypeQuerySchema(PageQuerySchema):
    pass


class RateCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    amount = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_DONG),
        metadata={"description": "Whole dong, per stall, per m² or per unit."},
    )
    valid_from = fields.String(
        required=True,
        validate=_check_period,
        metadata={"description": "The first period it applies to: YYYY-MM (or YYYY-MM-DD)."},
    )
    category = fields.String(load_default="", validate=validate.OneOf(("", *GOODS_CATEGORIES)))


class FeeTypeCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Z0-9][A-Z0-9-]{0,19}$",
            error=str(_l("Mã chỉ gồm chữ in hoa không dấu, chữ số và gạch ngang.")),
        ),
    )
    name = Text(required=True, validate=validate.Length(min=1, max=80))
    kind = fields.String(required=True, validate=validate.OneOf(tuple(FEE_KINDS)))
    cycle = fields.String(load_default="monthly", validate=validate.OneOf(tuple(CYCLES)))
    unit = Text(load_default="", validate=validate.Length(max=10))
    amount = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_DONG)
    )
    valid_from = fields.String(required=True, validate=_check_period)


class BillLineSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(LINE_KINDS))
    description = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_price = fields.Integer(required=True)
    amount = fields.Integer(required=True)


class BillPaymentSchema(Schema):
    amount = fields.Integer(required=True)
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    paid_at = UtcDateTime(required=True)


class BillCreditNoteSchema(Schema):
    number = fields.String(required=True)
    amount = fields.Integer(required=True)
    reason = fields.String(required=True)
    created_at = UtcDateTime(required=True)


class BillSchema(Schema):
    id = fields.Integer(required=True)
    market = fields.String(required=True)
    stall = fields.String(required=True)
    merchant_name = fields.String(required=True)
    period = fields.String(required=True)
    cycle = fields.String(required=True, validate=validate.OneOf(tuple(CYCLES)))
    number = fields.String(required=True)
    reference = fields.String(
        required=True, metadata={"description": "Payment reference, in VietQR tag 62.08."}
    )
    total = fields.Integer(required=True)
    credited = fields.Integer(required=True)
    paid = fields.Integer(required=True)
    due = fields.Integer(required=True, metadata={"description": "What is still to pay."})
    due_date = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(BILL_STATUSES))
    issued_at = UtcDateTime(required=True)


class BillDetailSchema(BillSchema):
    lines = fields.List(fields.Nested(BillLineSchema), required=True)
    credit_notes = fields.List(fields.Nested(BillCreditNoteSchema), required=True)
    payments = fields.List(fields.Nested(BillPaymentSchema), required=True)
    qr_payload = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "VietQR text paying what is due into the board's verified account "
            "(null when nothing is due or the account is not verified)."
        },
    )


class BillQuerySchema(PageQuerySchema):
    period = fields.String(load_default="", validate=_check_optional_period)
    status = fields.String(load_default="", validate=validate.OneOf(("", *BILL_STATUSES)))


class BillingSchema(Schema):
    class Meta:
        unknown = RAISE

    period = fields.String(required=True, validate=_check_period)


class BillingResultSchema(Schema):
    period = fields.String(required=True)
    created = fields.Integer(required=True)
    existing = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "Of the bills created."})
