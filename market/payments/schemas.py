"""Webhook payloads as SePay and Casso document them, loaded into one ``Transfer`` shape.

SePay (developer.sepay.vn/en/sepay-webhooks, "Integrate webhook"): a flat JSON object::

    {"id": 92704, "gateway": "Vietcombank", "transactionDate": "2023-03-25 14:02:37",
     "accountNumber": "0123499999", "code": null, "content": "payment content",
     "transferType": "in", "transferAmount": 2277000, "accumulated": 19077000,
     "subAccount": null, "referenceCode": "MBVCB.3278907687", "description": ""}

``id`` is SePay's transaction id (the key to deduplicate on), ``transferType`` is ``in`` or
``out``, ``code`` the payment code SePay recognised in the content (if configured).

Casso webhook v2 (developer.casso.vn, "Thiết lập Webhook thủ công")::

    {"error": 0, "data": {"id": 0, "reference": "MA_GIAO_DICH_THU_NGHIEM",
     "description": "giao dich thu nghiem", "amount": 599000, "runningBalance": 25000000,
     "transactionDateTime": "2024-10-03 15:06:37", "accountNumber": "88888888",
     "bankName": "VPBank", "bankAbbreviation": "VPB", "virtualAccountNumber": "", ...}}

``amount`` is negative for money going out. Fields we do not use are ignored (both providers
add fields over time), but those we use are type-checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_DIGITS = re.compile(r"-?[0-9]+")
_PLAIN_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}")


@dataclass(frozen=True, slots=True)
class Transfer:
    """One bank transfer as a notification describes it, whatever the provider."""

    provider: str
    event_id: str
    direction: str  # "in" | "out"
    amount: int  # dong, never negative
    account_number: str
    sub_account: str
    bank: str
    content: str
    reference_code: str
    transaction_at: datetime | None  # UTC
    # The sender's name when the notifier gives one (Casso's counterAccountName), for the
    # merchant's screens and statements; "" when it does not (SePay sends none).
    payer_name: str = ""


def squeeze_name(text: str | None) -> str:
    """A payer's name as shown to a merchant: one line, single spaces, at most 100 characters.

    >>> squeeze_name("  NGUYEN   VAN\nA ")
    'NGUYEN VAN A'
    """
    return " ".join((text or "").split())[:100]


#: The largest transfer a notification may carry, either way: ten trillion dong, far above
#: any bank's limit, and far enough below the 64-bit columns (amounts, and the per-day sums
#: of the rollups) that no signed notification can overflow them.
MAX_DONG = 10**13


class Dong(fields.Field):
    """A whole number of dong: a JSON integer, an integral float or a string of digits, at
    most :data:`MAX_DONG` either way."""

    default_error_messages = {"invalid": "Not a whole number of dong."}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int):
            amount = value
        elif isinstance(value, float) and value.is_integer():
            amount = int(value)
        elif isinstance(value, str) and len(value) <= 40 and _DIGITS.fullmatch(value.strip()):
            amount = int(value.strip())
        else:
            raise self.make_error("invalid")
        if abs(amount) > MAX_DONG:
            raise self.make_error("invalid")
        return amount


class EventId(fields.Field):
    """A provider's transaction id, an integer or a string, kept as text."""

    default_error_messages = {"invalid": "Not a transaction id."}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self.make_error("invalid")
        text = str(value).strip()
        if not text or len(text) > 64:
            raise self.make_error("invalid")
        return text


def vietnam_time(text: str | None) -> datetime | None:
    """'2023-03-25 14:02:37' (Vietnam time, as both providers send it) -> aware UTC datetime."""
    if not text:
        return None
    text = text.strip()
    if _PLAIN_DATETIME.fullmatch(text):
        # The form both providers send, on every notification: read by the C parser, 20 times
        # faster than strptime, once it is known to be exactly that form.
        try:
            return datetime.fromisoformat(text).replace(tzinfo=VN_TZ).astimezone(UTC)
        except ValueError:
            return None
    for fmt in _DATETIME_FORMATS:
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=VN_TZ).astimezone(UTC)
    return None


def _text(**kwargs: Any) -> fields.String:
    return fields.String(load_default="", allow_none=True, **kwargs)


class SePaySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = EventId(required=True)
    gateway = _text()
    transactionDate = _text()
    accountNumber = _text()
    code = _text()
    content = _text()
    transferType = fields.String(required=True, validate=validate.OneOf(["in", "out"]))
    transferAmount = Dong(required=True)
    accumulated = Dong(load_default=None, allow_none=True)
    subAccount = _text()
    referenceCode = _text()
    description = _text()

    @post_load
    def to_transfer(self, data: dict[str, Any], **kwargs: Any) -> Transfer:
        if data["transferAmount"] < 0:
            raise ValidationError("Must not be negative.", field_name="transferAmount")
        content = data["content"] or data["description"] or ""
        if data["code"]:
            content = f"{content} {data['code']}".strip()
        return Transfer(
            provider="sepay",
            event_id=data["id"],
            direction=data["transferType"],
            amount=data["transferAmount"],
            account_number=(data["accountNumber"] or "").strip(),
            sub_account=(data["subAccount"] or "").strip(),
            bank=data["gateway"] or "",
            content=content,
            reference_code=(data["referenceCode"] or "")[:100],
            transaction_at=vietnam_time(data["transactionDate"]),
        )


class CassoTransactionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = EventId(required=True)
    reference = _text()
    description = _text()
    amount = Dong(required=True)
    runningBalance = Dong(load_default=None, allow_none=True)
    transactionDateTime = _text()
    accountNumber = _text()
    bankName = _text()
    bankAbbreviation = _text()
    virtualAccountNumber = _text()
    virtualAccountName = _text()
    counterAccountName = _text()
    counterAccountNumber = _text()
    counterAccountBankId = _text()
    counterAccountBankName = _text()


class CassoSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    error = fields.Integer(load_default=0)
    data = fields.Nested(CassoTransactionSchema, required=True)

    @post_load
    def to_transfer(self, payload: dict[str, Any], **kwargs: Any) -> Transfer:
        data = payload["data"]
        amount = data["amount"]
        return Transfer(
            provider="casso",
            event_id=data["id"],
            direction="out" if amount < 0 else "in",
            amount=abs(amount),
            account_number=(data["accountNumber"] or "").strip(),
            sub_account=(data["virtualAccountNumber"] or "").strip(),
            bank=data["bankAbbreviation"] or data["bankName"] or "",
            content=data["description"] or "",
            reference_code=(data["reference"] or "")[:100],
            transaction_at=vietnam_time(data["transactionDateTime"]),
            payer_name=squeeze_name(data["counterAccountName"]),
        )


# One instance each, made once: building a Schema costs more than loading a payload with it.
SCHEMAS: dict[str, Schema] = {"sepay": SePaySchema(), "casso": CassoSchema()}


class OrderStatusSchema(Schema):
    """What the collect screen polls: the order, and what to show and say about it."""

    reference = fields.String()
    status = fields.String()
    amount = fields.Integer()
    received_amount = fields.Integer()
    amount_text = fields.String()
    received_text = fields.String()
    due_amount = fields.Integer()  # what the QR asks for now; 0 once paid (the QR is hidden)
    shown_label = fields.String()
    shown_text = fields.String()
    message = fields.String()
    speech = fields.String(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    payload = fields.String()
    qr_url = fields.String()
    pay_url = fields.String()  # the pay page with amount and reference, to share with a shopper
    card_url = fields.String()
    status_url = fields.String()
    order_url = fields.String()
