"""API shapes of merchants, payee accounts and VietQR payloads."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, validate

from market.api.pagination import PageQuerySchema
from market.api.schemas import Normalized, Text, UtcDateTime
from market.merchants import values
from market.vietqr import all_banks

SERVICES = ("account", "card")
MAX_AMOUNT = 9_999_999_999_999  # 13 digits, what tag 54 can hold


class StallRefSchema(Schema):
    market = fields.String(required=True, metadata={"description": "Market code."})
    code = fields.String(required=True, metadata={"description": "Stall code."})


class MerchantSchema(Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    phone = fields.String(required=True, metadata={"description": "10 digits, e.g. 0912345678."})
    tax_code = fields.String(required=True, allow_none=True)
    consent = fields.Boolean(required=True)
    consent_at = UtcDateTime(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)
    stalls = fields.List(
        fields.Nested(StallRefSchema),
        required=True,
        metadata={"description": "The merchant's stalls that the caller may see."},
    )


class MerchantInSchema(Schema):
    """Who holds a stall. The phone number is the merchant's identity: a known number
    brings that merchant to the stall, a new one creates a merchant."""

    class Meta:
        unknown = RAISE

    full_name = Normalized(
        values.normalize_full_name,
        required=True,
        metadata={"pattern": r"^[^0-9]*[^0-9\s][^0-9]*$", "maxLength": 120},
    )
    phone = Normalized(
        values.normalize_phone,
        required=True,
        metadata={
            "description": "Vietnamese mobile number, e.g. 0912345678 (+84 and spaces are "
            "accepted too).",
            "pattern": r"^0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-9])[0-9]{7}$",
        },
    )
    tax_code = Normalized(
        values.normalize_tax_code,
        allow_none=True,
        load_default=None,
        metadata={"pattern": r"^([0-9]{10}(-[0-9]{3})?|[0-9]{12})$"},
    )
    consent = fields.Boolean(load_default=False)


class MerchantQuerySchema(PageQuerySchema):
    q = Text(
        load_default="",
        validate=validate.Length(max=100),
        metadata={"description": "Part of the name or phone number."},
    )
    market = Text(
        load_default="",
        validate=validate.Length(max=20),
        metadata={"description": "Only merchants with a stall in this market (code)."},
    )


class PayeeSchema(Schema):
    id = fields.Integer(required=True)
    bank_bin = fields.String(required=True)
    bank_name = fields.String(
        required=True, allow_none=True, metadata={"description": "Short name; null if unknown."}
    )
    account_number = fields.String(required=True)
    service = fields.String(required=True, validate=validate.OneOf(SERVICES))
    holder_name = fields.String(required=True)
    is_current = fields.Boolean(required=True)
    verified = fields.Boolean(required=True)
    created_at = UtcDateTime(required=True)
    replaced_at = UtcDateTime(required=True, allow_none=True)
    verified_at = UtcDateTime(required=True, allow_none=True)


class PayeeInSchema(Schema):
    """A new payee account for a stall (the old one is kept in its history)."""

    class Meta:
        unknown = RAISE

    bank = Normalized(
        lambda raw: values.resolve_bank(raw).bin,
        required=True,
        metadata={
            "description": (
                "The bank as people write it: NAPAS BIN (970436), code (VCB), short name "
                "(Vietcombank) or full name, any case, with or without diacritics. A name "
                "that could be several banks is refused with the candidates. Known BINs: "
                + ", ".join(b.bin for b in all_banks())
            ),
            "examples": ["970436", "VCB", "Vietcombank", "Ngân hàng TMCP Ngoại Thương Việt Nam"],
        },
    )
    account_number = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={
            "description": "Account: up to 19 letters or digits; card: 16 to 19 digits.",
            "pattern": "^[0-9A-Za-z]{1,19}$",
        },
    )
    service = fields.String(load_default="account", validate=validate.OneOf(SERVICES))
    holder_name = Normalized(
        values.normalize_holder_name,
        required=True,
        metadata={
            "description": "As the bank shows it; Vietnamese letters are transliterated.",
            "pattern": "^[A-Z][A-Z ]{0,79}$",
        },
    )
    expected_current_id = fields.Integer(
        required=True,
        allow_none=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={
            "description": "The id of the payee you saw as current (null if none): if it has "
            "changed since, the request is refused with 409 instead of overwriting it."
        },
    )

    @post_load
    def normalize_account(self, data: dict, **_kwargs) -> dict:
        # The rule for the number depends on the service, so it is checked after both.
        try:
            data["account_number"] = values.normalize_account_number(
                data["account_number"], data["service"]
            )
        except ValueError as exc:
            raise ValidationError({"account_number": [str(exc)]}) from exc
        return data


class QrPayloadQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    amount = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT),
        metadata={"description": "Whole dong; makes a dynamic (one-payment) code."},
    )
    purpose = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=25),
        metadata={"description": "Transfer note, transliterated to ASCII."},
    )
    preview = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Managers only: return the payload of a payee not yet verified "
            "(to check it before confirming). Without it such a payee answers 409, as the "
            "stickers and the public QR do."
        },
    )


class QrPayloadSchema(Schema):
    payload = fields.String(required=True, metadata={"description": "The NAPAS VietQR text."})
    payee_id = fields.Integer(required=True)
    verified = fields.Boolean(
        required=True, metadata={"description": "Whether a manager has verified the payee."}
    )
    bank_bin = fields.String(required=True)
    bank_name = fields.String(required=True, allow_none=True)
    account_number = fields.String(required=True)
    service = fields.String(required=True, validate=validate.OneOf(SERVICES))
    holder_name = fields.String(required=True)
    amount = fields.Integer(required=True, allow_none=True)
    purpose = fields.String(required=True, allow_none=True)
    dynamic = fields.Boolean(required=True, metadata={"description": "Has an amount."})
