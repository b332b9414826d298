"""API shapes of markets and stalls."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate

from market.api.pagination import PageQuerySchema
from market.api.schemas import CODE_PATTERN, Text, UtcDateTime
from market.markets.forms import normalize_code
from market.markets.models import (
    DISTRICTS,
    FORMER_PROVINCES,
    GOODS_CATEGORIES,
    MARKET_STATUSES,
    STALL_STATUSES,
)
from market.markets.queries import QR_STATES
from market.merchants.schemas import PayeeSchema

CATEGORIES = tuple(GOODS_CATEGORIES)


class Code(fields.String):
    """A market or stall code: spaces removed, upper case, e.g. ``A-12``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "validate",
            validate.Regexp(
                CODE_PATTERN,
                error=str(
                    _l(
                        "Mã chỉ gồm chữ in hoa, chữ số và dấu gạch ngang (tối đa 20 ký tự), ví dụ A-12."
                    )
                ),
            ),
        )
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return normalize_code(super()._deserialize(value, attr, data, **kwargs))


class AdminUnitSchema(Schema):
    code = fields.String(required=True, allow_none=True, metadata={"description": "GSO code."})
    name = fields.String(required=True, metadata={"description": "e.g. `Phan Đình Phùng`."})
    kind = fields.String(required=True, metadata={"description": "`xa`, `phuong` or `dac_khu`."})
    full_name = fields.String(required=True, metadata={"description": "`Phường Phan Đình Phùng`."})
    province = fields.String(required=True)


class MarketSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    admin_unit = fields.Nested(
        AdminUnitSchema,
        required=True,
        allow_none=True,
        metadata={"description": "The commune or ward the market is in today."},
    )
    district = fields.String(
        required=True, metadata={"description": "Former district (before 1 July 2025)."}
    )
    commune = fields.String(required=True, metadata={"description": "Former commune."})
    former_province = fields.String(required=True)
    address = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(MARKET_STATUSES))
    launch_date = fields.Date(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)
    stalls = fields.Integer(required=True, metadata={"description": "Number of stalls."})
    stalls_ready = fields.Integer(
        required=True, metadata={"description": "Active stalls with a verified payee."}
    )


class MarketUpdateSchema(Schema):
    """The fields of a market that may change (the code never does)."""

    class Meta:
        unknown = RAISE

    name = Text(validate=validate.Length(min=1, max=120))
    admin_unit = Text(
        allow_none=True,
        validate=validate.Length(max=120),
        metadata={"description": "Commune or ward today: its code or name (`Phường Gia Sàng`)."},
    )
    district = fields.String(validate=validate.OneOf(("", *DISTRICTS)))
    commune = Text(validate=validate.Length(max=80))
    former_province = fields.String(validate=validate.OneOf(FORMER_PROVINCES))
    address = Text(validate=validate.Length(max=200))
    status = fields.String(validate=validate.OneOf(MARKET_STATUSES))
    launch_date = fields.Date(allow_none=True)


class MarketCreateSchema(MarketUpdateSchema):
    code = Code(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    district = fields.String(load_default="", validate=validate.OneOf(("", *DISTRICTS)))
    commune = Text(load_default="", validate=validate.Length(max=80))
    address = Text(load_default="", validate=validate.Length(max=200))
    status = fields.String(load_default="planned", validate=validate.OneOf(MARKET_STATUSES))
    launch_date = fields.Date(load_default=None, allow_none=True)


class MarketQuerySchema(PageQuerySchema):
    q = Text(
        load_default="",
        validate=validate.Length(max=100),
        metadata={"description": "Part of the name or code."},
    )
    district = fields.String(load_default="", validate=validate.OneOf(("", *DISTRICTS)))
    status = fields.String(load_default="", validate=validate.OneOf(("", *MARKET_STATUSES)))


class MerchantBriefSchema(Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    phone = fields.String(required=True)


class StallSchema(Schema):
    market = fields.String(required=True, metadata={"description": "Market code."})
    code = fields.String(required=True)
    zone = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    status = fields.String(required=True, validate=validate.OneOf(STALL_STATUSES))
    qr_state = fields.String(
        required=True,
        validate=validate.OneOf(QR_STATES),
        metadata={
            "description": "ready; reprint (the sticker shows an older payee); unverified; "
            "missing (no payee); inactive (stall not active)."
        },
    )
    merchant = fields.Nested(MerchantBriefSchema, required=True, allow_none=True)
    payee = fields.Nested(PayeeSchema, required=True, allow_none=True)
    sticker_printed_at = UtcDateTime(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)


class StallUpdateSchema(Schema):
    class Meta:
        unknown = RAISE

    code = Code()
    zone = Text(validate=validate.Length(max=40))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    status = fields.String(validate=validate.OneOf(STALL_STATUSES))


class StallCreateSchema(StallUpdateSchema):
    code = Code(required=True)
    zone = Text(load_default="", validate=validate.Length(max=40))
    category = fields.String(load_default="khac", validate=validate.OneOf(CATEGORIES))
    status = fields.String(load_default="active", validate=validate.OneOf(STALL_STATUSES))


class StallQuerySchema(PageQuerySchema):
    q = Text(
        load_default="",
        validate=validate.Length(max=100),
        metadata={"description": "Part of the stall code, merchant, phone or account."},
    )
    status = fields.String(load_default="", validate=validate.OneOf(("", *STALL_STATUSES)))
    qr = fields.String(load_default="", validate=validate.OneOf(("", *QR_STATES)))
